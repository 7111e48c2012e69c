package probes

import (
	"fmt"
	"io"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/userbin"
)

// USDTArg says where a USDT probe's argument is when the probe fires,
// with registers as offsets in struct pt_regs (see userbin.Arg).
type USDTArg struct {
	// Size is the value's size in bytes; Signed says that it is signed
	// (the value is then extended to 64 bits with its sign).
	Size   int
	Signed bool
	Kind   userbin.ArgKind
	// Base and Index are the pt_regs offsets of the registers that hold
	// the value (ArgReg) or the address (ArgMem); Index is -1 without an
	// index register.
	Base, Index int
	Scale, Disp int64
}

// usdtProvider is `usdt:PATH:NAME` and `usdt:PATH:PROVIDER:NAME` (alias
// `U`): a statically defined probe of a program or library (SystemTap's
// <sys/sdt.h>, also used by DTRACE_PROBE), found in the file's
// .note.stapsdt. arg0..argN are the probe's arguments, decoded from the
// operands the note describes; a probe's semaphore is incremented while
// it is attached (the kernel's uprobe reference counter), which turns on
// the code that programs run only when the probe is traced.
func usdtProvider() *Provider {
	p := &Provider{
		Name:     "usdt",
		Aliases:  []string{"U"},
		Help:     "user static probe (.note.stapsdt): usdt:PATH:NAME, usdt:PATH:PROVIDER:NAME",
		ProgType: ebpf.Kprobe,
		Access:   USDTArgs,
		Cookie:   true,
		NoArgN:   "this USDT probe has no arguments",
		NoArgs:   "usdt probes have no args: use arg0..argN",
	}
	p.Resolve = func(env *Env, ap AttachSpec) ([]*Target, error) {
		return resolveUSDT(env, p, ap)
	}
	p.Require = func(env *Env, t *Target) error {
		if err := haveUprobes(env); err != nil {
			return fmt.Errorf("%s: %v", t.Spec, err)
		}
		return nil
	}
	p.Attach = func(t *Target, prog *ebpf.Program, cookie uint64) (io.Closer, error) {
		return attachUser(t, prog, cookie, false)
	}
	userMulti(p, false)
	p.ListMatching = func(env *Env, pattern string) ([]string, error) {
		ap := AttachSpec{Raw: pattern, Parts: splitAttach(pattern)}
		switch len(ap.Parts) {
		case 2:
			ap.Parts = append(ap.Parts, "*", "*")
		case 3:
			ap.Parts = []string{ap.Parts[0], ap.Parts[1], "*", ap.Parts[2]}
		}
		// Listed from the notes, so that a probe whose arguments gotrace
		// cannot decode is listed too (-lv says why).
		file, _, found, err := matchUSDT(env, ap)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, n := range found {
			out = append(out, usdtName(file, n))
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	}
	p.Describe = func(env *Env, probe string) ([]string, error) {
		_, _, found, err := matchUSDT(env, AttachSpec{Raw: probe, Parts: splitAttach(probe)})
		if err != nil {
			return nil, err
		}
		return describeUSDT(found), nil
	}
	return p
}

// usdtName is the probe name of a note of a file.
func usdtName(file userbin.File, n userbin.Note) string {
	return "usdt:" + file.Name + ":" + n.Provider + ":" + n.Name
}

// matchUSDT finds the file an attach point names and its notes that the
// attach point matches: one or more (a probe written at several places
// has a note for each). A name without a provider must be one provider's.
func matchUSDT(env *Env, ap AttachSpec) (userbin.File, *userbin.Binary, []userbin.Note, error) {
	const usage = "usdt:PATH:NAME or usdt:PATH:PROVIDER:NAME"
	var file userbin.File
	var provider, name string
	switch len(ap.Parts) {
	case 3:
		provider, name = "*", ap.Parts[2]
	case 4:
		provider, name = ap.Parts[2], ap.Parts[3]
	default:
		return file, nil, nil, fmt.Errorf("%s needs a file and a probe: %s", ap.Parts[0], usage)
	}
	if ap.Parts[1] == "" || provider == "" || name == "" {
		return file, nil, nil, fmt.Errorf("%s needs a file and a probe: %s", ap.Parts[0], usage)
	}
	for _, pat := range []string{provider, name} {
		if _, err := path.Match(pat, ""); err != nil {
			return file, nil, nil, fmt.Errorf("%s: bad pattern %q", ap.Raw, pat)
		}
	}
	file, bin, err := env.locate(ap.Parts[1], ap.Raw)
	if err != nil {
		return file, nil, nil, err
	}
	var found []userbin.Note
	providers := map[string]bool{}
	for _, n := range bin.Notes() {
		okProv, _ := path.Match(provider, n.Provider)
		okName, _ := path.Match(name, n.Name)
		if okProv && okName {
			found = append(found, n)
			providers[n.Provider] = true
		}
	}
	if len(found) == 0 {
		return file, nil, nil, noUSDT(bin, ap.Raw, provider, name)
	}
	if len(ap.Parts) == 3 && !hasSymbolWildcard(name) && len(providers) > 1 {
		var names []string
		for prov := range providers {
			names = append(names, "usdt:"+file.Name+":"+prov+":"+name)
		}
		slices.Sort(names)
		return file, nil, nil, fmt.Errorf("%s: several providers have a probe %s: name one: %s", ap.Raw, name, strings.Join(names, ", "))
	}
	return file, bin, found, nil
}

func resolveUSDT(env *Env, p *Provider, ap AttachSpec) ([]*Target, error) {
	file, bin, found, err := matchUSDT(env, ap)
	if err != nil {
		return nil, err
	}
	regs, ok := RegsFor(runtime.GOARCH)
	if !ok {
		return nil, fmt.Errorf("usdt probes are not supported on %s yet", runtime.GOARCH)
	}
	var out []*Target
	for _, n := range found {
		probeName := usdtName(file, n)
		if n.Err != nil {
			return nil, fmt.Errorf("%s: %s: %v", ap.Raw, probeName, n.Err)
		}
		off, err := bin.FileOffset(n.PC)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", ap.Raw, probeName, err)
		}
		args, argTypes, err := usdtArgs(n.Args)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: arguments %q: %v", ap.Raw, probeName, n.ArgText, err)
		}
		out = append(out, &Target{
			Provider: p,
			Name:     probeName,
			Regs:     regs,
			NumArgs:  len(args),
			ArgTypes: argTypes,
			Space:    types.User,
			User: &UserTarget{
				File: file.Open, Path: file.Name,
				Offset: off, Vaddr: n.PC, PIE: bin.PIE(),
				RefCtrOffset: n.SemaphoreOffset,
				USDT:         args,
				Binary:       bin,
			},
		})
	}
	return out, nil
}

