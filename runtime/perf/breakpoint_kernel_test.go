package perf

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// watched is a word of this test process's heap that only the test
// touches: a slot in the middle of a slice, so no other allocation shares
// its 8 bytes.
func watched() (*int64, uint64) {
	buf := make([]int64, 16)
	p := &buf[8]
	return p, uint64(uintptr(unsafe.Pointer(p)))
}

// A breakpoint on a word of this process, opened for each of its threads,
// runs the program once per write (w) or per read and write (rw), from
// whichever thread accesses it, and not at all once closed.
func TestKernelBreakpoint(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.LockBreakpoints(t)
	for _, m := range modes {
		for _, access := range []uint32{BreakWrite, BreakRead | BreakWrite} {
			bp := Breakpoint{Len: 8, Access: access}
			t.Run(m.name+"/"+bp.Mode(), func(t *testing.T) {
				c := newCounter(t, ebpf.PerfEvent, 0)
				fds := openFDs(t)
				v, addr := watched()
				bp.Addr = addr
				spec := BreakpointSpec(bp)
				spec.PID = os.Getpid()
				a := attachOrSkip(t, spec, c.prog, m.mode)
				checkLinks(t, a, m.wantLinks)
				tids, err := processThreads(os.Getpid())
				if err != nil {
					t.Fatal(err)
				}
				// Threads started since were created by watched threads
				// and inherit their events.
				for _, tid := range a.Threads() {
					if !slices.Contains(tids, tid) {
						t.Errorf("attached to thread %d, not one of the process's %v", tid, tids)
					}
				}
				if cpus := a.CPUs(); len(cpus) != len(a.Threads()) || slices.ContainsFunc(cpus, func(c int) bool { return c != -1 }) {
					t.Errorf("CPUs() = %v: want -1 (any CPU) for each of %d threads", cpus, len(a.Threads()))
				}
				// Some accesses from a thread of their own, some from
				// whatever thread runs the goroutine.
				const n = 50
				done := make(chan int64)
				go func() {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					var sum int64
					for i := range int64(n) {
						atomic.StoreInt64(v, i)
						sum += atomic.LoadInt64(v)
					}
					done <- sum
				}()
				<-done
				for i := range int64(n) {
					atomic.StoreInt64(v, i)
					_ = atomic.LoadInt64(v)
				}
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
				want := uint64(2 * n)
				if access&BreakRead != 0 {
					want *= 2
				}
				if got := c.total(t); got != want {
					t.Errorf("%d runs for %d writes and %d reads, want %d", got, 2*n, 2*n, want)
				}
				atomic.StoreInt64(v, 1)
				c.assertStopped(t)
				if got := openFDs(t); got != fds {
					t.Errorf("%d open fds after Close, %d before Attach", got, fds)
				}
			})
		}
	}
}

// A thread has as many breakpoints as the CPU has debug registers (4 on
// x86-64): opening a fifth fails with ENOSPC, explained, and leaves
// nothing open.
func TestKernelBreakpointsRunOut(t *testing.T) {
	kerneltest.Require(t)
	kerneltest.LockBreakpoints(t)
	if runtime.GOARCH != "amd64" {
		t.Skipf("the number of debug registers is known for amd64 only, not %s", runtime.GOARCH)
	}
	c := newCounter(t, ebpf.PerfEvent, 0)
	buf := make([]int64, 8)
	var open []*Attachment
	defer func() {
		for _, a := range open {
			a.Close()
		}
	}()
	fds := openFDs(t)
	for i := range 5 {
		spec := BreakpointSpec(Breakpoint{Addr: uint64(uintptr(unsafe.Pointer(&buf[i]))), Len: 8, Access: BreakWrite})
		spec.PID = os.Getpid()
		before := openFDs(t)
		a, err := Attach(spec, c.prog)
		if i < 4 {
			if err != nil {
				t.Fatalf("breakpoint %d: %v", i+1, err)
			}
			open = append(open, a)
			continue
		}
		if err == nil {
			t.Fatalf("a fifth breakpoint attached")
		}
		if !strings.Contains(err.Error(), "no hardware breakpoint register left") || !strings.Contains(err.Error(), unix.ENOSPC.Error()) {
			t.Errorf("error %q does not explain that the debug registers are taken", err)
		}
		if got := openFDs(t); got != before {
			t.Errorf("%d open fds after the failed attach, %d before", got, before)
		}
	}
	for _, a := range open {
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	open = nil
	if got := openFDs(t); got != fds {
		t.Errorf("%d open fds after Close, %d before", got, fds)
	}
	runtime.KeepAlive(buf)
}

func TestProcessThreads(t *testing.T) {
	tids, err := processThreads(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tids, os.Getpid()) || !slices.IsSorted(tids) {
		t.Errorf("processThreads(self) = %v, want sorted thread IDs including %d", tids, os.Getpid())
	}
	if _, err := processThreads(1 << 30); err == nil || !strings.Contains(err.Error(), "no process with PID 1073741824") {
		t.Errorf("processThreads(no such process) = %v", err)
	}
}
