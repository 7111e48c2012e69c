package perf

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// counter is a BPF program that counts its runs per CPU in an array map
// indexed by CPU number, optionally only for one process.
type counter struct {
	counts *ebpf.Map
	prog   *ebpf.Program
	ncpu   int
}

// newCounter loads a counter program of the given type (ebpf.PerfEvent or
// ebpf.TracePoint). If tgid is non-zero it counts only runs in that process.
func newCounter(t *testing.T, typ ebpf.ProgramType, tgid int) *counter {
	t.Helper()
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "counts",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: uint32(ncpu),
	})
	if err != nil {
		t.Fatalf("creating map: %v", err)
	}
	t.Cleanup(func() { m.Close() })

	var insns asm.Instructions
	if tgid != 0 {
		insns = append(insns,
			asm.FnGetCurrentPidTgid.Call(),
			asm.RSh.Imm(asm.R0, 32),
			asm.JNE.Imm(asm.R0, int32(tgid), "exit"),
		)
	}
	insns = append(insns,
		// key = bpf_get_smp_processor_id()
		asm.FnGetSmpProcessorId.Call(),
		asm.StoreMem(asm.RFP, -4, asm.R0, asm.Word),
		// value = bpf_map_lookup_elem(&counts, &key)
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
		// __sync_fetch_and_add(value, 1)
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	)
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "count",
		Type:         typ,
		Instructions: insns,
		License:      "GPL",
	})
	if err != nil {
		t.Fatalf("loading %v program: %v", typ, err)
	}
	t.Cleanup(func() { prog.Close() })
	return &counter{counts: m, prog: prog, ncpu: ncpu}
}

// perCPU returns the count for each CPU.
func (c *counter) perCPU(t *testing.T) []uint64 {
	t.Helper()
	out := make([]uint64, c.ncpu)
	for cpu := range out {
		if err := c.counts.Lookup(uint32(cpu), &out[cpu]); err != nil {
			t.Fatalf("reading count of CPU %d: %v", cpu, err)
		}
	}
	return out
}

// total returns the sum over all CPUs.
func (c *counter) total(t *testing.T) uint64 {
	t.Helper()
	var n uint64
	for _, v := range c.perCPU(t) {
		n += v
	}
	return n
}

// assertStopped checks that the counter no longer moves, i.e. that no
// attachment of the program is left.
func (c *counter) assertStopped(t *testing.T) {
	t.Helper()
	before := c.perCPU(t)
	time.Sleep(100 * time.Millisecond)
	after := c.perCPU(t)
	for cpu := range before {
		if before[cpu] != after[cpu] {
			t.Errorf("after Close the program still runs: CPU %d count %d -> %d", cpu, before[cpu], after[cpu])
		}
	}
}

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// within reports whether got is within [lo, hi].
func within(got, lo, hi float64) error {
	if got < lo || got > hi {
		return fmt.Errorf("%.0f not in [%.0f, %.0f]", got, lo, hi)
	}
	return nil
}

// keepBusy spins one thread on each of cpus until the returned function is
// called (or the test ends).
//
// On the VM this was written on (a Firecracker/PVM guest running 6.18), a
// cpu-clock event's hrtimer keeps firing on an idle CPU (timer:
// hrtimer_expire_entry shows perf_swevent_hrtimer every period), but the
// perf sample, and with it the BPF program, is skipped while the CPU is
// idle. Busy CPUs get exactly one run per period. Timer tests therefore keep
// the measured CPUs busy, which also makes "no runs after Close" meaningful.
func keepBusy(t *testing.T, cpus []int) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	ready := make(chan error, len(cpus))
	for _, cpu := range cpus {
		go func() {
			// Never unlocked: the thread, with its changed affinity,
			// exits with the goroutine.
			runtime.LockOSThread()
			var set unix.CPUSet
			set.Set(cpu)
			ready <- unix.SchedSetaffinity(0, &set)
			for {
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	for range cpus {
		if err := <-ready; err != nil {
			close(done)
			t.Fatalf("pinning a thread: %v", err)
		}
	}
	var once sync.Once
	stop = func() { once.Do(func() { close(done) }) }
	t.Cleanup(stop)
	return stop
}
