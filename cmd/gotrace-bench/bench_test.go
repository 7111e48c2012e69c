package main

// Unit tests of the suite's parsing, bookkeeping and table, which need no
// kernel, and one kernel test that gotrace compiles every script of the
// suite.

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// Real fdinfo texts from Linux 6.18: a program and a link to it.
const (
	progFdinfo = `pos:	0
flags:	02000002
mnt_id:	17
ino:	1039
prog_type:	5
prog_jited:	1
prog_tag:	b47e2fa22a7029e4
memlock:	4096
prog_id:	26868
run_time_ns:	123456
run_cnt:	789
recursion_misses:	0
verified_insns:	63
`
	linkFdinfo = `pos:	0
flags:	02000000
mnt_id:	17
ino:	1039
link_type:	perf
link_id:	7902
prog_tag:	b47e2fa22a7029e4
prog_id:	26868
tp_name:	sys_enter
event_type:	tracepoint
cookie:	0
`
	mapFdinfo = `pos:	0
flags:	02000002
mnt_id:	17
ino:	1039
map_type:	2
key_size:	4
value_size:	8
max_entries:	1
map_flags:	0x0
map_extra:	0x0
memlock:	272
map_id:	4052
frozen:	0
`
)

func TestParseFdinfo(t *testing.T) {
	fi, ok := parseFdinfo(progFdinfo)
	if !ok || !fi.hasStats || fi.progID != 26868 || fi.stats != (progStats{ID: 26868, RunNS: 123456, RunCnt: 789}) {
		t.Errorf("program: got %+v, %v", fi, ok)
	}
	fi, ok = parseFdinfo(linkFdinfo)
	if !ok || fi.hasStats || fi.progID != 26868 {
		t.Errorf("link: got %+v, %v; want the program's ID without stats", fi, ok)
	}
	if fi, ok := parseFdinfo(mapFdinfo); ok {
		t.Errorf("map: got %+v, want not a program", fi)
	}
}

func TestPerEvent(t *testing.T) {
	before := snapshot{1: {ID: 1, RunNS: 1000, RunCnt: 10}, 2: {ID: 2, RunNS: 0, RunCnt: 0}}
	after := snapshot{
		1: {ID: 1, RunNS: 5000, RunCnt: 50}, // 4000 ns over 40 runs
		2: {ID: 2, RunNS: 2000, RunCnt: 10}, // 2000 ns over 10 runs
		3: {ID: 3, RunNS: 4000, RunCnt: 50}, // new: 4000 over 50
	}
	ns, runs := perEvent(before, after)
	if runs != 100 || ns != 100 {
		t.Errorf("perEvent = %v ns over %d runs, want 100 ns over 100", ns, runs)
	}
	if _, runs := perEvent(after, after); runs != 0 {
		t.Errorf("no runs between equal snapshots: got %d", runs)
	}
	if n := after.running(); n != 3 {
		t.Errorf("running = %d, want 3", n)
	}
	if n := before.running(); n != 1 {
		t.Errorf("running = %d, want 1", n)
	}
	if o := after.only(map[uint32]bool{2: true, 9: true}); len(o) != 1 || o[2].RunCnt != 10 {
		t.Errorf("only = %v", o)
	}
}

func TestLostIn(t *testing.T) {
	text := "Attaching 1 probe...\nLost 10 events\nE 1 2\nLost 3 events\nLost 1 event\nLost x events\nWARNING: Lost 5 events\n"
	if got := lostIn(text); got != 14 {
		t.Errorf("lostIn = %d, want 14", got)
	}
}

func TestLineCounter(t *testing.T) {
	c := &lineCounter{}
	// Lines split across writes, as a pipe delivers them.
	for _, w := range []string{"Attaching 1 probe...\nE 1 ", "2\nE 3 4\nLo", "st 7 events\nE 5", " 6\n", "E 7"} {
		c.Write([]byte(w))
	}
	events, lost, last := c.snapshot()
	if events != 3 || lost != 7 || last.IsZero() {
		t.Errorf("events %d, lost %d, last %v; want 3, 7, set", events, lost, last)
	}
}

func TestWaitQuiet(t *testing.T) {
	c := &lineCounter{}
	c.Write([]byte("E 1 1\n"))
	start := time.Now()
	c.waitQuiet(20*time.Millisecond, 5*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("waitQuiet took %v after the last event", d)
	}
}

