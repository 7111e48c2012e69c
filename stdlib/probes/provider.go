// Package probes holds gotrace's probe providers: one table entry per kind of
// probe (BEGIN/END, tracepoint, rawtracepoint, interval, profile, software),
// each in its own file.
//
// A provider knows everything that is specific to its kind of probe: how its
// attach points are spelled and expanded (wildcards), what context a probe of
// that kind offers to the script (args, arg0..argN), which BPF program type
// runs it and how that program is attached. The checker, the code generator
// and the runtime all ask the provider rather than switching on probe kinds,
// so adding a kind of probe means adding one file here.
package probes

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/perf"
)

// ArgAccess says how a probe's program reaches its arguments in the BPF
// context, which decides the instructions the code generator emits for
// `args.field` and `argN`.
type ArgAccess int

// Ways of reaching probe arguments.
const (
	NoArgs         ArgAccess = iota
	TracepointArgs           // ctx points at the trace record; args fields are at fixed offsets
	RawArgs                  // ctx is an array of u64 arguments (raw tracepoints)
)

// Provider is one kind of probe.
type Provider struct {
	Name    string   // canonical name, e.g. "tracepoint"
	Aliases []string // short names, e.g. "t"
	Help    string   // one line for --help and -l
	// ProgType is the BPF program type the provider's probes compile to.
	ProgType ebpf.ProgramType
	// Access says how the program reads its arguments.
	Access ArgAccess
	// RunOnce marks BEGIN and END: the runtime executes the program once in
	// the kernel instead of attaching it.
	RunOnce bool
	// Resolve expands one attach point (split at ':' into parts, the first
	// being the provider name as written) into concrete targets.
	Resolve func(env *Env, ap AttachSpec) ([]*Target, error)
	// Attach attaches a loaded program to a target.
	Attach func(t *Target, prog *ebpf.Program) (io.Closer, error)
}

// AttachSpec is an attach point split into its parts.
type AttachSpec struct {
	Raw   string
	Parts []string // Parts[0] is the provider name as written
}

// Target is one concrete thing a program is attached to, after wildcards
// are expanded.
type Target struct {
	Provider *Provider
	// Name is the full probe name, as the `probe` builtin prints it.
	Name string
	// Args is the type of the `args` builtin (a Struct), or nil.
	Args *types.Type
	// NumArgs is how many of arg0..arg9 the probe offers.
	NumArgs int
	// Category and Event name a tracepoint or raw tracepoint.
	Category, Event string
	// Perf is set for perf-event based probes (interval, profile, software).
	Perf *perf.EventSpec
}

// Table returns the providers gotrace knows, in the order -l lists them.
// It builds a fresh table on every call: providers are values, not globals.
func Table() []*Provider {
	return []*Provider{
		beginProvider(),
		endProvider(),
		tracepointProvider(),
		rawTracepointProvider(),
		intervalProvider(),
		profileProvider(),
		softwareProvider(),
	}
}

// Registry finds providers by name or alias.
type Registry struct {
	byName map[string]*Provider
	list   []*Provider
}

// NewRegistry indexes the provider table.
func NewRegistry() *Registry {
	r := &Registry{byName: map[string]*Provider{}}
	for _, p := range Table() {
		r.list = append(r.list, p)
		r.byName[p.Name] = p
		for _, a := range p.Aliases {
			r.byName[a] = p
		}
	}
	return r
}

// Providers lists the providers.
func (r *Registry) Providers() []*Provider { return r.list }

// Lookup finds the provider for name (canonical or alias).
func (r *Registry) Lookup(name string) (*Provider, bool) {
	p, ok := r.byName[name]
	return p, ok
}

// Resolve splits an attach point, finds its provider and expands it.
func (r *Registry) Resolve(env *Env, raw string) ([]*Target, error) {
	ap := AttachSpec{Raw: raw, Parts: splitAttach(raw)}
	p, ok := r.Lookup(ap.Parts[0])
	if !ok {
		return nil, r.unknownProvider(ap.Parts[0])
	}
	return p.Resolve(env, ap)
}

func (r *Registry) unknownProvider(name string) error {
	switch name {
	case "kprobe", "k", "kretprobe", "kr", "fentry", "f", "kfunc", "fexit", "fr", "kretfunc":
		return fmt.Errorf("%s probes are not supported yet (kernel function probes come with BTF support)", name)
	case "uprobe", "u", "uretprobe", "ur", "usdt", "U":
		return fmt.Errorf("%s probes are not supported yet", name)
	case "hardware", "h", "watchpoint", "w", "asyncwatchpoint", "aw", "iter", "it":
		return fmt.Errorf("%s probes are not supported yet", name)
	}
	var names []string
	for _, p := range r.list {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return fmt.Errorf("unknown probe type %q (known: %s)", name, strings.Join(names, ", "))
}

// splitAttach splits an attach point at ':' outside double quotes and
// removes the quotes.
func splitAttach(raw string) []string {
	var parts []string
	var cur strings.Builder
	inQuote := false
	for _, r := range raw {
		switch {
		case r == '"':
			inQuote = !inQuote
		case r == ':' && !inQuote:
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(parts, cur.String())
}
