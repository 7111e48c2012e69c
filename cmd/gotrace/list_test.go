package main

import (
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// tracefsRoot is where the machine's tracing filesystem is mounted.
func tracefsRoot(t *testing.T) string {
	t.Helper()
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		if fi, err := os.Stat(filepath.Join(dir, "events")); err == nil && fi.IsDir() {
			return dir
		}
	}
	// gotrace mounts tracefs itself when it is missing; running it once
	// leaves the mount for this test to read.
	gotrace(t, "", "-l", "tracepoint:sched:sched_switch")
	if fi, err := os.Stat("/sys/kernel/tracing/events"); err == nil && fi.IsDir() {
		return "/sys/kernel/tracing"
	}
	kerneltest.SkipOrFail(t, "no tracing filesystem mounted")
	return ""
}

// kernelTracepoints lists "tracepoint:CATEGORY:NAME" for every event
// directory of tracefs that can be enabled (has an "enable" file), read
// directly from the filesystem, sorted by category and then by name (so
// fib:* comes before fib6:*).
// rawTracepoints lists the raw tracepoints of the tracepoints tps, as -l
// should: every tracepoint but the syscalls:* events (which the syscall
// tracing code makes from raw_syscalls), each name once.
func rawTracepoints(tps []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, tp := range tps {
		parts := strings.Split(tp, ":")
		if parts[1] == "syscalls" || seen[parts[2]] {
			continue
		}
		seen[parts[2]] = true
		out = append(out, "rawtracepoint:"+parts[1]+":"+parts[2])
	}
	return out
}

func kernelTracepoints(t *testing.T) []string {
	t.Helper()
	events := filepath.Join(tracefsRoot(t), "events")
	cats, err := os.ReadDir(events)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cats {
		if !c.IsDir() {
			continue
		}
		evs, err := os.ReadDir(filepath.Join(events, c.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if !e.IsDir() {
				continue
			}
			if _, err := os.Stat(filepath.Join(events, c.Name(), e.Name(), "enable")); err != nil {
				continue
			}
			out = append(out, "tracepoint:"+c.Name()+":"+e.Name())
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		ac, an, _ := strings.Cut(strings.TrimPrefix(a, "tracepoint:"), ":")
		bc, bn, _ := strings.Cut(strings.TrimPrefix(b, "tracepoint:"), ":")
		if c := strings.Compare(ac, bc); c != 0 {
			return c
		}
		return strings.Compare(an, bn)
	})
	if len(out) == 0 {
		t.Fatalf("no tracepoints under %s", events)
	}
	return out
}

// softwareEvents are the perf software events gotrace offers, as -l lists
// them (the same set bpftrace offers).
var softwareEvents = []string{
	"software:alignment-faults:",
	"software:bpf-output:",
	"software:context-switches:",
	"software:cpu-clock:",
	"software:cpu-migrations:",
	"software:dummy:",
	"software:emulation-faults:",
	"software:major-faults:",
	"software:minor-faults:",
	"software:page-faults:",
	"software:task-clock:",
}

// hardwareEvents are the perf hardware events gotrace offers, as -l lists
// them (the set bpftrace documents): listed whether or not the CPU has
// counters.
var hardwareEvents = []string{
	"hardware:backend-stalls:",
	"hardware:branch-instructions:",
	"hardware:branch-misses:",
	"hardware:bus-cycles:",
	"hardware:cache-misses:",
	"hardware:cache-references:",
	"hardware:cpu-cycles:",
	"hardware:frontend-stalls:",
	"hardware:instructions:",
	"hardware:ref-cycles:",
}

func lines(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, "\n") + "\n"
}

func filter(names []string, keep func(string) bool) []string {
	var out []string
	for _, n := range names {
		if keep(n) {
			out = append(out, n)
		}
	}
	return out
}

func glob(pattern string) func(string) bool {
	return func(n string) bool {
		ok, err := path.Match(pattern, n)
		if err != nil {
			panic(err)
		}
		return ok
	}
}

