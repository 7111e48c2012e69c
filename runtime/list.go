package runtime

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// ListedProbe is one probe -l lists: its name and, for -lv, its arguments:
// as C declarations ("struct sock * sk") for the kinds of probes whose
// arguments have names and types (tracepoints, fentry, fexit), and for
// USDT probes the type and place of each ("arg0: int32 (-4@%edi)").
type ListedProbe struct {
	Name string
	Args []string
}

// ListProbes returns the names of the probes the machine offers that match
// pattern: a glob over the full name ("tracepoint:sched:*") or, without
// wildcard characters, a substring ("openat"). An empty pattern lists all.
func ListProbes(pattern string) ([]string, error) {
	listed, err := listProbes(pattern, false, &probes.Env{})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(listed))
	for i, p := range listed {
		names[i] = p.Name
	}
	return names, nil
}

// ListProbesVerbose is ListProbes with each probe's arguments (-lv).
func ListProbesVerbose(pattern string) ([]ListedProbe, error) {
	return listProbes(pattern, true, &probes.Env{})
}

// listProbes lists BEGIN and END, software and hardware events,
// tracepoints, and the probes of providers that list themselves (kernel
// functions, and the functions and USDT probes of the file a pattern
// names), in that order. Kernel functions are read only when the pattern
// can match them: the list is long. Those of a kind of probe the kernel
// cannot attach are left out, and a pattern that names such a provider is
// an error that says what is missing.
func listProbes(pattern string, verbose bool, env *probes.Env) ([]ListedProbe, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("bad pattern %q: %v", pattern, err)
	}
	reg := probes.NewRegistry()
	pattern = canonicalPattern(reg, pattern)
	var out []ListedProbe
	add := func(name string, args func() []string) {
		if !matchProbe(pattern, name) {
			return
		}
		p := ListedProbe{Name: name}
		if verbose && args != nil {
			p.Args = args()
		}
		out = append(out, p)
	}
	for _, name := range []string{"BEGIN", "END"} {
		add(name, nil)
	}
	for _, ev := range perf.SoftwareEvents() {
		add("software:"+ev.Name+":", nil)
	}
	// Hardware events are listed whether or not the CPU has counters for
	// them, as bpftrace lists them: the names are what the provider
	// accepts, and attaching one says what the machine lacks.
	for _, ev := range perf.HardwareEvents() {
		add("hardware:"+ev.Name+":", nil)
	}
	fs, err := tracefs.Open()
	if err != nil {
		return nil, err
	}
	env.Tracepoints = fs
	tps, err := fs.Tracepoints()
	if err != nil {
		return nil, err
	}
	for _, tp := range tps {
		add("tracepoint:"+tp.Category+":"+tp.Name, func() []string { return tracepointArgs(fs, tp) })
	}
	for _, prov := range reg.Providers() {
		if prov.ListMatching != nil {
			// Probes in files: only those of the file the pattern
			// names, listed whole (their names may have '/', which a
			// glob's '*' would not cross).
			if !namesProvider(pattern, prov.Name) {
				continue
			}
			names, err := prov.ListMatching(env, pattern)
			if err != nil {
				return nil, err
			}
			for _, name := range names {
				p := ListedProbe{Name: name}
				if verbose && prov.Describe != nil {
					p.Args, _ = prov.Describe(env, name)
				}
				out = append(out, p)
			}
			continue
		}
		if prov.List == nil {
			continue
		}
		named := namesProvider(pattern, prov.Name)
		if !named && (prov.ListByName || !mayMatchProvider(pattern, prov.Name)) {
			continue
		}
		if prov.Require != nil {
			fn := pattern
			if i := strings.LastIndexByte(fn, ':'); i >= 0 {
				fn = fn[i+1:]
			}
			if err := prov.Require(env, &probes.Target{Provider: prov, Spec: pattern, Func: fn}); err != nil {
				if named {
					return nil, err
				}
				continue // a listing of everything shows what works
			}
		}
		names, err := prov.List(env)
		if err != nil {
			if named {
				return nil, err
			}
			continue
		}
		for _, name := range names {
			var args func() []string
			if prov.Describe != nil {
				args = func() []string {
					lines, _ := prov.Describe(env, name)
					return lines
				}
			}
			add(name, args)
		}
	}
	return out, nil
}

// tracepointArgs declares a tracepoint's fields as C does.
func tracepointArgs(fs *tracefs.FS, tp tracefs.Tracepoint) []string {
	f, err := fs.Format(tp.Category, tp.Name)
	if err != nil {
		return nil
	}
	var out []string
	for _, fld := range f.Fields {
		decl := fld.Type + " " + fld.Name
		if fld.ArrayLen > 0 {
			decl += "[" + strconv.Itoa(fld.ArrayLen) + "]"
		}
		out = append(out, decl)
	}
	return out
}

// canonicalPattern spells the provider of a pattern ("k:tcp_*") with its
// canonical name ("kprobe:tcp_*"), which listed names use.
func canonicalPattern(reg *probes.Registry, pattern string) string {
	if i := strings.IndexByte(pattern, ':'); i > 0 {
		if p, ok := reg.Lookup(pattern[:i]); ok {
			return p.Name + pattern[i:]
		}
	}
	return pattern
}

// namesProvider reports whether pattern is for the provider called name
// alone ("kprobe:tcp_*").
func namesProvider(pattern, name string) bool {
	return strings.HasPrefix(pattern, name+":")
}

// mayMatchProvider reports whether pattern can match a probe of provider
// name: a substring or glob without ':' can match anything, and a
// pattern with one must match the provider in its first part.
func mayMatchProvider(pattern, name string) bool {
	i := strings.IndexByte(pattern, ':')
	if i < 0 {
		return true
	}
	ok, _ := path.Match(pattern[:i], name)
	return ok
}

func matchProbe(pattern, name string) bool {
	if pattern == "" {
		return true
	}
	if !strings.ContainsAny(pattern, "*?[") {
		return strings.Contains(name, pattern)
	}
	ok, _ := path.Match(pattern, name)
	return ok
}
