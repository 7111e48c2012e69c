package perf

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// HardwareEvent is a generalized hardware event (PERF_TYPE_HARDWARE), as
// bpftrace's hardware:EVENT:COUNT probe names it. The kernel maps each to
// the CPU's own counter; a CPU without performance counters (most virtual
// machines) has none of them.
type HardwareEvent = NamedEvent

// hardwareEvents is the event list of bpftrace's hardware probe. The names
// and aliases are those of bpftrace's documentation (docs/language.md,
// "hardware"), which are perf(1)'s; the documentation gives no default
// counts, which are bpftrace's (its HW_PROBE_LIST in src/probe_matcher.h):
// 100000 for the branch events and bus-cycles, 1000000 for the others.
//
// It is built on each call, so no caller can change it for another.
func hardwareEvents() []HardwareEvent {
	return []HardwareEvent{
		{"backend-stalls", "", unix.PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
		{"branch-instructions", "branches", unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
		{"branch-misses", "", unix.PERF_COUNT_HW_BRANCH_MISSES, 100000},
		{"bus-cycles", "", unix.PERF_COUNT_HW_BUS_CYCLES, 100000},
		{"cache-misses", "", unix.PERF_COUNT_HW_CACHE_MISSES, 1000000},
		{"cache-references", "", unix.PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
		{"cpu-cycles", "cycles", unix.PERF_COUNT_HW_CPU_CYCLES, 1000000},
		{"frontend-stalls", "", unix.PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000},
		{"instructions", "", unix.PERF_COUNT_HW_INSTRUCTIONS, 1000000},
		{"ref-cycles", "", unix.PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
	}
}

// HardwareEvents returns every hardware event bpftrace accepts, sorted by
// name, for listing probes (-l).
func HardwareEvents() []HardwareEvent {
	return hardwareEvents()
}

// LookupHardware finds a hardware event by its long name or its alias
// ("cpu-cycles" or "cycles"). Names are case-sensitive, as in bpftrace.
func LookupHardware(name string) (HardwareEvent, bool) {
	return lookupEvent(hardwareEvents(), name)
}

// HardwareSpec is bpftrace's hardware:EVENT:COUNT probe: the hardware event
// on every online CPU, running the program once every count events; count
// 0 means ev.DefaultCount.
func HardwareSpec(ev HardwareEvent, count uint64) EventSpec {
	if count == 0 {
		count = ev.DefaultCount
	}
	return EventSpec{Type: unix.PERF_TYPE_HARDWARE, Config: ev.Config, Period: count}
}

// hardwareName names a PERF_TYPE_HARDWARE config for messages.
func hardwareName(config uint64) (string, bool) {
	for _, ev := range hardwareEvents() {
		if ev.Config == config {
			return ev.Name, true
		}
	}
	return "", false
}

// TryOpen opens spec's event on one CPU (the first of spec.CPUs, or the
// first online CPU) for every task, and closes it at once: it tells
// whether the kernel can open such an event at all, before anything is
// attached. It returns perf_event_open's error, which wraps the errno
// (unix.ENOENT: the PMU has no such event, or there is no PMU for the
// type; unix.EOPNOTSUPP: the PMU cannot sample), or nil. A spec with
// neither a period nor a frequency opens a counting event, which any PMU
// that has the event can open.
func TryOpen(spec EventSpec) error {
	cpu := firstOnlineCPU()
	if len(spec.CPUs) > 0 {
		cpu = spec.CPUs[0]
	}
	attr := eventAttr(spec)
	fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("perf_event_open: %w", err)
	}
	return unix.Close(fd)
}
