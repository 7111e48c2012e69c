package probes

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/parser"
	"github.com/gotrace/gotrace/runtime/perf"
)

// interval, profile, software and hardware probes are perf events that
// run a BPF_PROG_TYPE_PERF_EVENT program on overflow.

func attachPerf(t *Target, prog *ebpf.Program, _ uint64) (io.Closer, error) {
	return perf.Attach(*t.Perf, prog)
}

func perfProvider(name, alias, help string, resolve func(p *Provider, ap AttachSpec) (*Target, error)) *Provider {
	p := &Provider{
		Name:     name,
		Aliases:  []string{alias},
		Help:     help,
		ProgType: ebpf.PerfEvent,
		Attach:   attachPerf,
		// The generic messages point at args, which these probes lack too.
		NoArgN: name + " probes have no arguments: they fire on a perf event (cpu, pid, comm, kstack and ustack tell what was running)",
		NoArgs: name + " probes have no args: they fire on a perf event (cpu, pid, comm, kstack and ustack tell what was running)",
	}
	p.Resolve = func(_ *Env, ap AttachSpec) ([]*Target, error) {
		t, err := resolve(p, ap)
		if err != nil {
			return nil, err
		}
		return []*Target{t}, nil
	}
	return p
}

// rate parses the UNIT:N part of interval and profile probes into a period
// in nanoseconds or a frequency in hertz.
func rate(kind string, parts []string) (period, hz uint64, err error) {
	usage := fmt.Errorf("%s needs a rate: %s:s:N, %s:ms:N, %s:us:N or %s:hz:N", kind, kind, kind, kind, kind)
	if len(parts) != 3 {
		return 0, 0, usage
	}
	n, err := strconv.ParseUint(strings.ReplaceAll(parts[2], "_", ""), 10, 64)
	if err != nil || n == 0 {
		return 0, 0, fmt.Errorf("%s: %q is not a positive whole number", kind, parts[2])
	}
	switch parts[1] {
	case "s":
		return n * uint64(time.Second), 0, nil
	case "ms":
		return n * uint64(time.Millisecond), 0, nil
	case "us":
		return n * uint64(time.Microsecond), 0, nil
	case "ns":
		return n, 0, nil
	case "hz":
		return 0, n, nil
	}
	return 0, 0, usage
}

// intervalProvider is `interval:UNIT:N` (alias `i`): one timer on one CPU.
func intervalProvider() *Provider {
	return perfProvider("interval", "i", "a timer on one CPU: interval:s:N, interval:ms:N, interval:us:N, interval:hz:N",
		func(p *Provider, ap AttachSpec) (*Target, error) {
			period, hz, err := rate("interval", ap.Parts)
			if err != nil {
				return nil, err
			}
			if hz != 0 {
				period = uint64(time.Second) / hz
			}
			spec := perf.IntervalSpec(time.Duration(period))
			return &Target{Provider: p, Name: "interval:" + ap.Parts[1] + ":" + ap.Parts[2], Perf: &spec}, nil
		})
}

// profileProvider is `profile:UNIT:N` (alias `p`): a timer on every CPU.
func profileProvider() *Provider {
	return perfProvider("profile", "p", "a timer on every CPU: profile:hz:N, profile:s:N, profile:ms:N, profile:us:N",
		func(p *Provider, ap AttachSpec) (*Target, error) {
			period, hz, err := rate("profile", ap.Parts)
			if err != nil {
				return nil, err
			}
			spec := perf.EventSpec{
				Type:      unix.PERF_TYPE_SOFTWARE,
				Config:    unix.PERF_COUNT_SW_CPU_CLOCK,
				Period:    period,
				Frequency: hz,
			}
			return &Target{Provider: p, Name: "profile:" + ap.Parts[1] + ":" + ap.Parts[2], Perf: &spec}, nil
		})
}

// softwareProvider is `software:EVENT[:COUNT]` (alias `s`): a perf software
// event on every CPU, sampled every COUNT occurrences.
func softwareProvider() *Provider {
	return perfProvider("software", "s", "perf software events: software:EVENT[:COUNT], e.g. software:page-faults:100",
		func(p *Provider, ap AttachSpec) (*Target, error) {
			return resolveCounted(p, ap, softwareEvents(), hardwareEvents())
		})
}

