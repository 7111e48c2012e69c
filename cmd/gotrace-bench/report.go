package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Tool names as results record them; none is the workload without a tracer.
const (
	gotraceName  = "gotrace"
	bpftraceName = "bpftrace"
	noneName     = "none"
)

// Metrics, by name. Per-script metrics are suffixed with the script's
// index.
const (
	mEvent     = "event"      // ns per program run (bpf_stats)
	mCall      = "call"       // CPU ns per getppid, traced by the tool or none
	mRSS       = "rss"        // peak RSS of the tracer, bytes
	mHello     = "hello"      // BEGIN { exit(); }, exec to exit, ns
	mHelloRSS  = "hello-rss"  // its peak RSS
	mAttach    = "attach"     // 10 probes, exec to attached, ns
	mAttachRSS = "attach-rss" // its peak RSS
	mFloodRate = "flood-rate" // printf flood flat out, events delivered per second
	mFloodLost = "flood-lost" // printf flood flat out, events lost
	mPacedLost = "paced-lost" // printf flood at bpftrace's rate, events lost
	mPacedRate = "paced-rate" // printf flood at bpftrace's rate, events delivered per second
	mCompile   = "compile"    // the 5,000-line script, exec to exit, ns
)

// scriptMetric is a per-script metric's name.
func scriptMetric(m string, i int) string { return fmt.Sprintf("%s/%d", m, i) }

// results holds every sample, by metric and tool.
type results struct {
	samples map[[2]string][]float64
}

func newResults() *results { return &results{samples: map[[2]string][]float64{}} }

// add records one sample.
func (r *results) add(metric, tool string, v float64) {
	k := [2]string{metric, tool}
	r.samples[k] = append(r.samples[k], v)
}

// median is the median of the samples; ok is false when there are none.
func (r *results) median(metric, tool string) (v float64, ok bool) {
	s := r.samples[[2]string{metric, tool}]
	if len(s) == 0 {
		return 0, false
	}
	return median(s), true
}

// max is the largest sample; ok is false when there are none.
func (r *results) max(metric, tool string) (v float64, ok bool) {
	s := r.samples[[2]string{metric, tool}]
	if len(s) == 0 {
		return 0, false
	}
	return slices.Max(s), true
}

// median of a non-empty slice, which it does not modify.
func median(s []float64) float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	n := len(c)
	return (c[(n-1)/2] + c[n/2]) / 2
}

// geomean is the geometric mean of positive numbers.
func geomean(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range v {
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(v)))
}

// value is a measured figure, or missing.
type value struct {
	v  float64
	ok bool
}

func (r *results) med(metric, tool string) value {
	v, ok := r.median(metric, tool)
	return value{v, ok}
}

// slowdown is the CPU time a tool adds to each call of the workload under
// script i: the fastest traced run against the fastest untraced run of the
// same script's reps. Fastest, not median: on a shared machine the
// workload's own CPU time per getppid() varies by a factor of two or more
// with what runs next to it (caches, the other hyperthread, the
// hypervisor), far more than a tracer adds, and that interference only
// ever adds time, so the fastest run is the one closest to the cost of the
// call itself.
func (r *results) slowdown(i int, tool string) value {
	m := scriptMetric(mCall, i)
	t, ok1 := r.min(m, tool)
	n, ok2 := r.min(m, noneName)
	return value{t - n, ok1 && ok2}
}

// min is the smallest sample; ok is false when there are none.
func (r *results) min(metric, tool string) (v float64, ok bool) {
	s := r.samples[[2]string{metric, tool}]
	if len(s) == 0 {
		return 0, false
	}
	return slices.Min(s), true
}

// ratio is a/b, missing unless both are there and b is positive.
func ratio(a, b value) value {
	if !a.ok || !b.ok || b.v <= 0 {
		return value{}
	}
	return value{a.v / b.v, true}
}

// format prints a value with a format, or a dash.
func (v value) format(f string) string {
	if !v.ok {
		return "—"
	}
	return fmt.Sprintf(f, v.v)
}

func (v value) ms() string    { return v.scaled(1e-6).format("%.1f ms") }
func (v value) s() string     { return v.scaled(1e-9).format("%.2f s") }
func (v value) mb() string    { return v.scaled(1.0 / (1 << 20)).format("%.1f MB") }
func (v value) ratio() string { return v.format("%.2f") }

func (v value) scaled(k float64) value { return value{v.v * k, v.ok} }

