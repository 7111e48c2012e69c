package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// syncBuffer is a bytes.Buffer for a subprocess's output that tells when
// a string has appeared in it.
type syncBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newSyncBuffer(want string) *syncBuffer {
	return &syncBuffer{want: want, seen: make(chan struct{})}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.want != "" && strings.Contains(b.buf.String(), b.want) {
		b.once.Do(func() { close(b.seen) })
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a gotrace process that has been started and not waited for.
type running struct {
	t              *testing.T
	args           []string
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{} // closed when the process has exited
	err            error         // from cmd.Wait, once done is closed
}

// startGotrace starts the binary and waits until its stderr says the probes
// are attached.
func startGotrace(t *testing.T, args ...string) *running {
	t.Helper()
	r := &running{
		t:      t,
		args:   args,
		cmd:    exec.Command(gotraceBin, args...),
		stdout: newSyncBuffer(""),
		stderr: newSyncBuffer("Attached"),
		done:   make(chan struct{}),
	}
	r.cmd.Env = childEnv()
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	select {
	case <-r.stderr.seen:
	case <-r.done:
		t.Fatalf("gotrace %q exited before attaching: %v\nstdout: %q\nstderr: %q", args, r.err, r.stdout.String(), r.stderr.String())
	case <-time.After(runTimeout):
		t.Fatalf("gotrace %q did not attach within %v\nstderr: %q", args, runTimeout, r.stderr.String())
	}
	return r
}

// stop sends sig and waits for the process to exit.
func (r *running) stop(sig os.Signal) result {
	r.t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("sending %v: %v", sig, err)
	}
	select {
	case <-r.done:
	case <-time.After(runTimeout):
		r.t.Fatalf("gotrace %q still running %v after %v\nstdout: %q\nstderr: %q", r.args, runTimeout, sig, r.stdout.String(), r.stderr.String())
	}
	if !r.cmd.ProcessState.Exited() {
		r.t.Fatalf("gotrace %q: %v after %v\nstdout: %q\nstderr: %q", r.args, r.cmd.ProcessState, sig, r.stdout.String(), r.stderr.String())
	}
	return result{r.stdout.String(), r.stderr.String(), r.cmd.ProcessState.ExitCode()}
}

// TestSignals stops a running script with SIGINT or SIGTERM: END runs, the
// maps print, the status is 0, and once the process has exited nothing it
// created is left in the kernel.
func TestSignals(t *testing.T) {
	kerneltest.Require(t)
	// kerneltest.Script names the workloads of this test process, so that
	// workloads of other packages tested at the same time do not count.
	script := kerneltest.Script(`tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ { @n = count(); } END { printf("end\n"); }`)
	cases := []struct {
		name     string
		sig      syscall.Signal
		workload kerneltest.Workload
		stdout   string
	}{
		{"SIGINT", syscall.SIGINT, "getppid 25", "end\n\n\n@n: 25\n"},
		{"SIGTERM", syscall.SIGTERM, "getppid 25", "end\n\n\n@n: 25\n"},
		{"SIGINT after two bursts", syscall.SIGINT, "getppid 10; sleep 50; getppid 15", "end\n\n\n@n: 25\n"},
		// A map no event wrote to does not print, as in bpftrace.
		{"SIGINT without events", syscall.SIGINT, "", "end\n\n\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := startGotrace(t, "-e", script)
			held, err := heldBy(r.cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			checkHeld(t, held)
			if c.workload != "" {
				if err := c.workload.Run(); err != nil {
					t.Fatal(err)
				}
			}
			got := r.stop(c.sig)
			got.check(t, c.stdout, "Attached 2 probes\n", 0)
			waitUnloaded(t, "BPF objects of the run", func() bpfObjects { return stillLoaded(t, held) })
		})
	}
}

// checkHeld checks what a running gotrace holds for the script of
// TestSignals, so that the later check that all of it is gone means
// something: its two programs (named after their providers), at least one
// map, and the link of the tracepoint.
func checkHeld(t *testing.T, held bpfObjects) {
	t.Helper()
	var names []string
	for _, id := range held.progs {
		p, err := ebpfProgramName(id)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p)
	}
	var sawTP, sawEND bool
	for _, n := range names {
		sawTP = sawTP || strings.HasPrefix(n, "tracepoint_")
		sawEND = sawEND || strings.HasPrefix(n, "END_")
	}
	if len(names) != 2 || !sawTP || !sawEND || len(held.maps) == 0 || len(held.links) != 1 {
		t.Fatalf("gotrace holds %s (programs named %q); want a tracepoint_* and an END_* program, maps, and one link", held, names)
	}
}