func TestWorkloadString(t *testing.T) {
	w := workload{Calls: 1000000, Rate: 63312.5, CPU: 1}
	got, err := parseWorkload(w.String())
	if err != nil || got != w {
		t.Errorf("parseWorkload(%q) = %+v, %v", w.String(), got, err)
	}
	for _, bad := range []string{"", "calls=0", "calls=x", "calls=1 speed=2", "calls"} {
		if _, err := parseWorkload(bad); err == nil {
			t.Errorf("parseWorkload(%q) succeeded", bad)
		}
	}
	if ns, err := parseWorkloadOutput("ns_per_call 312.50\n"); err != nil || ns != 312.5 {
		t.Errorf("parseWorkloadOutput = %v, %v", ns, err)
	}
	if _, err := parseWorkloadOutput("panic: x"); err == nil {
		t.Error("parseWorkloadOutput accepted garbage")
	}
}

func TestGetppidLoopPaced(t *testing.T) {
	// 2,000 calls at 20,000 a second take 0.1 s, give or take the last
	// batch.
	d := getppidLoop(2000, 20000)
	if d < 90*time.Millisecond || d > 2*time.Second {
		t.Errorf("2000 calls at 20000/s took %v", d)
	}
}

func TestLargeScript(t *testing.T) {
	for _, c := range []struct{ lines, per int }{{5000, 100}, {300, 100}, {301, 100}, {302, 100}, {7, 100}, {3, 3}} {
		s := largeScript(c.lines, c.per)
		if n := strings.Count(s, "\n"); n != c.lines {
			t.Errorf("largeScript(%d, %d) has %d lines", c.lines, c.per, n)
		}
		if open, close := strings.Count(s, "sys_enter {\n"), strings.Count(s, "\n}\n"); open != close {
			t.Errorf("largeScript(%d, %d): %d probes, %d closing braces", c.lines, c.per, open, close)
		}
	}
	if n := strings.Count(largeScript(5000, 100), "tracepoint:"); n != 50 {
		t.Errorf("5000 lines make %d probes, want 50", n)
	}
}

func TestRotate(t *testing.T) {
	xs := []string{"a", "b", "c"}
	for i, want := range []string{"abc", "bca", "cab", "abc"} {
		if got := strings.Join(rotate(xs, i), ""); got != want {
			t.Errorf("rotate(abc, %d) = %s, want %s", i, got, want)
		}
	}
	if strings.Join(xs, "") != "abc" {
		t.Error("rotate changed its argument")
	}
}

func TestMedianGeomean(t *testing.T) {
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if g := geomean([]float64{0.5, 2, 1}); math.Abs(g-1) > 1e-12 {
		t.Errorf("geomean = %v, want 1", g)
	}
}

func TestParseFlags(t *testing.T) {
	var stderr bytes.Buffer
	c, err := parseFlags([]string{"-reps", "3", "-only", "startup,compile"}, &stderr)
	if err != nil || c.reps != 3 || strings.Join(c.sections, ",") != "startup,compile" || c.calls != 1_000_000 {
		t.Errorf("got %+v, %v", c, err)
	}
	for _, bad := range [][]string{{"-only", "perevent,bogus"}, {"-reps", "0"}, {"extra"}} {
		if _, err := parseFlags(bad, &stderr); err == nil {
			t.Errorf("parseFlags(%q) succeeded", bad)
		}
	}
}

// fakeReport is a report with made-up figures for every measurement.
func fakeReport() *report {
	res := newResults()
	scripts := perEventScripts()
	// No script of the set has a footnote now; a made-up one checks how
	// footnotes are shown.
	scripts[len(scripts)-1].Note = "a footnote"
	for i := range scripts {
		for _, v := range []float64{100, 110, 90} {
			res.add(scriptMetric(mEvent, i), gotraceName, v)
			res.add(scriptMetric(mEvent, i), bpftraceName, 2*v)
			res.add(scriptMetric(mCall, i), noneName, 300+v)
			res.add(scriptMetric(mCall, i), gotraceName, 300+2*v)
			res.add(scriptMetric(mCall, i), bpftraceName, 300+4*v)
			res.add(scriptMetric(mRSS, i), gotraceName, 10<<20)
			res.add(scriptMetric(mRSS, i), bpftraceName, 90<<20)
		}
	}
	res.add(mHello, gotraceName, 12e6)
	res.add(mHello, bpftraceName, 290e6)
	res.add(mHelloRSS, gotraceName, 10<<20)
	res.add(mHelloRSS, bpftraceName, 88<<20)
	res.add(mAttach, gotraceName, 60e6)
	res.add(mAttach, bpftraceName, 120e6)
	res.add(mFloodRate, gotraceName, 900e3)
	res.add(mFloodRate, bpftraceName, 60e3)
	res.add(mFloodLost, gotraceName, 20000)
	res.add(mFloodLost, bpftraceName, 0)
	res.add(mPacedLost, gotraceName, 0)
	res.add(mPacedLost, gotraceName, 3)
	res.add(mPacedLost, bpftraceName, 100)
	res.add(mCompile, gotraceName, 15e9)
	res.add(mCompile, bpftraceName, 140e9)
	return &report{
		env: environment{Date: "2026-11-27", Machine: "AMD EPYC, 2 CPUs, 24 GB", Kernel: "6.18", Gotrace: "gotrace v0.1.0",
			Bpftrace: "bpftrace v0.17.0", GoVersion: "go1.26", Calls: 1000000, Reps: 3, CompileReps: 1, CompileLines: 5000, CPU: 1,
			LoadStart: "1.05", LoadEnd: "2.50"},
		scripts: scripts, res: res, pacedRate: 60e3,
	}
}