// rate prints events per second in thousands.
func (v value) rate() string { return v.scaled(1e-3).format("%.0f k/s") }

// verdict says whether a target holds.
func verdict(holds, known bool) string {
	switch {
	case !known:
		return "—"
	case holds:
		return "yes"
	default:
		return "**no**"
	}
}

// environment describes the run for the report's header.
type environment struct {
	Date, Machine, Kernel        string
	Gotrace, Bpftrace, GoVersion string
	Calls, Reps, CompileReps     int
	CompileLines                 int
	CPU                          int
	// LoadStart and LoadEnd are the one-minute load average before and
	// after the run.
	LoadStart, LoadEnd string
}

// report is everything render needs.
type report struct {
	env     environment
	scripts []script
	res     *results
	// pacedRate is the rate the paced printf flood ran at: bpftrace's
	// delivered rate flat out. Zero when it did not run.
	pacedRate float64
}

// target is one line of the targets table.
type target struct {
	what              string
	gotrace, bpftrace string
	ratio             string
	goal              string
	holds             string
}

// perEventRatios are gotrace's per-event cost over bpftrace's, by script,
// for the scripts both were measured on.
func (rp *report) perEventRatios() []float64 {
	var rs []float64
	for i := range rp.scripts {
		m := scriptMetric(mEvent, i)
		if q := ratio(rp.res.med(m, gotraceName), rp.res.med(m, bpftraceName)); q.ok {
			rs = append(rs, q.v)
		}
	}
	return rs
}

// maxRSS is a tool's largest peak RSS over the tracing runs (the per-event
// scripts).
func (rp *report) maxRSS(tool string) value {
	var best value
	for i := range rp.scripts {
		if v, ok := rp.res.max(scriptMetric(mRSS, i), tool); ok && (!best.ok || v > best.v) {
			best = value{v, true}
		}
	}
	return best
}

// targets evaluates issue 7's targets.
func (rp *report) targets() []target {
	r := rp.res
	var ts []target

	rs := rp.perEventRatios()
	if len(rs) > 0 {
		worst := slices.Max(rs)
		ts = append(ts, target{what: "per-event cost, slowest script against bpftrace", ratio: fmt.Sprintf("%.2f", worst),
			goal: "≤ 1", holds: verdict(worst <= 1, true)})
		g := geomean(rs)
		ts = append(ts, target{what: "per-event cost, geometric mean of the ratios", ratio: fmt.Sprintf("%.2f", g),
			goal: "≤ 0.8", holds: verdict(g <= 0.8, true)})
	}

	add := func(what, metric string, show func(value) string, goal string, ok func(float64) bool) {
		g, b := r.med(metric, gotraceName), r.med(metric, bpftraceName)
		q := ratio(g, b)
		ts = append(ts, target{what: what, gotrace: show(g), bpftrace: show(b), ratio: q.ratio(), goal: goal,
			holds: verdict(q.ok && ok(q.v), q.ok)})
	}
	add("start-up, `"+helloScript+"`, exec to exit", mHello, value.ms, "≤ 0.1", func(q float64) bool { return q <= 0.1 })
	add("start-up, 10 probes, exec to attached", mAttach, value.ms, "≤ 0.1", func(q float64) bool { return q <= 0.1 })

	g, b := rp.maxRSS(gotraceName), rp.maxRSS(bpftraceName)
	q := ratio(g, b)
	ts = append(ts, target{what: "peak RSS, largest over the per-event runs", gotrace: g.mb(), bpftrace: b.mb(), ratio: q.ratio(),
		goal: "≤ 0.3", holds: verdict(q.ok && q.v <= 0.3, q.ok)})
	add("peak RSS, `"+helloScript+"`", mHelloRSS, value.mb, "≤ 0.3", func(q float64) bool { return q <= 0.3 })

	add("printf flood flat out, events delivered per second", mFloodRate, value.rate, "≥ 1.5", func(q float64) bool { return q >= 1.5 })
	gl, bl := r.med(mFloodLost, gotraceName), r.med(mFloodLost, bpftraceName)
	ts = append(ts, target{what: "printf flood flat out, events lost (of the workload's calls)", gotrace: gl.format("%.0f"), bpftrace: bl.format("%.0f"),
		ratio: "", goal: "", holds: ""})
	if rp.pacedRate > 0 {
		gl, ok := r.max(mPacedLost, gotraceName)
		bl := r.med(mPacedLost, bpftraceName)
		ts = append(ts, target{what: fmt.Sprintf("printf flood at bpftrace's delivered rate (%.0f k/s), events lost (gotrace: most in a run)", rp.pacedRate/1e3),
			gotrace: value{gl, ok}.format("%.0f"), bpftrace: bl.format("%.0f"), goal: "gotrace 0", holds: verdict(ok && gl == 0, ok)})
		gr, br := r.med(mPacedRate, gotraceName), r.med(mPacedRate, bpftraceName)
		ts = append(ts, target{what: "printf flood at that rate, events delivered per second", gotrace: gr.rate(), bpftrace: br.rate()})
	}

	gc, bc := r.med(mCompile, gotraceName), r.med(mCompile, bpftraceName)
	ts = append(ts, target{what: fmt.Sprintf("compile a %d-line script, exec to exit", rp.env.CompileLines), gotrace: gc.s(), bpftrace: bc.s(),
		ratio: ratio(gc, bc).ratio(), goal: "gotrace < 0.5 s", holds: verdict(gc.ok && gc.v < 0.5e9, gc.ok)})
	return ts
}

