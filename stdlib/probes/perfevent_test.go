package probes

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/perf"
)

// TestResolveCountedEvents resolves software and hardware attach points:
// the event, its aliases, the count (default, literal forms) and the
// errors, which name the attach point and say what would work.
func TestResolveCountedEvents(t *testing.T) {
	hw := func(config, period uint64) *perf.EventSpec {
		return &perf.EventSpec{Type: unix.PERF_TYPE_HARDWARE, Config: config, Period: period}
	}
	sw := func(config, period uint64) *perf.EventSpec {
		return &perf.EventSpec{Type: unix.PERF_TYPE_SOFTWARE, Config: config, Period: period}
	}
	tests := []struct {
		raw  string
		name string
		spec *perf.EventSpec
		err  string
	}{
		// bpftrace's default counts: 1000000, 100000 for branches and
		// bus-cycles.
		{raw: "hardware:cpu-cycles", name: "hardware:cpu-cycles:1000000", spec: hw(unix.PERF_COUNT_HW_CPU_CYCLES, 1000000)},
		{raw: "hardware:cycles:", name: "hardware:cpu-cycles:1000000", spec: hw(unix.PERF_COUNT_HW_CPU_CYCLES, 1000000)},
		{raw: "h:instructions:100", name: "hardware:instructions:100", spec: hw(unix.PERF_COUNT_HW_INSTRUCTIONS, 100)},
		{raw: "hardware:cache-misses:1e6", name: "hardware:cache-misses:1000000", spec: hw(unix.PERF_COUNT_HW_CACHE_MISSES, 1000000)},
		{raw: "hardware:cache-references:1_000", name: "hardware:cache-references:1000", spec: hw(unix.PERF_COUNT_HW_CACHE_REFERENCES, 1000)},
		{raw: "hardware:branches", name: "hardware:branch-instructions:100000", spec: hw(unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000)},
		{raw: "hardware:branch-instructions:0x10", name: "hardware:branch-instructions:16", spec: hw(unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 16)},
		{raw: "hardware:branch-misses", name: "hardware:branch-misses:100000", spec: hw(unix.PERF_COUNT_HW_BRANCH_MISSES, 100000)},
		{raw: "hardware:bus-cycles", name: "hardware:bus-cycles:100000", spec: hw(unix.PERF_COUNT_HW_BUS_CYCLES, 100000)},
		{raw: "hardware:frontend-stalls", name: "hardware:frontend-stalls:1000000", spec: hw(unix.PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000)},
		{raw: "hardware:backend-stalls:7", name: "hardware:backend-stalls:7", spec: hw(unix.PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 7)},
		{raw: "hardware:ref-cycles", name: "hardware:ref-cycles:1000000", spec: hw(unix.PERF_COUNT_HW_REF_CPU_CYCLES, 1000000)},
		{raw: "software:faults", name: "software:page-faults:100", spec: sw(unix.PERF_COUNT_SW_PAGE_FAULTS, 100)},
		{raw: "software:cpu-clock:", name: "software:cpu-clock:1000000", spec: sw(unix.PERF_COUNT_SW_CPU_CLOCK, 1000000)},
		{raw: "s:cs:1e3", name: "software:context-switches:1000", spec: sw(unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000)},

		{raw: "hardware", err: "hardware needs an event: hardware:EVENT[:COUNT] (gotrace -l 'hardware:*' lists the events)"},
		{raw: "h:", err: "h needs an event: hardware:EVENT[:COUNT] (gotrace -l 'hardware:*' lists the events)"},
		{raw: "hardware:cycles:1:2", err: "hardware:cycles:1:2: too many parts: hardware:EVENT[:COUNT] (gotrace -l 'hardware:*' lists the events)"},
		{raw: "hardware:cycels", err: "hardware:cycels: there is no hardware event cycels; did you mean cycles?"},
		{raw: "hardware:cache-mises", err: "hardware:cache-mises: there is no hardware event cache-mises; did you mean cache-misses?"},
		{raw: "hardware:Cycles", err: "hardware:Cycles: there is no hardware event Cycles; did you mean cycles?"},
		{raw: "hardware:nope", err: "hardware:nope: there is no hardware event nope (known: backend-stalls, branch-instructions (branches), branch-misses, bus-cycles, cache-misses, cache-references, cpu-cycles (cycles), frontend-stalls, instructions, ref-cycles)"},
		{raw: "hardware:page-faults", err: "hardware:page-faults: there is no hardware event page-faults; page-faults is a software event: software:page-faults"},
		{raw: "software:cycles", err: "software:cycles: there is no software event cycles; cycles is a hardware event: hardware:cycles"},
		{raw: "software:page-fault", err: "software:page-fault: there is no software event page-fault; did you mean page-faults?"},
		{raw: "hardware:cache-*", err: "hardware:cache-*: hardware events take no wildcards: name one, hardware:EVENT[:COUNT] (gotrace -l 'hardware:*' lists the events)"},
		{raw: "hardware:cycles:0", err: "hardware:cycles:0: the count must be at least 1: the program runs once every COUNT events"},
		{raw: "hardware:cycles:many", err: `hardware:cycles:many: bad count: "many" is not a whole number`},
		{raw: "hardware:cycles:10ms", err: `hardware:cycles:10ms: bad count: "10ms" is not a whole number`},
		{raw: "hardware:cycles:1e30", err: "hardware:cycles:1e30: bad count: integer literal 1e30 is too large"},
	}
	reg := NewRegistry()
	for _, tt := range tests {
		ts, err := reg.Resolve(&Env{}, tt.raw)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: got %v, %v; want error\n%s", tt.raw, ts, err, tt.err)
			}
			continue
		}
		if err != nil || len(ts) != 1 {
			t.Errorf("%s: got %v, %v; want one target", tt.raw, ts, err)
			continue
		}
		got := ts[0]
		if got.Name != tt.name || !reflect.DeepEqual(got.Perf, tt.spec) || got.Spec != tt.raw || got.Provider.ProgType.String() != "PerfEvent" {
			t.Errorf("%s: got name %q spec %+v (%s, %v); want %q %+v", tt.raw, got.Name, got.Perf, got.Spec, got.Provider.ProgType, tt.name, tt.spec)
		}
	}
}

