// Command gotrace-bench measures gotrace against bpftrace (issue 7): for
// each script of a fixed set it runs gotrace and, when it is installed,
// bpftrace on the same script and the same workload, one after the other in
// one run, and prints a Markdown table of both and their ratio:
//
//   - per-event cost of the generated code, from the kernel's own
//     accounting (bpf_stats: run_time_ns / run_cnt of the programs the
//     tracer process holds, found through /proc/PID/fdinfo), while a
//     workload makes one million getppid() calls;
//   - the workload's slowdown: CPU time added to each call (the workload
//     thread's CPU clock), against no tracer;
//   - peak RSS of the tracer (getrusage of the child);
//   - start-up: exec to exit of `BEGIN { exit(); }`, and exec to attached
//     for a 10-probe script;
//   - printf throughput: a printf on every event of the workload, events
//     delivered per second and lost, flat out and at the rate bpftrace
//     reaches;
//   - compile time of a generated 5,000-line script.
//
// Then it checks the targets. Run it as root from the module root:
//
//	go run ./cmd/gotrace-bench
//	go run ./cmd/gotrace-bench -only perevent,startup -reps 9
//
// It builds gotrace from this module (or runs -gotrace PATH) and finds
// bpftrace on $PATH. The machine's load varies, so every comparison is a
// ratio of medians of runs made side by side, the tools alternating (the
// slowdown compares the fastest runs instead: see results.slowdown); the
// table goes to standard output, progress to standard error.
//
// The workload is this binary, re-executed: one thread named "gtbench"
// pinned to one CPU makes the calls and times them.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// config is the command line.
type config struct {
	gotrace, bpftrace string
	reps, compileReps int
	calls             int
	cpu               int
	compileLines      int
	sections          []string
	check             bool
}

// allSections are the parts of the suite, in the order they run.
func allSections() []string { return []string{"perevent", "startup", "flood", "compile"} }

func main() {
	if spec := os.Getenv(workloadEnv); spec != "" {
		if err := runWorkloadChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("gotrace-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.gotrace, "gotrace", "", "gotrace binary (default: build ./cmd/gotrace of this module)")
	fs.StringVar(&c.bpftrace, "bpftrace", "bpftrace", "bpftrace binary, looked up on $PATH; empty: measure gotrace alone")
	fs.IntVar(&c.reps, "reps", 5, "runs of each tool per measurement (start-up: twice as many)")
	fs.IntVar(&c.compileReps, "compile-reps", 3, "runs of each tool compiling the large script")
	fs.IntVar(&c.calls, "calls", 1_000_000, "getppid() calls per workload run")
	fs.IntVar(&c.cpu, "cpu", goruntime.NumCPU()-1, "CPU the workload runs on")
	fs.IntVar(&c.compileLines, "compile-lines", 5000, "lines of the generated script the compile measurement uses")
	only := fs.String("only", strings.Join(allSections(), ","), "sections to run")
	fs.BoolVar(&c.check, "check", false, "exit with status 1 if a target does not hold")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(*only, ",") {
		if !slices.Contains(allSections(), s) {
			return c, fmt.Errorf("-only: unknown section %q (have %s)", s, strings.Join(allSections(), ","))
		}
		c.sections = append(c.sections, s)
	}
	if c.reps < 1 || c.compileReps < 1 || c.calls < 1 {
		return c, errors.New("-reps, -compile-reps and -calls must be positive")
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "gotrace-bench:", err)
		}
		return 2
	}
	s, err := newSuite(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "gotrace-bench:", err)
		return 1
	}
	defer s.close()
	rp := s.run()
	rp.render(stdout)
	if len(s.failures) > 0 {
		fmt.Fprintln(stdout, "\nFailed runs (missing from the medians):")
		fmt.Fprintln(stdout)
		for _, f := range s.failures {
			fmt.Fprintf(stdout, "- %s\n", f)
		}
	}
	if len(s.notes) > 0 {
		fmt.Fprintln(stdout, "\nNotes:")
		fmt.Fprintln(stdout)
		for _, n := range s.notes {
			fmt.Fprintf(stdout, "- %s (its figures were taken before and count)\n", n)
		}
	}
	if len(s.failures) > 0 || (cfg.check && rp.failed()) {
		return 1
	}
	return 0
}

// suite is one run of the benchmark.
type suite struct {
	cfg   config
	log   io.Writer
	dir   string // scratch: the gotrace build, the large script
	exe   string // this binary, which is also the workload
	tools []tool // gotrace, then bpftrace if there is one
	res   *results
	stats io.Closer
	// failures are the runs that went wrong, described; the suite carries
	// on without their samples.
	failures []string
	// notes are runs whose tracer had to be killed after its figures were
	// taken: the figures count, the incident is reported.
	notes []string
}