func TestRender(t *testing.T) {
	rp := fakeReport()
	var b bytes.Buffer
	rp.render(&b)
	out := b.String()
	for _, want := range []string{
		"Measured 2026-11-27 on AMD EPYC, 2 CPUs, 24 GB, Linux 6.18; gotrace v0.1.0, bpftrace v0.17.0, go1.26.",
		// Slowdowns are fastest traced run minus fastest untraced run:
		// gotrace 300+180 - (300+90), bpftrace 300+360 - (300+90).
		"pinned to CPU 1; load average 1.05 at the start, 2.50 at the end.",
		"(untraced: 390 ns)",
		"| `@[comm] = count()` | 100 | 200 | 0.50 | 90 | 270 | 0.33 | 10.0 MB | 90.0 MB | 0.11 |",
		"| geometric mean | | | 0.50 | | | | | | |",
		"| `profile:hz:999`, `@[kstack] = count()`* |",
		"\n* a footnote\n",
		"| per-event cost, slowest script against bpftrace | — | — | 0.50 | ≤ 1 | yes |",
		"| start-up, `BEGIN { exit(); }`, exec to exit | 12.0 ms | 290.0 ms | 0.04 | ≤ 0.1 | yes |",
		"| start-up, 10 probes, exec to attached | 60.0 ms | 120.0 ms | 0.50 | ≤ 0.1 | **no** |",
		"| printf flood flat out, events delivered per second | 900 k/s | 60 k/s | 15.00 | ≥ 1.5 | yes |",
		// The worst paced run counts, not the median.
		"| printf flood at bpftrace's delivered rate (60 k/s), events lost (gotrace: most in a run) | 3 | 100 |  | gotrace 0 | **no** |",
		"| compile a 5000-line script, exec to exit | 15.00 s | 140.00 s | 0.11 | gotrace < 0.5 s | **no** |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q; it is:\n%s", want, out)
		}
	}
	if !rp.failed() {
		t.Error("failed() = false with failing targets")
	}
}

func TestRenderGotraceAlone(t *testing.T) {
	res := newResults()
	res.add(scriptMetric(mEvent, 0), gotraceName, 60)
	res.add(mHello, gotraceName, 12e6)
	rp := &report{scripts: perEventScripts(), res: res}
	var b bytes.Buffer
	rp.render(&b)
	out := b.String()
	for _, want := range []string{
		"| `@ = count()` | 60 | — | — |",
		"| start-up, `BEGIN { exit(); }`, exec to exit | 12.0 ms | — | — | ≤ 0.1 | — |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q; it is:\n%s", want, out)
		}
	}
	if strings.Contains(out, "geometric mean |") {
		t.Error("a geometric mean without bpftrace")
	}
	if rp.failed() {
		t.Error("failed() with nothing to compare")
	}
}

// TestScriptsCompile checks that gotrace compiles every script the suite
// runs, so that a change to the language cannot quietly drop a row.
func TestScriptsCompile(t *testing.T) {
	kerneltest.Require(t)
	texts := map[string]string{"hello": helloScript, "ten probes": tenProbeScript(), "large": largeScript(300, 100)}
	for _, s := range perEventScripts() {
		texts[s.Name] = s.Text
	}
	for name, text := range texts {
		s, err := runtime.Compile(name, text, runtime.CompileOptions{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if name == "ten probes" && s.NumProbes() != 10 {
			t.Errorf("the ten-probe script has %d probes", s.NumProbes())
		}
	}
}

func TestOK(t *testing.T) {
	s := &suite{log: io.Discard}
	gt := tool{Name: gotraceName}
	if !s.ok("x", gt, nil) || len(s.notes)+len(s.failures) != 0 {
		t.Error("nil error")
	}
	if !s.ok("x", gt, &stuckError{tool: "bpftrace", after: time.Minute}) || len(s.notes) != 1 || len(s.failures) != 0 {
		t.Errorf("a stuck tracer's figures count and are noted: notes %q, failures %q", s.notes, s.failures)
	}
	if s.ok("x", gt, errors.New("boom")) || len(s.failures) != 1 {
		t.Errorf("an error is a failure: failures %q", s.failures)
	}
}
