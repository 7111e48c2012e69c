package perf

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/tracefs"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// modes are the two ways of attaching; on a kernel with BPF links (5.15+)
// modeAuto uses links, and modeIoctl exercises the fallback.
var modes = []struct {
	name      string
	mode      attachMode
	wantLinks bool
}{
	{"link", modeAuto, true},
	{"ioctl", modeIoctl, false},
}

// attachOrSkip attaches, or skips (fails with GOTRACE_REQUIRE_KERNEL=1)
// when the kernel lacks perf events altogether.
func attachOrSkip(t *testing.T, spec EventSpec, prog *ebpf.Program, mode attachMode) *Attachment {
	t.Helper()
	a, err := attach(spec, prog, mode)
	if err != nil {
		if strings.Contains(err.Error(), "event not supported") {
			kerneltest.SkipOrFail(t, "perf event unavailable: %v", err)
		}
		t.Fatalf("attach: %v", err)
	}
	return a
}

// checkLinks checks which attach path was used. Before Linux 5.15 modeAuto
// falls back to the ioctl, which is fine but worth a log line.
func checkLinks(t *testing.T, a *Attachment, wantLinks bool) {
	t.Helper()
	if got := a.UsesLinks(); got != wantLinks {
		if wantLinks {
			t.Logf("kernel has no BPF links for perf events; used PERF_EVENT_IOC_SET_BPF")
		} else {
			t.Errorf("UsesLinks() = %v in ioctl mode", got)
		}
	}
}

// interval:ms:10 fires ~100 times a second, all on the first online CPU, and
// stops once closed. (The CPU is kept busy: see keepBusy.)
func TestKernelInterval(t *testing.T) {
	kerneltest.Require(t)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newCounter(t, ebpf.PerfEvent, 0)
			fds := openFDs(t)
			spec := IntervalSpec(10 * time.Millisecond)
			keepBusy(t, spec.CPUs)
			start := time.Now()
			a := attachOrSkip(t, spec, c.prog, m.mode)
			checkLinks(t, a, m.wantLinks)
			if got := a.CPUs(); len(got) != 1 {
				t.Errorf("attached on CPUs %v, want one", got)
			}
			time.Sleep(300 * time.Millisecond)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)

			counts := c.perCPU(t)
			cpu := spec.CPUs[0]
			want := float64(elapsed / (10 * time.Millisecond))
			t.Logf("%d runs in %v on CPU %d (expected ~%.0f); per CPU %v", counts[cpu], elapsed, cpu, want, counts)
			if err := within(float64(counts[cpu]), 0.5*want, 1.5*want); err != nil {
				t.Errorf("interval count: %v", err)
			}
			for other, n := range counts {
				if other != cpu && n != 0 {
					t.Errorf("interval fired %d times on CPU %d, want only CPU %d", n, other, cpu)
				}
			}
			c.assertStopped(t)
			if got := openFDs(t); got != fds {
				t.Errorf("%d open fds after Close, %d before Attach", got, fds)
			}
		})
	}
}

// profile:hz:100 and profile:ms:10 fire ~100 times a second on every online
// CPU. (The CPUs are kept busy: see keepBusy.)
func TestKernelProfile(t *testing.T) {
	kerneltest.Require(t)
	online, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec EventSpec
	}{
		{"hz:100", ProfileSpecHz(100)},
		{"ms:10", ProfileSpecPeriod(10 * time.Millisecond)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounter(t, ebpf.PerfEvent, 0)
			keepBusy(t, online)
			start := time.Now()
			a := attachOrSkip(t, tt.spec, c.prog, modeAuto)
			if got := a.CPUs(); !slices.Equal(got, online) {
				t.Errorf("attached on CPUs %v, want all online %v", got, online)
			}
			time.Sleep(300 * time.Millisecond)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			counts := c.perCPU(t)
			want := 100 * elapsed.Seconds()
			t.Logf("per-CPU runs %v in %v (expected ~%.0f each)", counts, elapsed, want)
			for _, cpu := range online {
				if err := within(float64(counts[cpu]), 0.5*want, 1.5*want); err != nil {
					t.Errorf("CPU %d: %v", cpu, err)
				}
			}
			c.assertStopped(t)
		})
	}
}

// touchPages maps n fresh anonymous pages (no transparent huge pages, so
// each is its own fault) and writes to each.
func touchPages(t *testing.T, n int) {
	t.Helper()
	size := n * os.Getpagesize()
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		t.Logf("madvise(MADV_NOHUGEPAGE): %v", err)
	}
	for i := 0; i < size; i += os.Getpagesize() {
		mem[i] = 1
	}
}

// software:page-faults:1 (and its aliases) runs once for every page fault.
// The events count system-wide, so the program counts only faults of this
// process: at least one per page the test touches.
func TestKernelSoftwarePageFaults(t *testing.T) {
	kerneltest.Require(t)
	const pages = 512
	for _, name := range []string{"page-faults", "faults", "minor-faults"} {
		t.Run(name, func(t *testing.T) {
			ev, ok := LookupSoftware(name)
			if !ok {
				t.Fatalf("no software event %q", name)
			}
			c := newCounter(t, ebpf.PerfEvent, os.Getpid())
			a := attachOrSkip(t, SoftwareSpec(ev, 1), c.prog, modeAuto)
			touchPages(t, pages)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			total := c.total(t)
			t.Logf("%s: %d faults counted for %d pages touched", name, total, pages)
			if total < pages {
				t.Errorf("%s counted %d faults, want >= %d", name, total, pages)
			}
			before := total
			touchPages(t, pages)
			if after := c.total(t); after != before {
				t.Errorf("faults still counted after Close: %d -> %d", before, after)
			}
		})
	}
}