func newSuite(cfg config, log io.Writer) (*suite, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("must run as root (it loads BPF programs and reads other processes' fdinfo)")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gotrace-bench-")
	if err != nil {
		return nil, err
	}
	s := &suite{cfg: cfg, log: log, dir: dir, exe: exe, res: newResults()}
	gt := cfg.gotrace
	if gt == "" {
		gt = filepath.Join(dir, "gotrace")
		fmt.Fprintln(log, "building gotrace")
		if out, err := exec.Command("go", "build", "-o", gt, "github.com/gotrace/gotrace/cmd/gotrace").CombinedOutput(); err != nil {
			s.close()
			return nil, fmt.Errorf("building gotrace (run from the module, or give -gotrace): %v\n%s", err, out)
		}
	}
	s.tools = append(s.tools, tool{Name: gotraceName, Path: gt})
	if cfg.bpftrace != "" {
		if p, err := exec.LookPath(cfg.bpftrace); err == nil {
			s.tools = append(s.tools, tool{Name: bpftraceName, Path: p})
		} else {
			fmt.Fprintf(log, "bpftrace not found (%v): measuring gotrace alone\n", err)
		}
	}
	if s.stats, err = enableStats(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *suite) close() {
	if s.stats != nil {
		s.stats.Close()
	}
	os.RemoveAll(s.dir)
}

// run runs the chosen sections and returns the report.
func (s *suite) run() *report {
	rp := &report{env: s.environment(), scripts: perEventScripts(), res: s.res}
	for _, sec := range s.cfg.sections {
		switch sec {
		case "perevent":
			s.perEventSection(rp.scripts)
		case "startup":
			s.startupSection()
		case "flood":
			rp.pacedRate = s.floodSection()
		case "compile":
			s.compileSection()
		}
	}
	rp.env.LoadEnd = loadAverage()
	return rp
}

// fail records a run that went wrong.
func (s *suite) fail(what string, t tool, err error) {
	msg := fmt.Sprintf("%s, %s: %v", what, t.Name, err)
	fmt.Fprintln(s.log, "FAILED:", msg)
	s.failures = append(s.failures, strings.ReplaceAll(strings.TrimSpace(msg), "\n", " / "))
}

// ok sorts out the error of a run: ok is false if it failed (and is
// recorded as such). A *stuckError, a tracer that hung on exit after its
// figures were taken, is noted, and the figures are kept.
func (s *suite) ok(what string, t tool, err error) bool {
	switch {
	case err == nil:
		return true
	case isStuck(err):
		msg := fmt.Sprintf("%s: %v", what, err)
		fmt.Fprintln(s.log, "NOTE:", msg)
		s.notes = append(s.notes, msg)
		return true
	default:
		s.fail(what, t, err)
		return false
	}
}

// rotate is xs rotated left by i: rep i of a measurement runs the tools in
// this order, so that no tool always runs first (on a cold cache) or
// always right after another one.
func rotate[T any](xs []T, i int) []T {
	if len(xs) == 0 {
		return nil
	}
	i %= len(xs)
	return append(slices.Clone(xs[i:]), xs[:i]...)
}

// attachTimeout bounds a tracer's start-up.
const attachTimeout = 60 * time.Second

// perEventSection measures every script: per-event cost, slowdown and RSS
// under each tool, and the untraced workload next to them.
func (s *suite) perEventSection(scripts []script) {
	none := tool{Name: noneName}
	w := workload{Calls: s.cfg.calls, CPU: s.cfg.cpu}
	for rep := range s.cfg.reps {
		for i, sc := range scripts {
			fmt.Fprintf(s.log, "per-event %d/%d: %s\n", rep+1, s.cfg.reps, sc.Name)
			for _, t := range rotate(append([]tool{none}, s.tools...), rep) {
				if t.Name == noneName {
					ns, err := w.run(s.exe)
					if err != nil {
						s.fail("untraced workload", t, err)
						continue
					}
					s.res.add(scriptMetric(mCall, i), noneName, ns)
					continue
				}
				ev, ns, rss, err := s.traceWorkload(t, sc, w)
				if !s.ok(sc.Name, t, err) {
					continue
				}
				s.res.add(scriptMetric(mCall, i), t.Name, ns)
				s.res.add(scriptMetric(mEvent, i), t.Name, ev)
				s.res.add(scriptMetric(mRSS, i), t.Name, float64(rss))
			}
		}
	}
}

// traceWorkload runs the workload under the tool tracing sc and returns
// the mean cost of one program run, the workload's ns per call and the
// tracer's peak RSS. With a *stuckError, the figures are valid.
func (s *suite) traceWorkload(t tool, sc script, w workload) (ev, nsPerCall float64, rss int64, err error) {
	p, err := startTracer(t, sc.Text, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	if _, err := p.waitAttached(sc.Progs, attachTimeout); err != nil {
		return 0, 0, 0, err
	}
	before, err := p.snapshot()
	if err != nil {
		p.kill()
		return 0, 0, 0, err
	}
	nsPerCall, err = w.run(s.exe)
	if err != nil {
		p.kill()
		return 0, 0, 0, err
	}
	after, err := p.snapshot()
	if err != nil {
		p.kill()
		return 0, 0, 0, err
	}
	rss, stopErr := p.stop()
	if stopErr != nil && !isStuck(stopErr) {
		return 0, 0, 0, stopErr
	}
	ev, runs := perEvent(before, after)
	if runs == 0 {
		return 0, 0, 0, errors.New("its programs did not run during the workload")
	}
	return ev, nsPerCall, rss, stopErr
}

// startupSection measures exec to exit of a script that exits in BEGIN,
// and exec to attached of a 10-probe script.
func (s *suite) startupSection() {
	ten := tenProbeScript()
	// How many programs each tool runs the 10 probes with: bpftrace loads
	// one per probe, gotrace one per tracepoint (its probes on one event
	// are one program).
	progs := map[string]int{}
	for _, t := range s.tools {
		n, err := settledPrograms(t, ten)
		if err != nil {
			s.fail("10 probes", t, err)
			continue
		}
		fmt.Fprintf(s.log, "  %s runs the 10 probes as %d programs\n", t.Name, n)
		progs[t.Name] = n
	}
	for rep := range 2 * s.cfg.reps {
		fmt.Fprintf(s.log, "start-up %d/%d\n", rep+1, 2*s.cfg.reps)
		for _, t := range rotate(s.tools, rep) {
			d, rss, err := runToExit(t, attachTimeout, "-e", helloScript)
			if err != nil {
				s.fail("start-up", t, err)
			} else {
				fmt.Fprintf(s.log, "  %s: exit after %v\n", t.Name, d.Round(time.Microsecond))
				s.res.add(mHello, t.Name, float64(d.Nanoseconds()))
				s.res.add(mHelloRSS, t.Name, float64(rss))
			}
			if progs[t.Name] == 0 {
				continue
			}
			p, err := startTracer(t, ten, nil)
			if err != nil {
				s.fail("10 probes", t, err)
				continue
			}
			d, err = p.waitAttached(progs[t.Name], attachTimeout)
			if err != nil {
				s.fail("10 probes", t, err)
				continue
			}
			rss, err = p.stop()
			if !s.ok("10 probes", t, err) {
				continue
			}
			fmt.Fprintf(s.log, "  %s: attached after %v\n", t.Name, d.Round(time.Microsecond))
			s.res.add(mAttach, t.Name, float64(d.Nanoseconds()))
			s.res.add(mAttachRSS, t.Name, float64(rss))
		}
	}
}

// Draining the printf flood: the tracer has delivered all it will once no
// event arrived for floodQuiet; floodDrain bounds the wait.
const (
	floodQuiet = 300 * time.Millisecond
	floodDrain = 60 * time.Second
)

// pacedSeconds is how long the paced printf flood runs: long enough to fill
// any buffer that cannot keep up.
const pacedSeconds = 2

// floodSection runs the printf flood flat out, then at the rate bpftrace
// delivered flat out, and returns that rate (0 without bpftrace).
func (s *suite) floodSection() float64 {
	flat := workload{Calls: s.cfg.calls, CPU: s.cfg.cpu}
	for rep := range s.cfg.reps {
		fmt.Fprintf(s.log, "printf flood %d/%d\n", rep+1, s.cfg.reps)
		for _, t := range rotate(s.tools, rep) {
			delivered, lost, rate, err := s.flood(t, flat)
			if !s.ok("printf flood", t, err) {
				continue
			}
			fmt.Fprintf(s.log, "  %s: %d delivered, %d lost, %.0f/s\n", t.Name, delivered, lost, rate)
			s.res.add(mFloodRate, t.Name, rate)
			s.res.add(mFloodLost, t.Name, float64(lost))
		}
	}
	rate, ok := s.res.median(mFloodRate, bpftraceName)
	if !ok || rate <= 0 {
		return 0
	}
	paced := workload{Calls: min(s.cfg.calls, int(rate*pacedSeconds)), Rate: rate, CPU: s.cfg.cpu}
	for rep := range s.cfg.reps {
		fmt.Fprintf(s.log, "printf flood at %.0f/s %d/%d\n", rate, rep+1, s.cfg.reps)
		for _, t := range rotate(s.tools, rep) {
			delivered, lost, r, err := s.flood(t, paced)
			if !s.ok("paced printf flood", t, err) {
				continue
			}
			fmt.Fprintf(s.log, "  %s: %d delivered, %d lost, %.0f/s\n", t.Name, delivered, lost, r)
			s.res.add(mPacedLost, t.Name, float64(lost))
			s.res.add(mPacedRate, t.Name, r)
		}
	}
	return rate
}

// flood runs the workload under the printf flood script and returns the
// events delivered (lines printed) and lost (as the tracer reports them),
// and the delivered rate: events per second from the workload's start to
// the last event's arrival. With a *stuckError, the figures are valid.
func (s *suite) flood(t tool, w workload) (delivered, lost int64, rate float64, err error) {
	c := &lineCounter{}
	p, err := startTracer(t, floodScript, c)
	if err != nil {
		return 0, 0, 0, err
	}
	if _, err := p.waitAttached(1, attachTimeout); err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	if _, err := w.run(s.exe); err != nil {
		p.kill()
		return 0, 0, 0, err
	}
	c.waitQuiet(floodQuiet, floodDrain)
	n, _, last := c.snapshot()
	_, stopErr := p.stop()
	if stopErr != nil && !isStuck(stopErr) {
		return 0, 0, 0, stopErr
	}
	// Wait has returned, so the output has been copied in full; gotrace
	// reports losses on standard error.
	delivered, lost, _ = c.snapshot()
	lost += lostIn(p.stderr.String())
	if n == 0 {
		return delivered, lost, 0, errors.New("no events were delivered")
	}
	return delivered, lost, float64(n) / last.Sub(start).Seconds(), stopErr
}

// compileSection times compiling a generated large script without loading
// it.
func (s *suite) compileSection() {
	file := filepath.Join(s.dir, "large.bt")
	if err := os.WriteFile(file, []byte(largeScript(s.cfg.compileLines, 100)), 0o644); err != nil {
		s.fail("compile", tool{Name: "both"}, err)
		return
	}
	for rep := range s.cfg.compileReps {
		for _, t := range rotate(s.tools, rep) {
			fmt.Fprintf(s.log, "compile %d/%d: %s\n", rep+1, s.cfg.compileReps, t.Name)
			d, _, err := runToExit(t, 30*time.Minute, t.compileArgs(file, s.dir)...)
			if err != nil {
				s.fail("compile", t, err)
				continue
			}
			fmt.Fprintf(s.log, "  %v\n", d)
			s.res.add(mCompile, t.Name, float64(d.Nanoseconds()))
		}
	}
}

// environment describes the machine and the tools.
func (s *suite) environment() environment {
	e := environment{
		Date:         time.Now().UTC().Format("2006-01-02"),
		Machine:      machine(),
		GoVersion:    goruntime.Version(),
		Calls:        s.cfg.calls,
		Reps:         s.cfg.reps,
		CompileReps:  s.cfg.compileReps,
		CompileLines: s.cfg.compileLines,
		CPU:          s.cfg.cpu,
		Bpftrace:     "bpftrace not installed",
		LoadStart:    loadAverage(),
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		e.Kernel = unix.ByteSliceToString(u.Release[:])
	}
	for _, t := range s.tools {
		v := t.version()
		if t.Name == gotraceName {
			v += gitCommit()
		}
		if t.Name == bpftraceName {
			e.Bpftrace = v
		} else {
			e.Gotrace = v
		}
	}
	return e
}

// machine is the CPU model, the number of CPUs and the memory.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		mem = fmt.Sprintf(", %.0f GB", float64(si.Totalram)*float64(si.Unit)/(1<<30))
	}
	return fmt.Sprintf("%s, %d CPUs%s", model, goruntime.NumCPU(), mem)
}

// loadAverage is the one-minute load average, which says how busy the
// machine was while the suite ran.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

// gitCommit is " (commit X)" for the module's checkout, "+dirty" when it
// has changes, or "" outside a checkout.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		c += "+dirty"
	}
	return " (commit " + c + ")"
}
