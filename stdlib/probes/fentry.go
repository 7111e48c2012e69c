package probes

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/gotrace/gotrace/lang/btf"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// fentryProvider is `fentry:FUNC` and `fentry:MODULE:FUNC` (aliases `f`,
// `kfunc`): a BPF trampoline on entry to a kernel function, with the
// function's arguments typed from its BTF prototype as args.NAME.
func fentryProvider() *Provider {
	return tracingProvider("fentry", []string{"f", "kfunc"}, false)
}

// fexitProvider is `fexit:FUNC` (aliases `fr`, `kretfunc`): a trampoline on
// return from a kernel function, with args and the typed retval.
func fexitProvider() *Provider {
	return tracingProvider("fexit", []string{"fr", "kretfunc"}, true)
}

func tracingProvider(name string, aliases []string, exit bool) *Provider {
	p := &Provider{
		Name:       name,
		Aliases:    aliases,
		Help:       "kernel function entry, typed args (BTF): fentry:FUNC, fentry:MODULE:FUNC",
		ProgType:   ebpf.Tracing,
		AttachType: ebpf.AttachTraceFEntry,
		Access:     TracingArgs,
		NoArgN:     name + " probes have no arg0..argN: use args.NAME, typed from the function's BTF (gotrace -lv '" + name + ":FUNC' lists them)",
	}
	kprobe := "kprobe"
	if exit {
		p.Help = "kernel function return, typed args and retval (BTF): fexit:FUNC, fexit:MODULE:FUNC"
		p.AttachType = ebpf.AttachTraceFExit
		kprobe = "kretprobe"
		p.ListByName = true
	}
	p.Resolve = func(env *Env, ap AttachSpec) ([]*Target, error) {
		return resolveTracing(env, p, ap, exit)
	}
	p.Require = func(env *Env, t *Target) error {
		err := env.features().Tracing()
		if err == nil {
			return nil
		}
		instead := tracepointsWork(env, specFunction(t.Spec))
		if env.features().Kprobes() == nil {
			_, rest, _ := strings.Cut(t.Spec, ":")
			instead = fmt.Sprintf("kprobes work: try %s:%s", kprobe, rest)
		}
		return fmt.Errorf("%s: %v; %s", t.Spec, err, instead)
	}
	p.Attach = func(t *Target, prog *ebpf.Program, _ uint64) (io.Closer, error) {
		return link.AttachTracing(link.TracingOptions{Program: prog, AttachType: p.AttachType})
	}
	p.List = func(env *Env) ([]string, error) {
		fns, err := tracingFunctions(env)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(fns))
		for _, f := range fns {
			out = append(out, functionProbeName(name, f.Module, f.Name))
		}
		return out, nil
	}
	p.Describe = func(env *Env, probe string) ([]string, error) {
		ts, err := resolveTracing(env, p, AttachSpec{Raw: probe, Parts: splitAttach(probe)}, exit)
		if err != nil {
			return nil, err
		}
		fn, err := prototype(env, ts[0].Module, ts[0].Func)
		if err != nil {
			return nil, err
		}
		var lines []string
		for _, prm := range fn.Params {
			lines = append(lines, prm.C+" "+prm.Name)
		}
		if exit && fn.Return != nil {
			lines = append(lines, fn.ReturnC+" retval")
		}
		return lines, nil
	}
	return p
}

// prototype looks up a kernel function's BTF prototype, in the module's
// BTF for a module's function.
func prototype(env *Env, module, fn string) (*btf.Func, error) {
	k := env.kernel()
	if module != "" {
		var err error
		if k, err = k.Module(module); err != nil {
			return nil, err
		}
	}
	return k.Func(fn)
}

