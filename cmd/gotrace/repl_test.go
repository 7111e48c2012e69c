package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// Keys as a terminal sends them.
const (
	keyEnter = "\r"
	keyTab   = "\t"
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
	keyUp    = "\x1b[A"
)

// ptySession is the gotrace binary running on a pseudo-terminal, as a
// person would run it.
type ptySession struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File

	mu  sync.Mutex
	out bytes.Buffer // everything written to the terminal
	// seen is how much of the terminal's text (see text) expect has
	// consumed.
	seen int
	done chan struct{} // closed when the process has exited
	err  error         // from cmd.Wait, once done is closed
}

// openPTY opens a pseudo-terminal pair, 40 rows of 200 columns (liner
// needs a width).
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0)
	}
	if err == nil {
		err = unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 200})
	}
	if err == nil {
		slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// startREPL runs `gotrace` with no arguments on a new terminal, with HOME
// and XDG_STATE_HOME in dir, and waits for its prompt.
func startREPL(t *testing.T, dir string) *ptySession {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	s := &ptySession{t: t, master: master, done: make(chan struct{})}
	s.cmd = exec.Command(gotraceBin)
	s.cmd.Env = append(childEnv(), "HOME="+dir, "XDG_STATE_HOME="+filepath.Join(dir, "state"), "TERM=xterm")
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = slave, slave, slave
	// A session of its own with the terminal as its controlling
	// terminal, so that Ctrl-C there sends SIGINT to gotrace.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return // EIO once the terminal's last user is gone
			}
		}
	}()
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the terminal showed:\n%s", s.text())
		}
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
		master.Close()
	})
	s.expect("gotrace> ")
	return s
}

