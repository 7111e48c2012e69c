package probes

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/runtime/perf"
)

// interval, profile and software probes are perf events that run a
// BPF_PROG_TYPE_PERF_EVENT program on overflow.

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
			if len(ap.Parts) < 2 || len(ap.Parts) > 3 || ap.Parts[1] == "" {
				return nil, fmt.Errorf("software needs an event: software:EVENT[:COUNT]")
			}
			ev, ok := perf.LookupSoftware(ap.Parts[1])
			if !ok {
				var names []string
				for _, e := range perf.SoftwareEvents() {
					names = append(names, e.Name)
				}
				return nil, fmt.Errorf("unknown software event %q (known: %s)", ap.Parts[1], strings.Join(names, ", "))
			}
			count := ev.DefaultCount
			if len(ap.Parts) == 3 {
				n, err := strconv.ParseUint(ap.Parts[2], 10, 64)
				if err != nil || n == 0 {
					return nil, fmt.Errorf("software: count %q is not a positive whole number", ap.Parts[2])
				}
				count = n
			}
			spec := perf.SoftwareSpec(ev, count)
			name := "software:" + ev.Name + ":" + strconv.FormatUint(count, 10)
			return &Target{Provider: p, Name: name, Perf: &spec}, nil
		})
}