// failed reports whether some target does not hold.
func (rp *report) failed() bool {
	for _, t := range rp.targets() {
		if t.holds == verdict(false, true) {
			return true
		}
	}
	return false
}

// render writes the report as Markdown.
func (rp *report) render(w io.Writer) {
	e := rp.env
	fmt.Fprintf(w, "Measured %s on %s, Linux %s; %s, %s, %s.\n", e.Date, e.Machine, e.Kernel, e.Gotrace, e.Bpftrace, e.GoVersion)
	fmt.Fprintf(w, "Medians of %d runs per tool (compile: %d), the tools alternated in one run; workload: %d getppid() calls on one thread pinned to CPU %d; load average %s at the start, %s at the end.\n\n",
		e.Reps, e.CompileReps, e.Calls, e.CPU, e.LoadStart, e.LoadEnd)

	r := rp.res
	untraced := value{}
	for i := range rp.scripts {
		if v, ok := r.min(scriptMetric(mCall, i), noneName); ok && (!untraced.ok || v < untraced.v) {
			untraced = value{v, true}
		}
	}
	fmt.Fprintf(w, "Per event: the kernel's bpf_stats (run_time_ns / run_cnt of the tracer's programs, ns per program run); slowdown: CPU time added to each getppid() in ns, fastest traced run against fastest untraced run (untraced: %s ns); peak RSS of the tracer over the run.\n\n",
		untraced.format("%.0f"))
	fmt.Fprintln(w, "| script | gotrace ns/event | bpftrace ns/event | ratio | gotrace +ns/call | bpftrace +ns/call | ratio | gotrace RSS | bpftrace RSS | ratio |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	var notes []string
	for i, s := range rp.scripts {
		name := s.Name
		if s.Note != "" {
			notes = append(notes, s.Note)
			name += strings.Repeat("*", len(notes))
		}
		ev, rss := scriptMetric(mEvent, i), scriptMetric(mRSS, i)
		ge, be := r.med(ev, gotraceName), r.med(ev, bpftraceName)
		gs, bs := r.slowdown(i, gotraceName), r.slowdown(i, bpftraceName)
		// A slowdown at or below zero is lost in the noise: no ratio.
		slowRatio := ratio(gs, bs)
		if gs.v <= 0 {
			slowRatio = value{}
		}
		gr, br := r.med(rss, gotraceName), r.med(rss, bpftraceName)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			ge.format("%.0f"), be.format("%.0f"), ratio(ge, be).ratio(),
			gs.format("%.0f"), bs.format("%.0f"), slowRatio.ratio(),
			gr.mb(), br.mb(), ratio(gr, br).ratio())
	}
	if rs := rp.perEventRatios(); len(rs) > 0 {
		fmt.Fprintf(w, "| geometric mean | | | %.2f | | | | | | |\n", geomean(rs))
	}
	for i, n := range notes {
		fmt.Fprintf(w, "\n%s %s\n", strings.Repeat("*", i+1), n)
	}

	fmt.Fprintln(w, "\nTargets (issue 7):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measurement | gotrace | bpftrace | ratio | target | holds |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | --- | --- |")
	for _, t := range rp.targets() {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", t.what, orDash(t.gotrace), orDash(t.bpftrace), t.ratio, t.goal, t.holds)
	}
}

// orDash is s, or an empty cell's dash.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
