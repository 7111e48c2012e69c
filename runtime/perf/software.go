package perf

import "golang.org/x/sys/unix"

// NamedEvent is a perf event as bpftrace's software:EVENT:COUNT and
// hardware:EVENT:COUNT probes name it.
type NamedEvent struct {
	// Name is the long name, e.g. "page-faults".
	Name string
	// Alias is the short name, e.g. "faults", or "" if there is none.
	Alias string
	// Config is the perf_event_attr.config value, a PERF_COUNT_SW_* or
	// PERF_COUNT_HW_* constant.
	Config uint64
	// DefaultCount is the sample period bpftrace uses when the probe gives
	// no count: the program runs once every DefaultCount events.
	DefaultCount uint64
}

// SoftwareEvent is a perf software event (PERF_TYPE_SOFTWARE).
type SoftwareEvent = NamedEvent

// lookupEvent finds an event of evs by its long name or its alias. Names
// are case-sensitive, as in bpftrace.
func lookupEvent(evs []NamedEvent, name string) (NamedEvent, bool) {
	if name == "" {
		return NamedEvent{}, false
	}
	for _, ev := range evs {
		if ev.Name == name || ev.Alias == name {
			return ev, true
		}
	}
	return NamedEvent{}, false
}

// softwareEvents is bpftrace's SW_PROBE_LIST (src/probe_matcher.h in the
// bpftrace repository; unchanged since the software probe type was added in
// 2018, commit 93e4811a5 "add software and hardware probe types"). The
// bpftrace docs (docs/language.md, "software") list the names but not the
// default counts; those are only in the source:
//
//	alignment-faults      1
//	bpf-output            1
//	context-switches/cs   1000
//	cpu-clock/cpu         1000000   (1 ms of CPU time)
//	cpu-migrations        1
//	dummy                 1
//	emulation-faults      1
//	major-faults          1
//	minor-faults          100
//	page-faults/faults    100
//	task-clock            1         (the kernel raises clock periods below 10µs to 10µs)
//
// It is built on each call, so no caller can change it for another.
func softwareEvents() []SoftwareEvent {
	return []SoftwareEvent{
		{"alignment-faults", "", unix.PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
		{"bpf-output", "", unix.PERF_COUNT_SW_BPF_OUTPUT, 1},
		{"context-switches", "cs", unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
		{"cpu-clock", "cpu", unix.PERF_COUNT_SW_CPU_CLOCK, 1000000},
		{"cpu-migrations", "", unix.PERF_COUNT_SW_CPU_MIGRATIONS, 1},
		{"dummy", "", unix.PERF_COUNT_SW_DUMMY, 1},
		{"emulation-faults", "", unix.PERF_COUNT_SW_EMULATION_FAULTS, 1},
		{"major-faults", "", unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
		{"minor-faults", "", unix.PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
		{"page-faults", "faults", unix.PERF_COUNT_SW_PAGE_FAULTS, 100},
		{"task-clock", "", unix.PERF_COUNT_SW_TASK_CLOCK, 1},
	}
}

// SoftwareEvents returns every software event bpftrace accepts, sorted by
// name, for listing probes (-l).
func SoftwareEvents() []SoftwareEvent {
	return softwareEvents()
}

// LookupSoftware finds a software event by its long name or its alias
// ("page-faults" or "faults"). Names are case-sensitive, as in bpftrace.
func LookupSoftware(name string) (SoftwareEvent, bool) {
	return lookupEvent(softwareEvents(), name)
}