// usdtArgs resolves the registers of a note's arguments to pt_regs
// offsets and types each argument: a 64-bit integer, signed if the
// argument is (its value extended to 64 bits).
func usdtArgs(args []userbin.Arg) ([]USDTArg, []*types.Type, error) {
	out := make([]USDTArg, len(args))
	ts := make([]*types.Type, len(args))
	reg := func(name string) (int, error) {
		if name == "" {
			return -1, nil
		}
		if runtime.GOARCH == "arm64" && strings.HasPrefix(name, "x") {
			name = "r" + name[1:]
		}
		off, ok := RegOffset(runtime.GOARCH, name)
		if !ok {
			return 0, fmt.Errorf("register %s is not one of %s's", name, runtime.GOARCH)
		}
		return off, nil
	}
	for i, a := range args {
		base, err := reg(a.Base)
		if err != nil {
			return nil, nil, err
		}
		index, err := reg(a.Index)
		if err != nil {
			return nil, nil, err
		}
		out[i] = USDTArg{Size: a.Size, Signed: a.Signed, Kind: a.Kind, Base: base, Index: index, Scale: a.Scale, Disp: a.Disp}
		ts[i] = types.NewInt(8, a.Signed)
	}
	return out, ts, nil
}

// describeUSDT lists the arguments of the notes of one probe (-lv), one
// line each: "arg0: int32 (-4@%edi)", the integer type that the note's
// size and signedness make it and where the note says it is. A probe
// written at several places has a note for each, which may put an
// argument in different places (or, rarely, give it different types):
// the line then gives each, sorted (the order of the notes is the
// compiler's), separated by "or". A probe whose arguments cannot be
// decoded says why instead.
func describeUSDT(notes []userbin.Note) []string {
	for _, n := range notes {
		if n.Err != nil {
			return []string{fmt.Sprintf("(cannot be attached: %v)", n.Err)}
		}
	}
	nargs := 0
	for _, n := range notes {
		nargs = max(nargs, len(n.Args))
	}
	var lines []string
	for i := range nargs {
		var types, texts []string
		for _, n := range notes {
			if i >= len(n.Args) {
				continue
			}
			a := n.Args[i]
			if t := usdtArgType(a); !slices.Contains(types, t) {
				types = append(types, t)
			}
			if !slices.Contains(texts, a.Text) {
				texts = append(texts, a.Text)
			}
		}
		slices.Sort(types)
		slices.Sort(texts)
		lines = append(lines, fmt.Sprintf("arg%d: %s (%s)", i, strings.Join(types, " or "), strings.Join(texts, " or ")))
	}
	return lines
}

// usdtArgType names a USDT argument's type as bpftrace names integer
// types: int8 .. int64, uint8 .. uint64.
func usdtArgType(a userbin.Arg) string {
	t := fmt.Sprintf("int%d", a.Size*8)
	if !a.Signed {
		t = "u" + t
	}
	return t
}

// noUSDT is the error for a USDT probe a file does not have: it lists the
// probes the file has, or says that it has none.
func noUSDT(bin *userbin.Binary, raw, provider, name string) error {
	var have []string
	for _, n := range bin.Notes() {
		s := n.Provider + ":" + n.Name
		if !slices.Contains(have, s) {
			have = append(have, s)
		}
	}
	if len(have) == 0 {
		return fmt.Errorf("%s: %s has no USDT probes (no .note.stapsdt section)", raw, bin.Path)
	}
	what := name
	if provider != "*" {
		what = provider + ":" + name
	}
	if len(have) > 12 {
		have = append(have[:12], "...")
	}
	return fmt.Errorf("%s: %s has no USDT probe %s; it has %s", raw, bin.Path, what, strings.Join(have, ", "))
}