// TestAttachFailure makes the second probe of a script fail to attach after
// the first is attached: gotrace must exit 1 with an error naming the probe,
// print nothing else, and leave nothing loaded. Every program of the
// scripts uses one map with a name unique to this run, which is how the
// test finds them in the kernel (the process is gone before it could read
// its fdinfo).
func TestAttachFailure(t *testing.T) {
	kerneltest.Require(t)
	marker := fmt.Sprintf("leak%08x", rand.Uint32())
	mapName := "gt_" + marker // the name codegen gives @marker (a hash: keyed) in the kernel
	probe := func(attach string) string {
		return kerneltest.Script(fmt.Sprintf("%s /comm == \"gtwork\"/ { @%s[1] = count(); }\n", attach, marker))
	}
	ok := probe("BEGIN") + probe("tracepoint:syscalls:sys_enter_getppid") + probe("END")

	// First make sure the test can see such a script's objects while it runs.
	t.Run("control", func(t *testing.T) {
		r := startGotrace(t, "-e", ok)
		found := markedObjects(t, mapName)
		held, err := heldBy(r.cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if len(found.maps) != 1 || len(found.progs) == 0 {
			t.Fatalf("found %s for map %s, want the map and the programs", found, mapName)
		}
		for _, id := range found.progs {
			if !slices.Contains(held.progs, id) {
				t.Errorf("program %d uses map %s but gotrace does not hold it (it holds %s)", id, mapName, held)
			}
		}
		r.stop(syscall.SIGINT).check(t, "\n\n", "Attached 3 probes\n", 0)
		waitUnloaded(t, "programs using map "+mapName, func() bpfObjects { return markedObjects(t, mapName) })
	})

	cases := []struct {
		name   string
		script string
		stderr *regexp.Regexp
	}{
		{
			// syscalls:* are trace events built on the raw_syscalls
			// tracepoints: tracefs lists them, but there is no raw
			// tracepoint by that name. The checker knows, so nothing is
			// loaded at all.
			name:   "rawtracepoint of a syscall event",
			script: ok + probe("rawtracepoint:syscalls:sys_enter_openat"),
			stderr: regexp.MustCompile(`^-e:4:1: error: no raw tracepoint matches rawtracepoint:syscalls:sys_enter_openat: the syscalls:\* events are not raw tracepoints; use rawtracepoint:sys_enter or rawtracepoint:sys_exit \(arg1 is the syscall number\)\n`),
		},
		{
			name:   "profile above the maximum sample rate",
			script: ok + probe("profile:hz:100000000"),
			stderr: regexp.MustCompile(`^gotrace: error: attaching profile:hz:100000000: perf event software/cpu-clock frequency 100000000 Hz on all CPUs: CPU [0-9]+: perf_event_open: invalid argument \(frequency 100000000 Hz exceeds kernel\.perf_event_max_sample_rate = [0-9]+\)\n$`),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := gotrace(t, "", "-e", c.script)
			if r.stdout != "" || !c.stderr.MatchString(r.stderr) || r.status != 1 {
				t.Errorf("got stdout %q, stderr %q, status %d; want no output, stderr matching %s, status 1", r.stdout, r.stderr, r.status, c.stderr)
			}
			waitUnloaded(t, "programs using map "+mapName, func() bpfObjects { return markedObjects(t, mapName) })
		})
	}
}

// TestSignalsBeforeRun sends SIGINT or SIGTERM while gotrace waits for its
// program on stdin, before anything runs: as without signal handlers, the
// signal ends gotrace at once, unless gotrace was started with it ignored,
// in which case the program then runs as usual.
func TestSignalsBeforeRun(t *testing.T) {
	kerneltest.Require(t)
	for _, c := range []struct {
		name    string
		sig     syscall.Signal
		ignored bool
	}{
		{"SIGINT", syscall.SIGINT, false},
		{"SIGTERM", syscall.SIGTERM, false},
		{"SIGINT ignored", syscall.SIGINT, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The shell passes an ignored signal on to what it execs.
			trap := ""
			if c.ignored {
				trap = "trap '' INT; "
			}
			cmd := exec.Command("/bin/sh", "-c", trap+`exec "$0" -`, gotraceBin)
			cmd.Env = childEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Long enough for gotrace to be reading stdin, with its
			// handlers installed.
			time.Sleep(200 * time.Millisecond)
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			fmt.Fprint(stdin, `BEGIN { printf("ran\n"); exit(); }`)
			stdin.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(runTimeout):
				cmd.Process.Kill()
				t.Fatalf("gotrace still running %v after %v", runTimeout, c.sig)
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if c.ignored {
				if !ws.Exited() || ws.ExitStatus() != 0 || !strings.HasPrefix(stdout.String(), "ran\n") {
					t.Errorf("with %v ignored: %v, stdout %q, stderr %q; want the program to run", c.sig, cmd.ProcessState, stdout.String(), stderr.String())
				}
				return
			}
			if !ws.Signaled() || ws.Signal() != c.sig || stdout.Len() != 0 {
				t.Errorf("%v, stdout %q, stderr %q; want gotrace killed by %v before running anything", cmd.ProcessState, stdout.String(), stderr.String(), c.sig)
			}
		})
	}
}