// hardwareProvider is `hardware:EVENT[:COUNT]` (alias `h`): a generalized
// hardware event (the CPU's performance counters) on every CPU, sampled
// every COUNT occurrences. Most virtual machines have no such counters:
// Require finds that out before anything is attached, for each event
// (a CPU may count some events and not others).
func hardwareProvider() *Provider {
	p := perfProvider("hardware", "h", "perf hardware events (CPU counters): hardware:EVENT[:COUNT], e.g. hardware:cache-misses:1e6",
		func(p *Provider, ap AttachSpec) (*Target, error) {
			return resolveCounted(p, ap, hardwareEvents(), softwareEvents())
		})
	p.RequireEach = true
	p.Require = func(env *Env, t *Target) error {
		for _, ev := range perf.HardwareEvents() {
			if t.Perf == nil || ev.Config != t.Perf.Config {
				continue
			}
			err := env.features().Hardware(ev)
			if err == nil {
				return nil
			}
			var mf *MissingFeature
			if errors.As(err, &mf) && mf.What == noHardwareCounters {
				return fmt.Errorf("%s: %v; software events work: gotrace -l 'software:*'", t.Spec, err)
			}
			return fmt.Errorf("%s: %v", t.Spec, err)
		}
		return nil
	}
	return p
}

// countedEvent is a perf event that software and hardware probes name,
// with its spec for a sample period.
type countedEvent struct {
	name, alias string
	spec        func(count uint64) perf.EventSpec
	// defaultCount is the period without a COUNT.
	defaultCount uint64
}

// softwareEvents and hardwareEvents are the events of perf's two tables,
// as resolveCounted takes them.
func softwareEvents() []countedEvent {
	var out []countedEvent
	for _, ev := range perf.SoftwareEvents() {
		out = append(out, countedEvent{ev.Name, ev.Alias, func(n uint64) perf.EventSpec { return perf.SoftwareSpec(ev, n) }, ev.DefaultCount})
	}
	return out
}

func hardwareEvents() []countedEvent {
	var out []countedEvent
	for _, ev := range perf.HardwareEvents() {
		out = append(out, countedEvent{ev.Name, ev.Alias, func(n uint64) perf.EventSpec { return perf.HardwareSpec(ev, n) }, ev.DefaultCount})
	}
	return out
}

// resolveCounted resolves `KIND:EVENT[:COUNT]` against the events of its
// kind. others are the events of the other kind, which a name may be
// mistaken for (software:cycles, hardware:page-faults).
func resolveCounted(p *Provider, ap AttachSpec, events, others []countedEvent) (*Target, error) {
	usage := fmt.Sprintf("%s:EVENT[:COUNT] (gotrace -l '%s:*' lists the events)", p.Name, p.Name)
	if len(ap.Parts) > 3 {
		return nil, fmt.Errorf("%s: too many parts: %s", ap.Raw, usage)
	}
	if len(ap.Parts) < 2 || ap.Parts[1] == "" {
		return nil, fmt.Errorf("%s needs an event: %s", ap.Parts[0], usage)
	}
	name := ap.Parts[1]
	if strings.ContainsAny(name, "*?[") {
		return nil, fmt.Errorf("%s: %s events take no wildcards: name one, %s", ap.Raw, p.Name, usage)
	}
	ev, ok := findCounted(events, name)
	if !ok {
		return nil, unknownCounted(p, ap, events, others)
	}
	count := ev.defaultCount
	// "hardware:cpu-cycles:" (as -l lists it) takes the default count too.
	if len(ap.Parts) == 3 && ap.Parts[2] != "" {
		n, err := parser.ParseUint(ap.Parts[2])
		if err != nil {
			return nil, fmt.Errorf("%s: bad count: %v", ap.Raw, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: the count must be at least 1: the program runs once every COUNT events", ap.Raw)
		}
		count = n
	}
	spec := ev.spec(count)
	return &Target{Provider: p, Name: p.Name + ":" + ev.name + ":" + strconv.FormatUint(count, 10), Perf: &spec}, nil
}

func findCounted(events []countedEvent, name string) (countedEvent, bool) {
	for _, ev := range events {
		if ev.name == name || ev.alias == name {
			return ev, true
		}
	}
	return countedEvent{}, false
}

// unknownCounted is the error for an event name that is not one of the
// kind's: the event of the other kind it is, the closest name, or the
// list of names.
func unknownCounted(p *Provider, ap AttachSpec, events, others []countedEvent) error {
	name := ap.Parts[1]
	msg := fmt.Sprintf("%s: there is no %s event %s", ap.Raw, p.Name, name)
	other := "hardware"
	if p.Name == "hardware" {
		other = "software"
	}
	if _, ok := findCounted(others, name); ok {
		return fmt.Errorf("%s; %s is a %s event: %s:%s", msg, name, other, other, name)
	}
	best, bestD := "", -1
	var known []string
	for _, ev := range events {
		k := ev.name
		if ev.alias != "" {
			k += " (" + ev.alias + ")"
		}
		known = append(known, k)
		for _, cand := range []string{ev.name, ev.alias} {
			if cand == "" {
				continue
			}
			d := diag.EditDistance(name, cand)
			if diag.CloseEnough(d, len(name)) && (bestD < 0 || d < bestD) {
				best, bestD = cand, d
			}
		}
	}
	if best != "" {
		return fmt.Errorf("%s; did you mean %s?", msg, best)
	}
	return fmt.Errorf("%s (known: %s)", msg, strings.Join(known, ", "))
}
