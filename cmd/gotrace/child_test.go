package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// TestCommand checks -c: the command's process exists before the probes
// are attached, so BEGIN (which runs before it) already knows its PID as
// cpid, but waits for them, so they see it from its execve on; gotrace
// ends when it exits.
func TestCommand(t *testing.T) {
	kerneltest.Require(t)
	dir := t.TempDir()
	// A shell script prints its PID, the PID the kernel kept when it ran
	// the interpreter, and exits.
	script := filepath.Join(dir, "pid.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"child $$\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// No probe calls exit(): the run ends because the command does. The
	// trace goes to a file (-o), the command's output to stdout, so that
	// the two processes' writes cannot interleave.
	out := filepath.Join(dir, "trace")
	r := gotrace(t, "", "-o", out, "-c", script+" some args", "-e", `BEGIN { printf("cpid %d\n", cpid); }
tracepoint:syscalls:sys_enter_execve /pid == cpid/ { printf("exec %s\n", str(args.filename)); }
tracepoint:sched:sched_process_exit /pid == cpid/ { printf("exit %d\n", pid); }`)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^cpid (\d+)\n`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("the trace %q does not start with cpid", b)
	}
	r.check(t, "child "+m[1]+"\n", "Attached 3 probes\n", 0)
	if want := fmt.Sprintf("cpid %s\nexec %s\nexit %s\n\n\n", m[1], script, m[1]); string(b) != want {
		t.Errorf("trace: %s", diff(string(b), want))
	}

	runCases(t, []cliCase{
		{
			name:       "no such command",
			args:       []string{"-c", "gotrace-no-such-command", "-e", `BEGIN { printf("%d\n", cpid); }`},
			stderr:     "gotrace: error: starting the command: exec: \"gotrace-no-such-command\": executable file not found in $PATH\n",
			status:     1,
			needKernel: true,
		},
		{
			name: "cpid without a command",
			args: []string{"-e", `BEGIN { printf("%d\n", cpid); }`},
			stderr: "-e:1:24: error: cpid is the PID of the command started with -c, and no command is given\n" +
				"BEGIN { printf(\"%d\\n\", cpid); }\n" +
				"                       ^\n",
			status:     1,
			needKernel: true,
		},
		{
			// exit() ends the run before the command is let go: it is
			// killed without running.
			name:       "exit in BEGIN",
			args:       []string{"-q", "-c", "/bin/echo never printed", "-e", `BEGIN { exit(); }`},
			stdout:     "\n\n",
			needKernel: true,
		},
		{
			name:   "empty command",
			args:   []string{"-c", " ", "-e", hello},
			stderr: "gotrace: -c needs a command\n\n" + readTestdata(t, "usage.txt"),
			status: 2,
		},
	})
}

// TestCommandOutlivesRun checks that a command still running when the run
// ends (exit()) is sent SIGTERM, and gotrace waits for it.
func TestCommandOutlivesRun(t *testing.T) {
	kerneltest.Require(t)
	start := time.Now()
	r := gotrace(t, "", "-q", "-c", "/bin/sleep 30", "-e", `interval:ms:200 { exit(); }`)
	r.check(t, "\n\n", "", 0)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("gotrace took %v: the command was not ended", d)
	}
}

// TestPID checks -p: tracepoints only see the process, the run ends when
// it exits, and a PID that does not exist is an error.
func TestPID(t *testing.T) {
	kerneltest.Require(t)
	// The process makes a few system calls (nanosleep), then exits.
	sleeper := exec.Command("/bin/sleep", "1")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { sleeper.Wait(); close(done) }()
	pid := strconv.Itoa(sleeper.Process.Pid)
	r := gotrace(t, "", "-q", "-p", pid, "-e", `tracepoint:raw_syscalls:sys_enter { @[pid] = count(); }`)
	<-done
	lines := strings.Split(strings.TrimPrefix(r.stdout, "\n\n"), "\n")
	if r.status != 0 || r.stderr != "" || len(lines) != 2 || !regexp.MustCompile(`^@\[`+pid+`\]: \d+$`).MatchString(lines[0]) {
		t.Errorf("status %d, stderr %q, stdout %q: want only @[%s] counted", r.status, r.stderr, r.stdout, pid)
	}

	// profile's perf events are opened for the process only: a busy shell
	// loop is sampled, and nothing else is.
	spinner := exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
	if err := spinner.Start(); err != nil {
		t.Fatal(err)
	}
	done = make(chan struct{})
	go func() { spinner.Wait(); close(done) }()
	pid = strconv.Itoa(spinner.Process.Pid)
	r = gotrace(t, "", "-q", "-p", pid, "-e", `profile:hz:199 { @[pid] = count(); }`)
	<-done
	lines = strings.Split(strings.TrimPrefix(r.stdout, "\n\n"), "\n")
	if r.status != 0 || r.stderr != "" || len(lines) != 2 || !regexp.MustCompile(`^@\[`+pid+`\]: \d+$`).MatchString(lines[0]) {
		t.Errorf("status %d, stderr %q, stdout %q: want only @[%s] sampled", r.status, r.stderr, r.stdout, pid)
	}

	runCases(t, []cliCase{
		{
			name:       "no such process",
			args:       []string{"-p", "2147483647", "-e", hello},
			stderr:     "gotrace: error: no process with PID 2147483647\n",
			status:     1,
			needKernel: true,
		},
		{
			name:   "not a number",
			args:   []string{"-p", "12x", "-e", hello},
			stderr: "gotrace: -p needs a process ID, not \"12x\"\n\n" + readTestdata(t, "usage.txt"),
			status: 2,
		},
		{
			name:   "with -c",
			args:   []string{"-p", "1", "-c", "/bin/true", "-e", hello},
			stderr: "gotrace: -c and -p cannot be used together\n\n" + readTestdata(t, "usage.txt"),
			status: 2,
		},
	})
}
