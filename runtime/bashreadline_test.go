package runtime_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// openPty opens a pseudo-terminal: its master, and its slave for a
// child's standard files.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlocking the pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("naming the pty: %v", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("opening the pty: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// The bashreadline tool, as bpftrace ships it, prints the commands typed
// into an interactive bash: a uretprobe on bash's readline(), whose
// result (a char * in bash's memory) str() reads. The test types into a
// bash on a pseudo-terminal, where it runs readline as it does for a user.
func TestBashReadline(t *testing.T) {
	kerneltest.Require(t)
	if _, err := os.Stat("/bin/bash"); err != nil {
		kerneltest.SkipOrFail(t, "no /bin/bash: %v", err)
	}
	file := "../testdata/tools/bashreadline.gt"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := runtime.Compile(file, string(src), runtime.CompileOptions{})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	master, slave := openPty(t)
	bash := exec.Command("/bin/bash", "--norc", "--noprofile", "-i")
	bash.Stdin, bash.Stdout, bash.Stderr = slave, slave, slave
	bash.Env = []string{"TERM=dumb", "PS1=$ ", "HOME=/", "PATH=/usr/bin:/bin"}
	bash.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	// The terminal's output is read, or bash would stop when the pty's
	// buffer is full.
	go io.Copy(io.Discard, master)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	var berr error
	_, err = s.Run(ctx, runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, OnAttached: func() {
		defer cancel()
		if berr = bash.Start(); berr != nil {
			return
		}
		if _, berr = io.WriteString(master, "echo gotrace-was-here\n"); berr != nil {
			return
		}
		if _, berr = io.WriteString(master, "exit\n"); berr != nil {
			return
		}
		done := make(chan error, 1)
		go func() { done <- bash.Wait() }()
		select {
		case berr = <-done:
		case <-time.After(20 * time.Second):
			bash.Process.Kill()
			berr = <-done
		}
		// Records still on their way are read before the run ends:
		// exit's uretprobe fires as bash exits.
		time.Sleep(100 * time.Millisecond)
	}})
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	if berr != nil {
		t.Fatalf("bash: %v", berr)
	}
	pid := strconv.Itoa(bash.Process.Pid)
	got := out.String()
	for _, re := range []string{
		`^Tracing bash commands\.\.\. Hit Ctrl-C to end\.\nTIME      PID    COMMAND\n`,
		`(?m)^\d\d:\d\d:\d\d  ` + pid + ` +echo gotrace-was-here$`,
		`(?m)^\d\d:\d\d:\d\d  ` + pid + ` +exit$`,
	} {
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("output does not match %s:\n%s", re, got)
		}
	}
}