// kernelFunctionProbes lists, read directly from the kernel, the kprobe
// and fentry probes a listing of everything shows: none on a kernel that
// cannot attach them; else each function of available_filter_functions as
// kprobe:FUNC (kprobe:MODULE:FUNC), sorted by name and module, then those
// with BTF as fentry:FUNC.
func kernelFunctionProbes(t *testing.T) []string {
	t.Helper()
	hasKprobe := kerneltest.HasFeature(kerneltest.Kprobe) == nil
	hasFentry := kerneltest.HasFeature(kerneltest.Fentry) == nil
	if !hasKprobe && !hasFentry {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(tracefsRoot(t), "available_filter_functions"))
	if err != nil {
		t.Fatalf("the kernel has kprobes or fentry, but its traceable functions cannot be listed: %v", err)
	}
	type fn struct{ name, module string }
	var fns []fn
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "__ftrace_invalid_address__") {
			continue
		}
		x := fn{name: f[0]}
		if len(f) > 1 {
			x.module = strings.Trim(f[1], "[]")
		}
		fns = append(fns, x)
	}
	slices.SortFunc(fns, func(a, b fn) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.module, b.module)
	})
	fns = slices.Compact(fns)
	probe := func(provider string, f fn) string {
		if f.module == "" {
			return provider + ":" + f.name
		}
		return provider + ":" + f.module + ":" + f.name
	}
	var out []string
	if hasKprobe {
		for _, f := range fns {
			out = append(out, probe("kprobe", f))
		}
	}
	if hasFentry {
		vmlinux, err := btf.LoadKernelSpec()
		if err != nil {
			t.Fatal(err)
		}
		modules := map[string]*btf.Spec{}
		for _, f := range fns {
			spec := vmlinux
			if f.module != "" {
				if _, ok := modules[f.module]; !ok {
					modules[f.module], _ = btf.LoadKernelModuleSpec(f.module)
				}
				if spec = modules[f.module]; spec == nil {
					continue
				}
			}
			var bf *btf.Func
			if spec.TypeByName(f.name, &bf) == nil {
				out = append(out, probe("fentry", f))
			}
		}
	}
	return out
}

func TestList(t *testing.T) {
	kerneltest.Require(t)
	tps := kernelTracepoints(t)
	raw := rawTracepoints(tps)
	all := slices.Concat([]string{"BEGIN", "END"}, softwareEvents, hardwareEvents, tps, raw, kernelFunctionProbes(t))

	openTPs := filter(tps, glob("tracepoint:syscalls:sys_enter_open*"))
	if len(openTPs) < 2 || !slices.Contains(openTPs, "tracepoint:syscalls:sys_enter_openat") {
		t.Fatalf("tracefs has unexpected syscalls:sys_enter_open* events: %q", openTPs)
	}
	schedSwitch := filter(slices.Concat(tps, raw), func(n string) bool { return strings.Contains(n, "sched_switch") })
	if !slices.Contains(schedSwitch, "tracepoint:sched:sched_switch") {
		t.Fatalf("tracefs has no sched:sched_switch: %q", schedSwitch)
	}

	cases := []struct {
		name    string
		args    []string
		want    []string
		wantHas string // a name that must be in want (documents the case)
	}{
		{"glob", []string{"-l", "tracepoint:syscalls:sys_enter_open*"}, openTPs, "tracepoint:syscalls:sys_enter_openat"},
		{"glob with alias", []string{"-l", "t:syscalls:sys_enter_open*"}, openTPs, "tracepoint:syscalls:sys_enter_open"},
		{"glob ?", []string{"-l", "tracepoint:syscalls:sys_enter_open?t"}, []string{"tracepoint:syscalls:sys_enter_openat"}, "tracepoint:syscalls:sys_enter_openat"},
		{"substring", []string{"-l", "sched_switch"}, schedSwitch, "tracepoint:sched:sched_switch"},
		{"substring over providers", []string{"-l", "clock"}, filter(all, func(n string) bool { return strings.Contains(n, "clock") }), "software:cpu-clock:"},
		{"category glob", []string{"-l", "tracepoint:sched:*"}, filter(tps, glob("tracepoint:sched:*")), "tracepoint:sched:sched_switch"},
		{"rawtracepoints", []string{"-l", "rawtracepoint:*"}, raw, "rawtracepoint:sched:sched_switch"},
		{"rawtracepoint alias", []string{"-l", "rt:sched:sched_s*"}, filter(raw, glob("rawtracepoint:sched:sched_s*")), "rawtracepoint:sched:sched_switch"},
		{"software", []string{"-l", "software:*"}, softwareEvents, "software:page-faults:"},
		{"software alias", []string{"-l", "s:*"}, softwareEvents, "software:page-faults:"},
		{"software substring", []string{"-l", "faults"}, filter(softwareEvents, func(n string) bool { return strings.Contains(n, "faults") }), "software:major-faults:"},
		{"hardware", []string{"-l", "hardware:*"}, hardwareEvents, "hardware:cpu-cycles:"},
		{"hardware alias", []string{"-l", "h:*"}, hardwareEvents, "hardware:cache-misses:"},
		{"hardware glob", []string{"-l", "hardware:cache-*"}, []string{"hardware:cache-misses:", "hardware:cache-references:"}, "hardware:cache-misses:"},
		{"hardware verbose", []string{"-lv", "hardware:branch*"}, []string{"hardware:branch-instructions:", "hardware:branch-misses:"}, "hardware:branch-misses:"},
		{"substring cycles", []string{"-l", "cycles"}, filter(all, func(n string) bool { return strings.Contains(n, "cycles") }), "hardware:ref-cycles:"},
		{"BEGIN", []string{"-l", "BEGIN"}, []string{"BEGIN"}, "BEGIN"},
		{"everything", []string{"-l"}, all, "END"},
		{"no match", []string{"-l", "tracepoint:no_such_category_xyz:*"}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.wantHas != "" && !slices.Contains(c.want, c.wantHas) {
				t.Fatalf("bad test: %q is not among the expected names", c.wantHas)
			}
			gotrace(t, "", c.args...).check(t, lines(c.want), "", 0)
		})
	}
}

