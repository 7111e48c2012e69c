package perf

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Breakpoint is a hardware breakpoint: the CPU's debug registers make it
// trap when an address is accessed, and the kernel turns the trap into a
// perf event of type PERF_TYPE_BREAKPOINT (bpftrace's watchpoint probes).
type Breakpoint struct {
	// Addr is the watched address (perf_event_attr.bp_addr).
	Addr uint64
	// Len is how many bytes from Addr are watched (bp_len): 1, 2, 4 or 8,
	// and Addr must be a multiple of it; for BreakExec, sizeof(long).
	Len uint64
	// Access is what traps (bp_type): BreakRead, BreakWrite, BreakExec, or
	// a combination the CPU supports.
	Access uint32
}

// Kinds of access a breakpoint traps on: the HW_BREAKPOINT_R, _W and _X
// bits of <linux/hw_breakpoint.h>, which golang.org/x/sys does not define.
const (
	BreakRead  uint32 = 1
	BreakWrite uint32 = 2
	BreakExec  uint32 = 4
)

// Mode spells bp's access as bpftrace does: the letters of r, w and x, in
// that order ("rw").
func (bp Breakpoint) Mode() string {
	var b strings.Builder
	for _, m := range []struct {
		bit    uint32
		letter byte
	}{{BreakRead, 'r'}, {BreakWrite, 'w'}, {BreakExec, 'x'}} {
		if bp.Access&m.bit != 0 {
			b.WriteByte(m.letter)
		}
	}
	return b.String()
}

// BreakpointSpec is bpftrace's watchpoint:ADDRESS:LENGTH:MODE probe: the
// program runs on every access (period 1). Without a PID it is watched on
// every online CPU, for whatever runs there (kernel addresses); with one
// (set by the caller: -p or -c), it is watched in each thread of that
// process, wherever the thread runs (see EventSpec.Threads).
func BreakpointSpec(bp Breakpoint) EventSpec {
	return EventSpec{Type: unix.PERF_TYPE_BREAKPOINT, Period: 1, Breakpoint: &bp, Threads: true}
}

// processThreads lists the threads of process pid (from /proc/PID/task).
func processThreads(pid int) ([]int, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no process with PID %d", pid)
	}
	if err != nil {
		return nil, fmt.Errorf("listing the threads of process %d: %w", pid, err)
	}
	var tids []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	sort.Ints(tids)
	return tids, nil
}

// attachThreads opens one event per thread of spec.PID, each on any CPU
// (cpu -1) and inherited by the threads and processes that thread creates
// from then on, and attaches prog to each. One event for the PID alone
// would only watch the thread whose ID is the PID (perf events name
// threads) and the threads it creates later, not the others already
// running. A thread that exits while the events are opened is skipped; a
// thread that a not yet watched thread creates meanwhile is missed (the
// kernel offers no way to open an event for a whole process). On error
// nothing stays open.
func attachThreads(spec EventSpec, prog *ebpf.Program, mode attachMode) (*Attachment, error) {
	tids, err := processThreads(spec.PID)
	if err != nil {
		return nil, fmt.Errorf("perf event %v: %w", spec, err)
	}
	a := &Attachment{}
	for _, tid := range tids {
		ev, err := attachOne(spec, prog, tid, -1, &mode)
		if errors.Is(err, unix.ESRCH) {
			continue
		}
		if err != nil {
			_ = a.Close()
			return nil, fmt.Errorf("perf event %v: thread %d: %w", spec, tid, err)
		}
		a.events = append(a.events, ev)
	}
	if len(a.events) == 0 {
		return nil, fmt.Errorf("perf event %v: process %d exited", spec, spec.PID)
	}
	return a, nil
}

// breakpointHint explains why the kernel refused a breakpoint.
func breakpointHint(err error) string {
	switch {
	case errors.Is(err, unix.ENOSPC):
		// The kernel counts slots per CPU and per task
		// (kernel/events/hw_breakpoint.c); x86-64 has DR0..DR3.
		return " (no hardware breakpoint register left: x86-64 CPUs have 4, shared by all the watchpoints of the script and by debuggers and other tracers)"
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP):
		return " (this kernel or machine has no hardware breakpoints: see /sys/bus/event_source/devices/breakpoint, CONFIG_HAVE_HW_BREAKPOINT)"
	case errors.Is(err, unix.EINVAL):
		return " (the kernel refused the address, length or mode: addresses must be multiples of the length, and some kernel addresses, such as the entry code's, cannot be watched)"
	}
	return ""
}
