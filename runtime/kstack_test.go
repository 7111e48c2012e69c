package runtime_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kallsyms"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// kstack works in tracepoints, which every kernel can attach: the stack of
// the workload's getppid(2) is checked frame by frame against
// /proc/kallsyms in each mode and each place a stack prints.
func TestKstackOnTracepoint(t *testing.T) {
	kerneltest.Require(t)
	syms, err := kallsyms.Read()
	if err != nil || syms.Len() == 0 {
		t.Fatalf("reading /proc/kallsyms: %v (%d symbols)", err, syms.Len())
	}
	out, _, _ := runScript(t, "kstack.gt", `tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ {
		@full[kstack] = count();
		@two[kstack(2)] = count();
		@perf[kstack(perf, 3)] = count();
		@raw[kstack(raw, 3)] = count();
		@keyed[kstack(1), comm] = count();
		@value = kstack(2);
		printf("%s|\n", kstack(3));
		print(kstack(perf, 1));
	}`, nil, "getppid 3", 10*time.Second)

	// One stack, printed three times by printf and print, then the maps.
	frame := `[A-Za-z0-9_.]+\+[0-9]+`
	hex := `[0-9a-f]{16}`
	event := `\n(?:        ` + frame + `\n){3}\|\n\n\t` + hex + ` ` + frame + `\n\n`
	layout := regexp.MustCompile(`^(?:` + event + `){3}\n\n` +
		`@full\[\n((?:    ` + frame + `\n)+)\]: 3\n` +
		`@keyed\[\n    ` + frame + `\n, ` + regexp.QuoteMeta(kerneltest.Comm()) + `\]: 3\n` +
		`@perf\[\n((?:\t` + hex + ` ` + frame + `\n){3})\]: 3\n` +
		`@raw\[\n((?:\t` + hex + `\n){3})\]: 3\n` +
		`@two\[\n((?:    ` + frame + `\n){2})\]: 3\n` +
		`@value: \n((?:        ` + frame + `\n){2})\n$`)
	m := layout.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output does not have the layout of kstack:\n%s", out)
	}
	full := strings.Fields(m[1])
	if len(full) < 3 {
		t.Fatalf("@full has %d frames, want the whole syscall path: %q", len(full), full)
	}
	// Every frame names the symbol its address is in; the system call
	// entry is on the stack of any system call's tracepoint.
	sawEntry := false
	for _, f := range full {
		name, _, _ := strings.Cut(f, "+")
		sawEntry = sawEntry || name == "do_syscall_64" || name == "__x64_sys_getppid" || strings.HasPrefix(name, "el0_svc")
		if len(syms.Lookup(name)) == 0 {
			t.Errorf("frame %s names no kernel symbol", f)
		}
	}
	if !sawEntry {
		t.Errorf("no system call entry (do_syscall_64, __x64_sys_getppid, el0_svc*) in %q", full)
	}
	// kstack(N) is the first N frames; perf mode gives each frame's
	// address, which is the symbol's address plus the offset; raw mode the
	// same addresses alone.
	if two := strings.Fields(m[4]); strings.Join(two, " ") != strings.Join(full[:2], " ") {
		t.Errorf("@two is %q, want the first two frames of %q", two, full)
	}
	if value := strings.Fields(m[5]); strings.Join(value, " ") != strings.Join(full[:2], " ") {
		t.Errorf("@value is %q, want the first two frames of %q", value, full)
	}
	perf := strings.Fields(m[2])
	raw := strings.Fields(m[3])
	for i := 0; i < 3; i++ {
		addr, err := strconv.ParseUint(perf[2*i], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		s, off, ok := syms.At(addr)
		if got := fmt.Sprintf("%s+%d", s.Name, off); !ok || got != perf[2*i+1] || got != full[i] {
			t.Errorf("perf frame %d: %s %s; kallsyms says %s, bpftrace mode said %s", i, perf[2*i], perf[2*i+1], got, full[i])
		}
		if raw[i] != perf[2*i] {
			t.Errorf("raw frame %d is %s, perf mode's address %s", i, raw[i], perf[2*i])
		}
	}
}

// The kernel stacks of a tracepoint are the kernel's, not the tracer's:
// gotrace and the installed bpftrace, both attached while the workload
// runs once, print the same bytes for them. (Run one after the other, the
// two could see different stacks: the kernel's tracepoint path changes
// when other tracers attach to the same tracepoints.)
func TestKstackSameAsBpftrace(t *testing.T) {
	kerneltest.Require(t)
	bpftrace, err := exec.LookPath("bpftrace")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("bpftrace is not installed; .ci/run installs it")
		}
		t.Skip("bpftrace is not installed (apt-get install bpftrace)")
	}
	script := kerneltest.Script(`tracepoint:syscalls:sys_enter_getppid /comm == "gtwork"/ {
		@[kstack] = count();
		@p[kstack(perf, 3)] = count();
		@k[kstack(2), comm] = count();
		@v = kstack(2);
		printf("%s|%s|\n", kstack(2), kstack(perf, 1));
		print(kstack(1));
	}`)
	workload := kerneltest.Workload("getppid 2")

	cmd, stdout := startBpftrace(t, bpftrace, "-e", script)
	got, _, _ := runScript(t, "kstack-bpftrace.gt", script, nil, workload, 10*time.Second)
	if !strings.Contains(got, "@[\n    ") || !strings.Contains(got, "]: 2\n") {
		t.Fatalf("gotrace saw no stacks of the workload's two getppid calls:\n%s", got)
	}
	// bpftrace reads its events on its own schedule; give it time to
	// print them before it is stopped. A SIGINT that comes while bpftrace
	// 0.17 is busy, rather than waiting for events, can be lost: repeat it
	// until it exits.
	time.Sleep(time.Second)
	stopBpftrace(t, cmd, stdout)
	want := strings.TrimPrefix(stdout.String(), "Attaching 1 probe...\n")
	if got != want {
		t.Errorf("gotrace and bpftrace differ\n--- gotrace\n%s\n--- bpftrace\n%s", got, want)
	}
}

// syncWriter collects a subprocess's output and closes seen once want has
// appeared in it.
type syncWriter struct {
	mu   sync.Mutex
	buf  strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// stopBpftrace sends bpftrace SIGINT until it exits: a SIGINT that comes
// while bpftrace 0.17 is busy, rather than waiting for events, can be lost.
// stdout is its output, shown if it does not stop.
func stopBpftrace(t *testing.T, cmd *exec.Cmd, stdout fmt.Stringer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("bpftrace: %v", err)
			}
			return
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			t.Fatalf("bpftrace did not stop on SIGINT; its output: %q", stdout.String())
		}
	}
}

// startBpftrace starts bpftrace with args and waits until it has
// attached; the test kills it if it is still running at the end.
func startBpftrace(t *testing.T, bpftrace string, args ...string) (*exec.Cmd, *syncWriter) {
	t.Helper()
	cmd := exec.Command(bpftrace, args...)
	stdout := &syncWriter{want: "Attaching", seen: make(chan struct{})}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case <-stdout.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("bpftrace did not attach: %q", stdout.String())
	}
	// bpftrace 0.17 says "Attaching" before it attaches, and a SIGINT
	// that comes before its event loop runs is lost: give it time.
	time.Sleep(2 * time.Second)
	return cmd, stdout
}