// usdtListSource has USDT probes whose arguments are where no compiler
// choice can move them, so that -lv's output is exact: constants of every
// size, and (with -O2) static volatile globals read in place, relative to
// %rip. demo:twice is at two places whose arguments differ.
const usdtListSource = `#include <stdint.h>
#include <sys/sdt.h>

static volatile int32_t counter = 5;
static volatile uint64_t total = 7;
static volatile int16_t small = -3;

static inline __attribute__((always_inline)) void site(int which) {
	if (which)
		DTRACE_PROBE2(demo, twice, 1, counter);
	else
		DTRACE_PROBE2(demo, twice, 2, total);
}

int main(int argc, char **argv) {
	DTRACE_PROBE(demo, none);
	DTRACE_PROBE4(demo, consts, (int8_t)-1, (uint16_t)7, (int64_t)-2, (uint64_t)3);
	DTRACE_PROBE3(demo, globals, counter, total, small);
	DTRACE_PROBE1(other, consts, (int32_t)-40);
	site(argc > 5);
	site(argc > 6);
	return 0;
}
`

// TestListUSDTVerbose checks -lv on a file's USDT probes: under each, a
// line per argument with its type (from the note's size and sign) and
// where the note puts it, as the note spells it.
func TestListUSDTVerbose(t *testing.T) {
	kerneltest.Require(t)
	if goruntime.GOARCH != "amd64" {
		t.Skipf("the expected operands are x86-64's, not %s's", goruntime.GOARCH)
	}
	bin := kerneltest.CompileC(t, t.TempDir(), "usdtlist", usdtListSource, "-O2")
	all := `usdt:BIN:demo:consts
    arg0: int8 (-1@$-1)
    arg1: uint16 (2@$7)
    arg2: int64 (-8@$-2)
    arg3: uint64 (8@$3)
usdt:BIN:demo:globals
    arg0: int32 (-4@counter(%rip))
    arg1: uint64 (8@total(%rip))
    arg2: int16 (-2@small(%rip))
usdt:BIN:demo:none
usdt:BIN:demo:twice
    arg0: int32 (-4@$1 or -4@$2)
    arg1: int32 or uint64 (-4@counter(%rip) or 8@total(%rip))
usdt:BIN:other:consts
    arg0: int32 (-4@$-40)
`
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-lv", "usdt:BIN:*"}, all},
		{[]string{"-lv", "usdt:BIN"}, all},
		{[]string{"-l", "-v", "U:BIN:demo:t*"}, "usdt:BIN:demo:twice\n    arg0: int32 (-4@$1 or -4@$2)\n    arg1: int32 or uint64 (-4@counter(%rip) or 8@total(%rip))\n"},
		{[]string{"-lv", "usdt:BIN:consts"}, "usdt:BIN:demo:consts\n    arg0: int8 (-1@$-1)\n    arg1: uint16 (2@$7)\n    arg2: int64 (-8@$-2)\n    arg3: uint64 (8@$3)\nusdt:BIN:other:consts\n    arg0: int32 (-4@$-40)\n"},
		{[]string{"-l", "usdt:BIN:*"}, "usdt:BIN:demo:consts\nusdt:BIN:demo:globals\nusdt:BIN:demo:none\nusdt:BIN:demo:twice\nusdt:BIN:other:consts\n"},
	}
	for _, c := range cases {
		args := make([]string, len(c.args))
		for i, a := range c.args {
			args[i] = strings.ReplaceAll(a, "BIN", bin)
		}
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			gotrace(t, "", args...).check(t, strings.ReplaceAll(c.want, "BIN", bin), "", 0)
		})
	}
}