// tracingFunctions lists the traceable functions that have BTF, which are
// the ones fentry and fexit can attach to.
func tracingFunctions(env *Env) ([]tracefs.Function, error) {
	fns, _, err := env.functions().Traceable()
	if err != nil {
		return nil, err
	}
	names, err := env.kernel().FuncNames()
	if err != nil {
		return nil, err
	}
	moduleOK := map[string]bool{}
	var out []tracefs.Function
	for _, f := range fns {
		if f.Module == "" {
			if _, ok := slices.BinarySearch(names, f.Name); ok {
				out = append(out, f)
			}
			continue
		}
		ok, seen := moduleOK[f.Module]
		if !seen {
			_, err := env.kernel().Module(f.Module)
			ok = err == nil
			moduleOK[f.Module] = ok
		}
		if ok {
			if _, err := prototype(env, f.Module, f.Name); err == nil {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

func resolveTracing(env *Env, p *Provider, ap AttachSpec, exit bool) ([]*Target, error) {
	if len(ap.Parts) >= 3 && ap.Parts[1] == "bpf" {
		return nil, fmt.Errorf("%s: %s probes on BPF programs are not supported yet", ap.Raw, p.Name)
	}
	usage := p.Name + ":FUNC or " + p.Name + ":MODULE:FUNC"
	module, fn, err := splitFunctionSpec(ap, usage)
	if err != nil {
		return nil, err
	}
	var found []tracefs.Function
	if tracefs.HasWildcard(fn) || (module != nil && tracefs.HasWildcard(*module)) {
		fns, err := tracingFunctions(env)
		if err != nil {
			return nil, err
		}
		if found = matchFunctions(fns, module, fn); len(found) == 0 {
			return nil, fmt.Errorf("%s matches no traceable kernel function with BTF", ap.Raw)
		}
	} else {
		f, err := findTracingFunction(env, module, fn, ap.Raw, exit)
		if err != nil {
			return nil, err
		}
		found = []tracefs.Function{f}
	}
	var out []*Target
	for _, f := range found {
		proto, err := prototype(env, f.Module, f.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", ap.Raw, err)
		}
		t := &Target{
			Provider: p,
			Name:     functionProbeName(p.Name, f.Module, f.Name),
			Func:     f.Name,
			Module:   f.Module,
			AttachTo: f.Name,
			Args:     argsStruct(p.Name, proto),
		}
		if exit {
			t.Retval = proto.Return
			if t.Retval == nil {
				t.Retval = &types.Type{Kind: types.Void, Name: "void"}
			}
			t.RetvalOffset = 8 * proto.Slots()
		}
		out = append(out, t)
	}
	return out, nil
}

// findTracingFunction finds the function an fentry or fexit without
// wildcards names: it must have BTF and, where ftrace's list can be read,
// be traceable. For a function that kprobes can reach but fentry cannot
// (a system call's __x64_sys_ wrapper on some kernels), the error says so
// rather than suggest a similar name.
func findTracingFunction(env *Env, module *string, fn, raw string, exit bool) (tracefs.Function, error) {
	fns, exact, err := env.functions().Traceable()
	if err != nil {
		fns = nil
	}
	f := tracefs.Function{Name: fn}
	if m := matchFunctions(fns, module, fn); len(m) > 0 {
		f = m[0]
	} else if module != nil && *module != "vmlinux" {
		f.Module = *module
	}
	if _, err := prototype(env, f.Module, f.Name); err != nil {
		var nf *btf.NotFoundError
		msg := fmt.Sprintf("%s: %v", raw, err)
		if hint := kprobesReach(env, f, exit); hint != "" {
			return f, errors.New(msg + "; " + hint)
		}
		if !errors.As(err, &nf) && len(fns) > 0 {
			if s := closestFunction(fns, fn); s != "" && s != fn {
				msg += fmt.Sprintf("; did you mean %s?", s)
			}
		}
		return f, errors.New(msg)
	}
	if exact && len(matchFunctions(fns, module, fn)) == 0 {
		return f, fmt.Errorf("%s: %s cannot be traced: ftrace does not list it in available_filter_functions (it may be inlined everywhere or marked notrace)", raw, fn)
	}
	return f, nil
}

// kprobesReach returns "kprobes can attach to it: kprobe:FUNC" (kretprobe
// for fexit) when f is a function of the symbol table and the kernel has
// kprobes, or "".
func kprobesReach(env *Env, f tracefs.Function, exit bool) string {
	syms, err := env.functions().Symbols()
	if err != nil || env.features().Kprobes() != nil {
		return ""
	}
	for _, s := range syms.Lookup(f.Name) {
		if s.IsText() && s.Module == f.Module {
			kind := "kprobe"
			if exit {
				kind = "kretprobe"
			}
			return "kprobes can attach to it: " + functionProbeName(kind, f.Module, f.Name)
		}
	}
	return ""
}

// argsStruct is the type of `args` in a probe on fn: a struct whose fields
// are the arguments, each at the offset of its slot in the context.
func argsStruct(provider string, fn *btf.Func) *types.Type {
	t := &types.Type{Kind: types.Struct, Name: "struct " + provider + "_" + fn.Name + "_args", Size: 8 * fn.Slots()}
	for i, prm := range fn.Params {
		name := prm.Name
		if name == "" {
			name = fmt.Sprintf("arg%d", i) // BTF without parameter names
		}
		t.Fields = append(t.Fields, types.Field{Name: name, Type: prm.Type, Offset: 8 * prm.Slot})
	}
	return t
}
