package perf

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// EventSpec describes the perf events to open: one per CPU in CPUs.
type EventSpec struct {
	// Type is perf_event_attr.type: unix.PERF_TYPE_SOFTWARE,
	// unix.PERF_TYPE_TRACEPOINT, unix.PERF_TYPE_HARDWARE, ...
	Type uint32
	// Config is perf_event_attr.config: a PERF_COUNT_SW_* constant for
	// software events, a PERF_COUNT_HW_* constant for hardware events, the
	// tracepoint ID for tracepoints.
	Config uint64
	// Period runs the program once every Period events (for clock events,
	// every Period nanoseconds). Exactly one of Period and Frequency must be
	// set.
	Period uint64
	// Frequency, if non-zero, selects frequency mode: the kernel adjusts
	// the period so the program runs about Frequency times a second per
	// CPU.
	Frequency uint64
	// CPUs lists the CPUs to open an event on; nil means every online CPU.
	CPUs []int
	// PID, if not zero, opens the events for that process only (and,
	// with inherit, the children it creates from then on) instead of for
	// every task.
	PID int
	// Threads, with PID, opens one event per thread of the process, each
	// following its thread on any CPU (cpu -1), instead of one per CPU:
	// a hardware breakpoint must follow the threads that touch its
	// address, and one event per CPU would take a debug register on
	// every CPU for each thread. CPUs is then ignored.
	Threads bool
	// Breakpoint is the address an event of Type unix.PERF_TYPE_BREAKPOINT
	// watches; nil for other events.
	Breakpoint *Breakpoint
}

// String describes the spec for error messages, e.g.
// "software/cpu-clock period 10000000 on CPUs [0]".
func (s EventSpec) String() string {
	what := fmt.Sprintf("type %d config %d", s.Type, s.Config)
	if s.Type == unix.PERF_TYPE_SOFTWARE {
		for _, ev := range softwareEvents() {
			if ev.Config == s.Config {
				what = "software/" + ev.Name
			}
		}
	} else if name, ok := hardwareName(s.Config); ok && s.Type == unix.PERF_TYPE_HARDWARE {
		what = "hardware/" + name
	} else if s.Type == unix.PERF_TYPE_TRACEPOINT {
		what = fmt.Sprintf("tracepoint id %d", s.Config)
	} else if bp := s.Breakpoint; bp != nil {
		what = fmt.Sprintf("breakpoint %s on %d bytes at %#x", bp.Mode(), bp.Len, bp.Addr)
	}
	rate := fmt.Sprintf("period %d", s.Period)
	if s.Frequency != 0 {
		rate = fmt.Sprintf("frequency %d Hz", s.Frequency)
	}
	where := "all CPUs"
	if s.CPUs != nil {
		where = fmt.Sprintf("CPUs %v", s.CPUs)
	}
	if s.PID != 0 && s.Threads {
		where = fmt.Sprintf("every thread of PID %d", s.PID)
	} else if s.PID != 0 {
		where += fmt.Sprintf(" for PID %d", s.PID)
	}
	return what + " " + rate + " on " + where
}

// validate checks what the kernel would reject less legibly.
func (s EventSpec) validate() error {
	switch {
	case s.Period == 0 && s.Frequency == 0:
		return fmt.Errorf("perf event %v: neither a period nor a frequency is set", s)
	case s.Period != 0 && s.Frequency != 0:
		return fmt.Errorf("perf event %v: both a period (%d) and a frequency are set", s, s.Period)
	case s.CPUs != nil && len(s.CPUs) == 0:
		return fmt.Errorf("perf event %v: empty CPU list", s)
	case (s.Type == unix.PERF_TYPE_BREAKPOINT) != (s.Breakpoint != nil):
		return fmt.Errorf("perf event %v: a breakpoint event needs a Breakpoint, and only it can have one", s)
	case s.Breakpoint != nil && (s.Breakpoint.Access == 0 || s.Breakpoint.Access&^(BreakRead|BreakWrite|BreakExec) != 0):
		return fmt.Errorf("perf event %v: breakpoint access %#x is not a combination of BreakRead, BreakWrite and BreakExec", s, s.Breakpoint.Access)
	}
	return nil
}

// cpuClock returns a cpu-clock software event spec.
func cpuClock(period, freq uint64, cpus []int) EventSpec {
	return EventSpec{
		Type:      unix.PERF_TYPE_SOFTWARE,
		Config:    unix.PERF_COUNT_SW_CPU_CLOCK,
		Period:    period,
		Frequency: freq,
		CPUs:      cpus,
	}
}

// nanos converts a positive duration to a period in nanoseconds; zero or
// negative durations give 0, which Attach rejects.
func nanos(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64(d.Nanoseconds())
}

// IntervalSpec is bpftrace's interval:s|ms|us:N probe: a cpu-clock event on
// the first online CPU only, firing once every period. It reads the list of
// online CPUs now (falling back to CPU 0, as bpftrace does).
func IntervalSpec(period time.Duration) EventSpec {
	return cpuClock(nanos(period), 0, []int{firstOnlineCPU()})
}

// IntervalSpecHz is bpftrace's interval:hz:N probe: like IntervalSpec, in
// frequency mode.
func IntervalSpecHz(hz uint64) EventSpec {
	return cpuClock(0, hz, []int{firstOnlineCPU()})
}

// ProfileSpecHz is bpftrace's profile:hz:N probe: a cpu-clock event on every
// online CPU in frequency mode, N samples a second per CPU.
func ProfileSpecHz(hz uint64) EventSpec {
	return cpuClock(0, hz, nil)
}

// ProfileSpecPeriod is bpftrace's profile:s|ms|us:N probe: a cpu-clock event
// on every online CPU, firing once every period on each.
func ProfileSpecPeriod(period time.Duration) EventSpec {
	return cpuClock(nanos(period), 0, nil)
}

// SoftwareSpec is bpftrace's software:EVENT:COUNT probe: the software event
// on every online CPU, running the program once every count events; count 0
// means ev.DefaultCount.
func SoftwareSpec(ev SoftwareEvent, count uint64) EventSpec {
	if count == 0 {
		count = ev.DefaultCount
	}
	return EventSpec{Type: unix.PERF_TYPE_SOFTWARE, Config: ev.Config, Period: count}
}

// TracepointSpec is a tracepoint perf event for a program of type
// ebpf.TracePoint; id comes from tracefs (events/CAT/NAME/id).
//
// It opens ONE event, on the first online CPU, which is nonetheless hit on
// every CPU: the kernel runs programs attached to a tracepoint perf event
// from the tracepoint itself, wherever it fires, so one event per CPU
// would run the program once per CPU for each hit. (libbpf and cilium/ebpf
// likewise open tracepoint events on one CPU.)
func TracepointSpec(id uint64) EventSpec {
	return EventSpec{Type: unix.PERF_TYPE_TRACEPOINT, Config: id, Period: 1, CPUs: []int{firstOnlineCPU()}}
}