// hardwareFeatures is a machine whose CPUs count some hardware events.
type hardwareFeatures map[string]error

func (hardwareFeatures) Kprobes() error     { return nil }
func (hardwareFeatures) Tracing() error     { return nil }
func (hardwareFeatures) KprobeMulti() error { return nil }
func (f hardwareFeatures) Hardware(ev perf.HardwareEvent) error {
	return f[ev.Name]
}

// TestHardwareRequire checks the one-line error of a hardware probe that
// the machine cannot attach, for a machine without counters (with what
// works instead) and for one whose counters lack the event.
func TestHardwareRequire(t *testing.T) {
	none := &MissingFeature{What: noHardwareCounters, Why: "no hardware performance counters: perf_event_open fails with ENOENT"}
	lacking := &MissingFeature{What: "count frontend-stalls", Why: "the CPU's performance counters have no such event: perf_event_open fails with ENOENT"}
	features := hardwareFeatures{"cpu-cycles": nil, "frontend-stalls": lacking, "cache-misses": none}
	tests := []struct{ raw, err string }{
		{"hardware:cycles:100", ""},
		{"h:frontend-stalls", "h:frontend-stalls: this kernel cannot count frontend-stalls (the CPU's performance counters have no such event: perf_event_open fails with ENOENT)"},
		{"hardware:cache-misses:1e6", "hardware:cache-misses:1e6: this kernel cannot count hardware events (no hardware performance counters: perf_event_open fails with ENOENT); software events work: gotrace -l 'software:*'"},
	}
	reg := NewRegistry()
	for _, tt := range tests {
		env := &Env{Features: features}
		ts, err := reg.Resolve(env, tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		p := ts[0].Provider
		if !p.RequireEach {
			t.Errorf("%s: the hardware provider must be asked for each target", tt.raw)
		}
		err = p.Require(env, ts[0])
		if tt.err == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.raw, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.err {
			t.Errorf("%s: got %v; want\n%s", tt.raw, err, tt.err)
		}
	}
}