// Hardware events: on a machine without CPU counters (most VMs, and the
// development machine) TryOpen reports ENOENT for every event and Attach
// fails, saying why, with nothing left open; where there are counters,
// cpu-cycles samples this process while it spins.
func TestKernelHardware(t *testing.T) {
	kerneltest.Require(t)
	if err := kerneltest.HasFeature(kerneltest.Hardware); err != nil {
		t.Log(err)
		prog := newCounter(t, ebpf.PerfEvent, 0).prog
		for _, ev := range HardwareEvents() {
			spec := HardwareSpec(ev, 0)
			if err := TryOpen(spec); !errors.Is(err, unix.ENOENT) {
				t.Errorf("TryOpen(%s) = %v, want ENOENT", ev.Name, err)
			}
			fds := openFDs(t)
			a, err := Attach(spec, prog)
			if err == nil {
				a.Close()
				t.Fatalf("attaching %s succeeded without CPU counters", ev.Name)
			}
			want := fmt.Sprintf("perf event hardware/%s period %d on all CPUs: CPU %d: perf_event_open: no such file or directory (the CPU has no performance counter for this event, or none at all)",
				ev.Name, ev.DefaultCount, firstOnlineCPU())
			if err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			}
			if got := openFDs(t); got != fds {
				t.Errorf("%d fds open after the failed Attach, %d before", got, fds)
			}
		}
		return
	}
	cycles, _ := LookupHardware("cycles")
	if err := TryOpen(HardwareSpec(cycles, 0)); err != nil {
		t.Fatalf("TryOpen(cpu-cycles) = %v where a counting cpu-cycles event opens", err)
	}
	c := newCounter(t, ebpf.PerfEvent, os.Getpid())
	a := attachOrSkip(t, HardwareSpec(cycles, 100000), c.prog, modeAuto)
	deadline := time.Now().Add(200 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		_ = n * n
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if c.total(t) == 0 {
		t.Error("200 ms of spinning sampled no cpu-cycles")
	}
	c.assertStopped(t)
}

// A tracepoint event opened on one CPU runs its program for hits on every
// CPU, exactly once per hit.
func TestKernelTracepoint(t *testing.T) {
	kerneltest.Require(t)
	fs, err := tracefs.Open()
	if err != nil {
		t.Fatal(err)
	}
	id, err := fs.ID("syscalls", "sys_enter_getppid")
	if err != nil {
		kerneltest.SkipOrFail(t, "no getppid tracepoint: %v", err)
	}
	online, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c := newCounter(t, ebpf.TracePoint, os.Getpid())
			spec := TracepointSpec(id)
			a := attachOrSkip(t, spec, c.prog, m.mode)
			checkLinks(t, a, m.wantLinks)

			const calls = 100
			errc := make(chan error, 1)
			go func() {
				// This thread's affinity changes; it is never unlocked,
				// so it exits with the goroutine.
				runtime.LockOSThread()
				for _, cpu := range online {
					var set unix.CPUSet
					set.Set(cpu)
					if err := unix.SchedSetaffinity(0, &set); err != nil {
						errc <- err
						return
					}
					for range calls {
						unix.Getppid()
					}
				}
				errc <- nil
			}()
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			counts := c.perCPU(t)
			t.Logf("event on CPU %v; getppid calls counted per CPU: %v", spec.CPUs, counts)
			for _, cpu := range online {
				if counts[cpu] != calls {
					t.Errorf("CPU %d: counted %d getppid calls, made %d", cpu, counts[cpu], calls)
				}
			}
			unix.Getppid()
			if got := c.perCPU(t); !slices.Equal(got, counts) {
				t.Errorf("counted after Close: %v -> %v", counts, got)
			}
		})
	}
}

func TestKernelAttachErrors(t *testing.T) {
	kerneltest.Require(t)
	perfProg := newCounter(t, ebpf.PerfEvent, 0).prog
	tpProg := newCounter(t, ebpf.TracePoint, 0).prog
	first := firstOnlineCPU()
	tests := []struct {
		name    string
		spec    EventSpec
		prog    *ebpf.Program
		wantErr string
	}{
		{"nil program", IntervalSpec(time.Second), nil, "nil program"},
		{"no period", EventSpec{Type: unix.PERF_TYPE_SOFTWARE}, perfProg, "neither a period nor a frequency"},
		{"tracepoint program on a timer", IntervalSpec(time.Second), tpProg, "needs a program of type PerfEvent"},
		{"perf program on a tracepoint", TracepointSpec(1), perfProg, "needs a program of type TracePoint"},
		{"bad CPU after a good one", ProfileSpecHz(1).withCPUs(first, 4095), perfProg, "CPU 4095 is not online"},
		{"frequency too high", ProfileSpecHz(1 << 40), perfProg, "exceeds kernel.perf_event_max_sample_rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fds := openFDs(t)
			a, err := Attach(tt.spec, tt.prog)
			if err == nil {
				a.Close()
				t.Fatal("Attach succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := openFDs(t); got != fds {
				t.Errorf("%d fds open after the failed Attach, %d before", got, fds)
			}
		})
	}
}

func (s EventSpec) withCPUs(cpus ...int) EventSpec {
	s.CPUs = cpus
	return s
}
