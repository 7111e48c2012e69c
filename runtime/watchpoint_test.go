package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// watchTargetSource is the program the watchpoint tests watch. Each
// iteration of loop writes value once and reads it once:
//
//	N           loop N times, then exit
//	N threads   start a thread that waits; print "ready", read a line;
//	            let the waiting thread loop N times, then a new thread,
//	            then the main thread; exit
//	N rename    print "ready", read a line, call getppid(); read a line,
//	            rename the thread N times (prctl PR_SET_NAME); exit
//
// value and others are in .data, not .bss: exec clears the end of the last
// page of a program's data with writes of its own (the part of .bss that
// shares it), which a watchpoint set before the execve (-c) would count.
const watchTargetSource = `
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

volatile long value = 1;
volatile long others[8] = {1};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void loop(int n) {
	long sum = 0;
	for (int i = 0; i < n; i++) {
		value = i;
		sum += value;
	}
	if (sum != (long)n * (n - 1) / 2)
		exit(2);
}

static void *waiter(void *arg) {
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	loop((int)(long)arg);
	return NULL;
}

static void *later(void *arg) {
	loop((int)(long)arg);
	return NULL;
}

static void wait_line(void) {
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		exit(1);
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 10;
	if (argc > 2 && strcmp(argv[2], "threads") == 0) {
		pthread_t t, u;
		pthread_create(&t, NULL, waiter, (void *)(long)n);
		printf("ready\n");
		fflush(stdout);
		wait_line();
		pthread_mutex_lock(&mu);
		go = 1;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		pthread_join(t, NULL);
		pthread_create(&u, NULL, later, (void *)(long)n);
		pthread_join(u, NULL);
		loop(n);
		return 0;
	}
	if (argc > 2 && strcmp(argv[2], "rename") == 0) {
		printf("ready\n");
		fflush(stdout);
		wait_line();
		getppid();
		wait_line();
		for (int i = 0; i < n; i++)
			prctl(PR_SET_NAME, i % 2 ? "wptarget-odd" : "wptarget-even");
		return 0;
	}
	loop(n);
	return 0;
}
`

// buildWatchTarget compiles watchTargetSource as "wptarget", with extra
// gcc flags.
func buildWatchTarget(t *testing.T, flags ...string) string {
	t.Helper()
	return kerneltest.CompileC(t, t.TempDir(), "wptarget", watchTargetSource, append([]string{"-pthread"}, flags...)...)
}

// With -c, a watchpoint on a variable of the command (built without PIE,
// so its address is the symbol's) is set before the command's execve and
// fires on each write (w), or each read and write (rw), in the command's
// process: the loop writes value 7 times and reads it 7 times. probe names
// the address in decimal, as bpftrace does.
func TestWatchpointCommand(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.LockBreakpoints(t)
	bin := buildWatchTarget(t, "-no-pie", "-fno-pie")
	addr := symbolAddress(t, bin, "value")
	got, _ := runWithCommand(t, fmt.Sprintf(`
watchpoint:%#x:8:w { @writes[probe, comm, pid == cpid] = count(); }
w:%#x:8:rw { @accesses = count(); }
`, addr, addr), bin, "7")
	want := fmt.Sprintf("\n\n@accesses: 14\n@writes[watchpoint:%d:8:w, wptarget, 1]: 7\n", addr)
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// watchProcess is wptarget started in a mode that waits for lines on its
// standard input.
type watchProcess struct {
	pipedProcess
}

// startWatchProcess starts bin N MODE and waits until it is ready.
func startWatchProcess(t *testing.T, bin string, n int, mode string) *watchProcess {
	t.Helper()
	w := &watchProcess{startPiped(t, exec.Command(bin, strconv.Itoa(n), mode))}
	t.Cleanup(func() {
		w.in.Close()
		w.cmd.Process.Kill()
		w.cmd.Wait()
	})
	if line, err := w.out.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("%s: got %q, %v; want ready", bin, line, err)
	}
	return w
}

// next lets the process go on to its next step.
func (w *watchProcess) next() error {
	_, err := io.WriteString(w.in, "go\n")
	return err
}

// loadBase is where the first mapping of file starts in process pid's
// address space (/proc/PID/maps), the base a PIE's symbols are relative
// to.
func loadBase(t *testing.T, pid int, file string) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		t.Fatal(err)
	}
	file, err = filepath.EvalSymlinks(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		// start-end perms offset dev inode path
		f := strings.Fields(line)
		if len(f) == 6 && f[5] == file && f[2] == "00000000" {
			start, _, _ := strings.Cut(f[0], "-")
			base, err := strconv.ParseUint(start, 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return base
		}
	}
	t.Fatalf("%s is not mapped in process %d:\n%s", file, pid, b)
	return 0
}

