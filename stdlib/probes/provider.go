// Package probes holds gotrace's probe providers: one table entry per kind of
// probe (BEGIN/END, tracepoint, rawtracepoint, kprobe/kretprobe,
// fentry/fexit, uprobe/uretprobe, usdt, interval, profile, software,
// hardware, watchpoint), each in its own file.
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
	// RegsArgs: ctx is the traced CPU's struct pt_regs (kprobes); argN
	// and retval are registers, found through Regs.
	RegsArgs
	// TracingArgs: ctx is an array of u64 slots holding the traced
	// function's arguments and, in fexit, its return value (fentry,
	// fexit); args fields are at the slots' offsets.
	TracingArgs
	// USDTArgs: ctx is the traced CPU's struct pt_regs (usdt probes, which
	// are uprobes); argN is where the probe's note says: a register, a
	// constant or memory (Target.User.USDT).
	USDTArgs
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
	// AttachType is the attach type programs are loaded with (fentry and
	// fexit need theirs at load time; most providers need none).
	AttachType ebpf.AttachType
	// RunOnce marks BEGIN and END: the runtime executes the program once in
	// the kernel instead of attaching it.
	RunOnce bool
	// Process says that, in a run with -p PID or -c CMD, the probes watch
	// that process: the runtime opens their perf events for it (for the
	// -c command, from before its execve). Watchpoints need this, since a
	// user-space address means nothing without its process; other perf
	// events follow -p only, as in bpftrace.
	Process bool
	// Cookie says that the runtime attaches every target with its index
	// in the program's probe table as the BPF cookie, and that programs
	// read `probe` and `func` with bpf_get_attach_cookie rather than as
	// constants. The programs of a wildcard's targets are then identical,
	// so one program serves them all (and one kprobe-multi link can).
	Cookie bool
	// Chain says that the provider's events run every program attached
	// to them, in order, and that its probes on one target can be one
	// program that runs their bodies in turn (codegen.Chain). The runtime
	// then loads and attaches one program per target, not one per probe.
	Chain bool
	// NoArgN and NoArgs explain why arg0..argN and args are not available
	// in the provider's probes, when they are not; empty means the generic
	// message.
	NoArgN, NoArgs string
	// Resolve expands one attach point (split at ':' into parts, the first
	// being the provider name as written) into concrete targets.
	Resolve func(env *Env, ap AttachSpec) ([]*Target, error)
	// Require, if set, checks that the running kernel can attach the
	// provider's probes, before anything is loaded. It returns a
	// one-line error naming the missing kernel feature and what works
	// instead.
	Require func(env *Env, t *Target) error
	// RequireEach says that Require must be asked for every target, not
	// once for the provider: what the kernel can attach depends on the
	// target (a CPU may count some hardware events and not others).
	RequireEach bool
	// Attach attaches a loaded program to a target. cookie is the value
	// bpf_get_attach_cookie returns (see Cookie).
	Attach func(t *Target, prog *ebpf.Program, cookie uint64) (io.Closer, error)
	// AttachMulti, if set, attaches one program to many targets at once
	// (kprobe-multi links). The program must have been loaded with
	// MultiAttachType; MultiOK says which targets such a link can take
	// and HaveMulti whether the kernel has such links.
	AttachMulti     func(ts []*Target, prog *ebpf.Program, cookies []uint64) (io.Closer, error)
	MultiAttachType ebpf.AttachType
	MultiOK         func(t *Target) bool
	HaveMulti       func(env *Env) bool
	// List, if set, lists the names of every probe of this kind the
	// machine offers (for -l); Describe lists a probe's arguments as C
	// declarations (for -lv).
	List     func(env *Env) ([]string, error)
	Describe func(env *Env, name string) ([]string, error)
	// ListByName says that -l lists this provider's probes only for
	// patterns that name it: kretprobe and fexit offer exactly the
	// functions kprobe and fentry list.
	ListByName bool
	// ListMatching, if set, lists the probes that match a pattern naming
	// this provider ("uprobe:/bin/bash:read*"): providers whose probes
	// are in files cannot list them all, only those of the file the
	// pattern names.
	ListMatching func(env *Env, pattern string) ([]string, error)
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
	// Spec is the attach point as the script wrote it ("kprobe:tcp_*"),
	// for messages about every target it expanded to.
	Spec string
	// Args is the type of the `args` builtin (a Struct), or nil.
	Args *types.Type
	// NumArgs is how many of arg0..arg9 the probe offers; ArgTypes, if
	// set, are their types (uint64 otherwise).
	NumArgs  int
	ArgTypes []*types.Type
	// Category and Event name a tracepoint or raw tracepoint.
	Category, Event string
	// TracepointID is a tracepoint's ID (events/CATEGORY/NAME/id), from
	// the format read when the probe was resolved; 0 if unknown.
	TracepointID uint64
	// Perf is set for perf-event based probes (interval, profile,
	// software, hardware, watchpoint).
	Perf *perf.EventSpec
	// Func and Module name a kernel function (kprobe, fentry): Module is
	// "" for the kernel image. Offset is a kprobe's offset into Func.
	Func, Module string
	Offset       uint64
	// Regs says where arg0..argN and retval are in a RegsArgs context.
	Regs *Regs
	// Retval is the type of `retval`, nil where there is none;
	// RetvalOffset is where it is in the context.
	Retval       *types.Type
	RetvalOffset int
	// AttachTo names the kernel function a program is loaded for (fentry
	// and fexit programs are verified against its prototype).
	AttachTo string
	// User is the place in a user-space program that a uprobe,
	// uretprobe or usdt probe is attached to; nil for other probes.
	User *UserTarget
	// Space is the address space that integers used as addresses point
	// into (str(arg0), buf(arg1, 8), (struct x *)arg0): user memory in
	// probes on user-space programs, kernel memory elsewhere.
	Space types.AddrSpace
}

// Table returns the providers gotrace knows, in the order -l lists them.
// It builds a fresh table on every call: providers are values, not globals.
func Table() []*Provider {
	return []*Provider{
		beginProvider(),
		endProvider(),
		tracepointProvider(),
		rawTracepointProvider(),
		kprobeProvider(),
		kretprobeProvider(),
		fentryProvider(),
		fexitProvider(),
		uprobeProvider(),
		uretprobeProvider(),
		usdtProvider(),
		intervalProvider(),
		profileProvider(),
		softwareProvider(),
		hardwareProvider(),
		watchpointProvider(),
		asyncwatchpointProvider(),
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
	ts, err := p.Resolve(env, ap)
	for _, t := range ts {
		t.Spec = raw
	}
	return ts, err
}

func (r *Registry) unknownProvider(name string) error {
	switch name {
	case "iter", "it":
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