// text is what the terminal showed, without control sequences and
// carriage returns: what expect searches.
func (s *ptySession) text() string {
	// The control sequences liner writes, and one cut off at the end of
	// what was read so far.
	escapes := regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b\[?[0-9;?]*$|\r`)
	s.mu.Lock()
	defer s.mu.Unlock()
	return escapes.ReplaceAllString(s.out.String(), "")
}

// send types keys.
func (s *ptySession) send(keys string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(keys)); err != nil {
		s.t.Fatalf("typing %q: %v", keys, err)
	}
}

// expect waits until want appears in what the terminal shows after what
// earlier expects consumed, consumes up to its end and returns the text
// from where the search started.
func (s *ptySession) expect(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(runTimeout)
	for {
		text := s.text()
		from := min(s.seen, len(text))
		if i := strings.Index(text[from:], want); i >= 0 {
			s.seen = from + i + len(want)
			return text[from:s.seen]
		}
		select {
		case <-s.done:
			// Let the reader catch the last output before giving up.
			time.Sleep(100 * time.Millisecond)
			if text := s.text(); strings.Contains(text[min(s.seen, len(text)):], want) {
				continue
			}
			s.t.Fatalf("gotrace exited (%v) without showing %q; the terminal showed after what was expected before:\n%s", s.err, want, text[from:])
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the terminal did not show %q within %v; it showed after what was expected before:\n%s", want, runTimeout, text[from:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for gotrace to exit and returns its exit status.
func (s *ptySession) wait() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(runTimeout):
		s.t.Fatalf("gotrace did not exit within %v; the terminal showed:\n%s", runTimeout, s.text())
	}
	var ee *exec.ExitError
	if s.err != nil && !errors.As(s.err, &ee) {
		s.t.Fatal(s.err)
	}
	if !s.cmd.ProcessState.Exited() {
		s.t.Fatalf("gotrace: %v; the terminal showed:\n%s", s.cmd.ProcessState, s.text())
	}
	return s.cmd.ProcessState.ExitCode()
}

// TestREPL drives an interactive session on a pseudo-terminal as a
// person would: tab completion of a probe, a trace whose events appear,
// Ctrl-C that stops it, prints its maps and returns to the prompt, a
// second trace that adds to the first's map, statements and a program
// over several lines that read it, :maps, :clear, :quit; then a second
// session whose history holds the first one's inputs.
func TestREPL(t *testing.T) {
	kerneltest.Require(t)
	dir := t.TempDir()
	s := startREPL(t, dir)

	// Completion: the category, then the event.
	s.send("tracepoint:sysc" + keyTab)
	s.expect("tracepoint:syscalls:")
	s.send("sys_enter_getpp" + keyTab)
	s.expect("tracepoint:syscalls:sys_enter_getppid")
	trace := kerneltest.Script(` /comm == "gtwork"/ { @n = count(); printf("tick %d\n", @n); }`)
	s.send(trace + keyEnter)
	s.expect("Attached 1 probe")
	if err := kerneltest.Workload("getppid 3").Run(); err != nil {
		t.Fatal(err)
	}
	s.expect("tick 1\ntick 2\ntick 3\n")
	s.send(keyCtrlC)
	if got := s.expect("gotrace> "); !strings.HasSuffix(got, "\n\n@n: 3\ngotrace> ") {
		t.Fatalf("after Ctrl-C the terminal showed %q; want the map, then the prompt", got)
	}

	// A second trace goes on counting: the first's @n is in the session.
	s.send(keyUp)
	s.expect(trace)
	s.send(keyEnter)
	s.expect("Attached 1 probe")
	if err := kerneltest.Workload("getppid 2").Run(); err != nil {
		t.Fatal(err)
	}
	s.expect("tick 4\ntick 5\n")
	s.send(keyCtrlC)
	if got := s.expect("gotrace> "); !strings.HasSuffix(got, "\n\n@n: 5\ngotrace> ") {
		t.Fatalf("after the second Ctrl-C the terminal showed %q; want @n: 5, then the prompt", got)
	}

	// A map's name prints it; a program over several lines reads it.
	s.send("@n" + keyEnter)
	s.expect("@n\n@n: 5\ngotrace> ")
	s.send("BEGIN {" + keyEnter)
	s.expect("     ... ")
	s.send(`printf("twice %d\n", @n * 2); exit(); }` + keyEnter)
	s.expect("twice 10\n")
	s.expect("gotrace> ")
	s.send("@n = 7; @m = 1" + keyEnter)
	s.expect("gotrace> ")
	s.send(":maps" + keyEnter)
	s.expect(":maps\n@m: 1\n@n: 7\ngotrace> ")
	s.send(":clear @m" + keyEnter)
	s.expect("gotrace> ")
	s.send(":maps" + keyEnter)
	s.expect(":maps\n@n: 7\ngotrace> ")

	// Ctrl-C at the prompt says how to leave; :quit leaves.
	s.send(keyCtrlC)
	s.expect("(type :quit or press Ctrl-D to leave)")
	s.expect("gotrace> ")
	s.send(":quit" + keyEnter)
	if status := s.wait(); status != 0 {
		t.Fatalf("exit status %d after :quit, want 0", status)
	}

	history, err := os.ReadFile(filepath.Join(dir, "state", "gotrace", "history"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"tracepoint:syscalls:sys_enter_getppid" + trace,
		"@n",
		`BEGIN { printf("twice %d\n", @n * 2); exit(); }`,
		"@n = 7; @m = 1",
		":maps",
		":clear @m",
		":maps",
		":quit",
	}, "\n") + "\n"
	if string(history) != want {
		t.Errorf("history file:\n%s\nwant:\n%s", history, want)
	}

	// A second session recalls the first one's inputs; Ctrl-D leaves.
	s = startREPL(t, dir)
	s.send(keyUp)
	s.expect(":quit")
	s.send(keyUp + keyUp + keyUp + keyUp)
	s.expect("@n = 7; @m = 1")
	s.send(keyCtrlC)
	s.expect("gotrace> ")
	s.send(keyCtrlD)
	if status := s.wait(); status != 0 {
		t.Fatalf("exit status %d after Ctrl-D, want 0", status)
	}
}

// TestREPLNoTerminal checks that without a terminal, `gotrace` and
// `gotrace repl` read the program from stdin, as `gotrace -` does, with
// no prompt; with nothing on stdin there is no program.
func TestREPLNoTerminal(t *testing.T) {
	t.Run("empty stdin", func(t *testing.T) {
		gotrace(t, "", "repl").check(t, "", "gotrace: no program given\n\n"+usage, 2)
	})
	kerneltest.Require(t)
	program := `BEGIN { @x = 2; printf("piped, %d params\n", $#); exit(); }`
	cases := []struct {
		args   []string
		stdout string
	}{
		{[]string{"-q"}, "piped, 0 params\n\n\n@x: 2\n"},
		{[]string{"-q", "repl"}, "piped, 0 params\n\n\n@x: 2\n"},
		{[]string{"-q", "repl", "a"}, "piped, 1 params\n\n\n@x: 2\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			gotrace(t, program, c.args...).check(t, c.stdout, "", 0)
		})
	}
}

// TestREPLSigterm checks SIGTERM: during a trace it stops the trace as
// Ctrl-C does (END runs, the maps print) and then ends the session; at
// the prompt it ends the session at once.
func TestREPLSigterm(t *testing.T) {
	kerneltest.Require(t)
	t.Run("during a trace", func(t *testing.T) {
		s := startREPL(t, t.TempDir())
		s.send(kerneltest.Script(`tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @n = count(); } END { printf("end\n"); }`) + keyEnter)
		s.expect("Attached 2 probes")
		if err := kerneltest.Workload("getppid 4").Run(); err != nil {
			t.Fatal(err)
		}
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		s.expect("end\n\n\n@n: 4\n")
		if status := s.wait(); status != 0 {
			t.Fatalf("exit status %d, want 0", status)
		}
	})
	t.Run("at the prompt", func(t *testing.T) {
		s := startREPL(t, t.TempDir())
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if status := s.wait(); status != 128+int(syscall.SIGTERM) {
			t.Fatalf("exit status %d, want %d", status, 128+int(syscall.SIGTERM))
		}
	})
}