// runWatchScript compiles and runs script with opts until it ends, calling
// onAttached once the probes are attached; it returns what the script
// printed.
func runWatchScript(t *testing.T, script string, opts runtime.CompileOptions, onAttached func() error) string {
	t.Helper()
	s, err := runtime.Compile("watch.gt", script, opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	var cbErr error
	_, err = s.Run(ctx, runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, OnAttached: func() { cbErr = onAttached() }})
	if err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, errOut.String())
	}
	if cbErr != nil {
		t.Fatal(cbErr)
	}
	if ctx.Err() != nil {
		t.Fatalf("the run did not end; output:\n%s", out.String())
	}
	return out.String()
}

// With -p, a watchpoint on a variable of a PIE (its address: the load
// base plus the symbol's value) fires in every thread of the process: the
// thread that was already waiting, one created after the watchpoints were
// attached, and the main thread, each writing value 5 times and reading it
// 5 times. The run ends when the process exits.
func TestWatchpointPIDThreads(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.LockBreakpoints(t)
	bin := buildWatchTarget(t, "-fPIE", "-pie")
	p := startWatchProcess(t, bin, 5, "threads")
	pid := p.cmd.Process.Pid
	addr := loadBase(t, pid, bin) + symbolAddress(t, bin, "value")
	got := runWatchScript(t, fmt.Sprintf(`
watchpoint:%#x:8:w /pid == $1/ { @writes[tid == pid ? "main" : "other"] = count(); }
watchpoint:%#x:8:rw { @accesses = count(); }
`, addr, addr), runtime.CompileOptions{PID: pid, Params: []string{strconv.Itoa(pid)}}, p.next)
	want := "\n\n@accesses: 30\n@writes[main]: 5\n@writes[other]: 10\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// Without -p or -c, a watchpoint watches a kernel address on every CPU: the
// first byte of a process's task_struct.comm, which the kernel writes once
// each time the process renames itself (the process's task_struct is found
// by a first script, from a system call it makes).
func TestWatchpointKernelAddress(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.LockBreakpoints(t)
	bin := buildWatchTarget(t)
	p := startWatchProcess(t, bin, 6, "rename")
	pid := p.cmd.Process.Pid
	params := []string{strconv.Itoa(pid)}
	found := runWatchScript(t, `tracepoint:syscalls:sys_enter_getppid /pid == $1/ {
	printf("%lu\n", (uint64)curtask + offsetof(struct task_struct, comm));
	exit();
}`, runtime.CompileOptions{Params: params}, p.next)
	comm, err := strconv.ParseUint(strings.TrimSpace(found), 10, 64)
	if err != nil {
		t.Fatalf("the first script printed %q", found)
	}
	got := runWatchScript(t, fmt.Sprintf(`
watchpoint:%#x:1:w /pid == $1/ { @renames[probe] = count(); @where[kstack(1)] = count(); }
tracepoint:sched:sched_process_exit /pid == $1/ { exit(); }
`, comm), runtime.CompileOptions{Params: params}, p.next)
	// The kernel copies the new name with memcpy, from __set_task_comm.
	want := fmt.Sprintf("@renames[watchpoint:%d:1:w]: 6\n", comm)
	if !strings.Contains(got, want) || strings.Count(got, "]: 6\n") != 2 || strings.Count(got, "]: ") != 2 {
		t.Errorf("got:\n%s\nwant %q, and 6 writes from one kernel function", got, want)
	}
}

// A script with more watchpoints than the CPU has debug registers (4 on
// x86-64) fails to attach, saying so, and leaves nothing attached: the
// same watchpoints less one then attach (kernel addresses, watched on
// every CPU, so that registers left taken would be seen).
func TestWatchpointTooMany(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.LockBreakpoints(t)
	// Addresses in the test's own task_struct: real kernel memory,
	// which nothing writes while the probes are attached here.
	found := runWatchScript(t, `BEGIN { printf("%lu\n", (uint64)curtask); exit(); }`, runtime.CompileOptions{}, func() error { return nil })
	task, err := strconv.ParseUint(strings.TrimSpace(found), 10, 64)
	if err != nil {
		t.Fatalf("BEGIN printed %q", found)
	}
	script := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "watchpoint:%#x:8:w { @[%d] = count(); }\n", task+uint64(8*i), i)
		}
		return b.String()
	}
	s, err := runtime.Compile("five.gt", script(5), runtime.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fds := openFDCount(t)
	var out, errOut bytes.Buffer
	status, err := s.Run(context.Background(), runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true})
	if err == nil || status != 1 {
		t.Fatalf("5 watchpoints attached (status %d); stdout:\n%s", status, out.String())
	}
	if !strings.Contains(err.Error(), "no hardware breakpoint register left") {
		t.Errorf("error %q does not say that the debug registers are taken", err)
	}
	if got := openFDCount(t); got != fds {
		t.Errorf("%d open fds after the failed run, %d before", got, fds)
	}
	s, err = runtime.Compile("four.gt", script(4), runtime.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), runtime.RunOptions{Stdout: &out, Stderr: &errOut, Quiet: true, DryRun: true}); err != nil {
		t.Errorf("4 watchpoints after the failed run: %v", err)
	}
}

// openFDCount counts this process's open file descriptors.
func openFDCount(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
