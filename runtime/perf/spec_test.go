package perf

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "0\n", want: []int{0}},
		{in: "0-1\n", want: []int{0, 1}},
		{in: "0-3,5,7-8", want: []int{0, 1, 2, 3, 5, 7, 8}},
		{in: "2,4", want: []int{2, 4}},
		{in: "1-1", want: []int{1}},
		{in: "", wantErr: true},
		{in: "\n", wantErr: true},
		{in: "a", wantErr: true},
		{in: "3-1", wantErr: true},
		{in: "0-", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "0,,1", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseCPUList(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOnlineCPUs(t *testing.T) {
	cpus, err := OnlineCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) == 0 || !slices.IsSorted(cpus) {
		t.Fatalf("OnlineCPUs() = %v", cpus)
	}
	if firstOnlineCPU() != cpus[0] {
		t.Errorf("firstOnlineCPU() = %d, want %d", firstOnlineCPU(), cpus[0])
	}
}

func TestLookupSoftware(t *testing.T) {
	tests := []struct {
		name         string
		wantName     string
		config       uint64
		defaultCount uint64
	}{
		{"cpu-clock", "cpu-clock", unix.PERF_COUNT_SW_CPU_CLOCK, 1000000},
		{"cpu", "cpu-clock", unix.PERF_COUNT_SW_CPU_CLOCK, 1000000},
		{"task-clock", "task-clock", unix.PERF_COUNT_SW_TASK_CLOCK, 1},
		{"page-faults", "page-faults", unix.PERF_COUNT_SW_PAGE_FAULTS, 100},
		{"faults", "page-faults", unix.PERF_COUNT_SW_PAGE_FAULTS, 100},
		{"context-switches", "context-switches", unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
		{"cs", "context-switches", unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
		{"cpu-migrations", "cpu-migrations", unix.PERF_COUNT_SW_CPU_MIGRATIONS, 1},
		{"minor-faults", "minor-faults", unix.PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
		{"major-faults", "major-faults", unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
		{"alignment-faults", "alignment-faults", unix.PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
		{"emulation-faults", "emulation-faults", unix.PERF_COUNT_SW_EMULATION_FAULTS, 1},
		{"dummy", "dummy", unix.PERF_COUNT_SW_DUMMY, 1},
		{"bpf-output", "bpf-output", unix.PERF_COUNT_SW_BPF_OUTPUT, 1},
	}
	for _, tt := range tests {
		ev, ok := LookupSoftware(tt.name)
		if !ok || ev.Name != tt.wantName || ev.Config != tt.config || ev.DefaultCount != tt.defaultCount {
			t.Errorf("LookupSoftware(%q) = %+v, %v; want %s config %d default %d",
				tt.name, ev, ok, tt.wantName, tt.config, tt.defaultCount)
		}
	}
	for _, bad := range []string{"", "Faults", "page_faults", "cycles", "major"} {
		if ev, ok := LookupSoftware(bad); ok {
			t.Errorf("LookupSoftware(%q) = %+v, want not found", bad, ev)
		}
	}
}

func TestSoftwareEvents(t *testing.T) {
	evs := SoftwareEvents()
	if len(evs) != 11 {
		t.Errorf("%d events, want bpftrace's 11", len(evs))
	}
	if !slices.IsSortedFunc(evs, func(a, b SoftwareEvent) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("not sorted by name")
	}
	for _, ev := range evs {
		if got, ok := LookupSoftware(ev.Name); !ok || got != ev {
			t.Errorf("LookupSoftware(%q) = %+v, %v", ev.Name, got, ok)
		}
	}
	// The result is a copy: changing it does not change later lookups.
	evs[0].DefaultCount = 12345
	if again := SoftwareEvents(); again[0].DefaultCount == 12345 {
		t.Error("SoftwareEvents exposes its table")
	}
}

func TestLookupHardware(t *testing.T) {
	tests := []struct {
		name         string
		wantName     string
		config       uint64
		defaultCount uint64
	}{
		{"cpu-cycles", "cpu-cycles", unix.PERF_COUNT_HW_CPU_CYCLES, 1000000},
		{"cycles", "cpu-cycles", unix.PERF_COUNT_HW_CPU_CYCLES, 1000000},
		{"instructions", "instructions", unix.PERF_COUNT_HW_INSTRUCTIONS, 1000000},
		{"cache-references", "cache-references", unix.PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
		{"cache-misses", "cache-misses", unix.PERF_COUNT_HW_CACHE_MISSES, 1000000},
		{"branch-instructions", "branch-instructions", unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
		{"branches", "branch-instructions", unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
		{"branch-misses", "branch-misses", unix.PERF_COUNT_HW_BRANCH_MISSES, 100000},
		{"bus-cycles", "bus-cycles", unix.PERF_COUNT_HW_BUS_CYCLES, 100000},
		{"frontend-stalls", "frontend-stalls", unix.PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000},
		{"backend-stalls", "backend-stalls", unix.PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
		{"ref-cycles", "ref-cycles", unix.PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
	}
	for _, tt := range tests {
		ev, ok := LookupHardware(tt.name)
		if !ok || ev.Name != tt.wantName || ev.Config != tt.config || ev.DefaultCount != tt.defaultCount {
			t.Errorf("LookupHardware(%q) = %+v, %v; want %s config %d default %d",
				tt.name, ev, ok, tt.wantName, tt.config, tt.defaultCount)
		}
	}
	for _, bad := range []string{"", "Cycles", "cpu_cycles", "page-faults", "stalled-cycles-frontend"} {
		if ev, ok := LookupHardware(bad); ok {
			t.Errorf("LookupHardware(%q) = %+v, want not found", bad, ev)
		}
	}
}

func TestHardwareEvents(t *testing.T) {
	evs := HardwareEvents()
	if len(evs) != 10 {
		t.Errorf("%d events, want bpftrace's 10", len(evs))
	}
	if !slices.IsSortedFunc(evs, func(a, b HardwareEvent) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("not sorted by name")
	}
	for _, ev := range evs {
		if got, ok := LookupHardware(ev.Name); !ok || got != ev {
			t.Errorf("LookupHardware(%q) = %+v, %v", ev.Name, got, ok)
		}
		if _, ok := LookupSoftware(ev.Name); ok {
			t.Errorf("%s is a software event too", ev.Name)
		}
	}
	evs[0].DefaultCount = 12345
	if again := HardwareEvents(); again[0].DefaultCount == 12345 {
		t.Error("HardwareEvents exposes its table")
	}
}

func TestSpecConstructors(t *testing.T) {
	first := firstOnlineCPU()
	faults, _ := LookupSoftware("faults")
	cs, _ := LookupSoftware("cs")
	cycles, _ := LookupHardware("cycles")
	branches, _ := LookupHardware("branches")
	sw := uint32(unix.PERF_TYPE_SOFTWARE)
	hw := uint32(unix.PERF_TYPE_HARDWARE)
	clock := uint64(unix.PERF_COUNT_SW_CPU_CLOCK)
	tests := []struct {
		name string
		got  EventSpec
		want EventSpec
	}{
		{"interval:s:1", IntervalSpec(time.Second), EventSpec{sw, clock, 1e9, 0, []int{first}, 0, false, nil}},
		{"interval:ms:10", IntervalSpec(10 * time.Millisecond), EventSpec{sw, clock, 1e7, 0, []int{first}, 0, false, nil}},
		{"interval:us:100", IntervalSpec(100 * time.Microsecond), EventSpec{sw, clock, 1e5, 0, []int{first}, 0, false, nil}},
		{"interval:hz:5", IntervalSpecHz(5), EventSpec{sw, clock, 0, 5, []int{first}, 0, false, nil}},
		{"profile:hz:99", ProfileSpecHz(99), EventSpec{sw, clock, 0, 99, nil, 0, false, nil}},
		{"profile:ms:5", ProfileSpecPeriod(5 * time.Millisecond), EventSpec{sw, clock, 5e6, 0, nil, 0, false, nil}},
		{"software:faults", SoftwareSpec(faults, 0), EventSpec{sw, unix.PERF_COUNT_SW_PAGE_FAULTS, 100, 0, nil, 0, false, nil}},
		{"software:faults:1", SoftwareSpec(faults, 1), EventSpec{sw, unix.PERF_COUNT_SW_PAGE_FAULTS, 1, 0, nil, 0, false, nil}},
		{"software:cs", SoftwareSpec(cs, 0), EventSpec{sw, unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000, 0, nil, 0, false, nil}},
		{"hardware:cycles", HardwareSpec(cycles, 0), EventSpec{hw, unix.PERF_COUNT_HW_CPU_CYCLES, 1000000, 0, nil, 0, false, nil}},
		{"hardware:branches", HardwareSpec(branches, 0), EventSpec{hw, unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000, 0, nil, 0, false, nil}},
		{"hardware:branches:7", HardwareSpec(branches, 7), EventSpec{hw, unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 7, 0, nil, 0, false, nil}},
		{"tracepoint 372", TracepointSpec(372), EventSpec{unix.PERF_TYPE_TRACEPOINT, 372, 1, 0, []int{first}, 0, false, nil}},
		{"negative interval", IntervalSpec(-time.Second), EventSpec{sw, clock, 0, 0, []int{first}, 0, false, nil}},
		{"watchpoint:0x1000:8:rw", BreakpointSpec(Breakpoint{Addr: 0x1000, Len: 8, Access: BreakRead | BreakWrite}),
			EventSpec{Type: unix.PERF_TYPE_BREAKPOINT, Period: 1, Threads: true, Breakpoint: &Breakpoint{0x1000, 8, 3}}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, tt.got, tt.want)
		}
	}
}

func TestSpecValidateAndString(t *testing.T) {
	tests := []struct {
		spec    EventSpec
		str     string
		wantErr string
	}{
		{spec: ProfileSpecHz(99), str: "software/cpu-clock frequency 99 Hz on all CPUs"},
		{spec: IntervalSpec(time.Millisecond).withCPUs(0), str: "software/cpu-clock period 1000000 on CPUs [0]"},
		{spec: TracepointSpec(7).withCPUs(1), str: "tracepoint id 7 period 1 on CPUs [1]"},
		{spec: EventSpec{Type: unix.PERF_TYPE_HARDWARE, Config: unix.PERF_COUNT_HW_CACHE_MISSES, Period: 1000, PID: 42}, str: "hardware/cache-misses period 1000 on all CPUs for PID 42"},
		{spec: EventSpec{Type: unix.PERF_TYPE_HARDWARE, Config: 99, Period: 1}, str: "type 0 config 99 period 1 on all CPUs"},
		{spec: EventSpec{Type: 42, Config: 3, Period: 1}, str: "type 42 config 3 period 1 on all CPUs"},
		{spec: BreakpointSpec(Breakpoint{Addr: 0x404020, Len: 8, Access: BreakWrite}), str: "breakpoint w on 8 bytes at 0x404020 period 1 on all CPUs"},
		{spec: BreakpointSpec(Breakpoint{Addr: 0x404020, Len: 4, Access: BreakRead | BreakWrite}).withPID(42), str: "breakpoint rw on 4 bytes at 0x404020 period 1 on every thread of PID 42"},
		{spec: BreakpointSpec(Breakpoint{Addr: 0x401000, Len: 8, Access: BreakExec}), str: "breakpoint x on 8 bytes at 0x401000 period 1 on all CPUs"},
		{spec: EventSpec{Type: unix.PERF_TYPE_BREAKPOINT, Period: 1}, wantErr: "needs a Breakpoint"},
		{spec: EventSpec{Type: unix.PERF_TYPE_SOFTWARE, Period: 1, Breakpoint: &Breakpoint{1, 1, BreakWrite}}, wantErr: "only it can have one"},
		{spec: BreakpointSpec(Breakpoint{Addr: 8, Len: 8}), wantErr: "breakpoint access 0x0"},
		{spec: BreakpointSpec(Breakpoint{Addr: 8, Len: 8, Access: 8}), wantErr: "breakpoint access 0x8"},
		{spec: IntervalSpec(0), wantErr: "neither a period nor a frequency"},
		{spec: EventSpec{Type: unix.PERF_TYPE_SOFTWARE, Period: 1, Frequency: 1}, wantErr: "both a period"},
		{spec: ProfileSpecHz(1).withCPUs([]int{}...), wantErr: "empty CPU list"},
	}
	for _, tt := range tests {
		err := tt.spec.validate()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("validate(%+v) = %v, want %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("validate(%+v) = %v", tt.spec, err)
		}
		if got := tt.spec.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
	}
}

func (s EventSpec) withPID(pid int) EventSpec {
	s.PID = pid
	return s
}

func TestBreakpointMode(t *testing.T) {
	for access, want := range map[uint32]string{
		BreakRead: "r", BreakWrite: "w", BreakExec: "x",
		BreakRead | BreakWrite: "rw", BreakWrite | BreakExec: "wx", BreakRead | BreakWrite | BreakExec: "rwx", 0: "",
	} {
		if got := (Breakpoint{Access: access}).Mode(); got != want {
			t.Errorf("Mode() of access %#x = %q, want %q", access, got, want)
		}
	}
}
