package probes

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// kprobeProvider is `kprobe:FUNC`, `kprobe:FUNC+OFFSET` and
// `kprobe:MODULE:FUNC` (alias `k`): a dynamic probe on entry to a kernel
// function, or at an offset into it. arg0..argN are the argument
// registers of the function's calling convention.
func kprobeProvider() *Provider {
	return kernelProbeProvider("kprobe", "k", false)
}

// kretprobeProvider is `kretprobe:FUNC` (alias `kr`): a dynamic probe on
// return from a kernel function, with its return value as retval.
func kretprobeProvider() *Provider {
	return kernelProbeProvider("kretprobe", "kr", true)
}

func kernelProbeProvider(name, alias string, ret bool) *Provider {
	p := &Provider{
		Name:     name,
		Aliases:  []string{alias},
		Help:     "kernel function entry: kprobe:FUNC, kprobe:FUNC+OFFSET, kprobe:MODULE:FUNC",
		ProgType: ebpf.Kprobe,
		Access:   RegsArgs,
		Cookie:   true,
		Chain:    true,
		NoArgs:   "kprobe probes have no args: use arg0..argN, or fentry:FUNC, whose args are typed",
		// kprobe-multi links attach to function entries of the kernel
		// image (module functions need Linux 6.3+, offsets never work).
		MultiAttachType: ebpf.AttachTraceKprobeMulti,
		MultiOK:         func(t *Target) bool { return t.Offset == 0 && t.Module == "" },
		HaveMulti:       func(env *Env) bool { return env.features().KprobeMulti() == nil },
	}
	if ret {
		p.Help = "kernel function return: kretprobe:FUNC, kretprobe:MODULE:FUNC"
		p.NoArgN = "kretprobe probes have no arguments: they are gone when the function returns; save them in a kprobe (@arg[tid] = arg0) or use fexit"
		p.NoArgs = "kretprobe probes have no args: save arguments in a kprobe (@arg[tid] = arg0) or use fexit:FUNC, which has args and retval"
		p.ListByName = true
	}
	p.Resolve = func(env *Env, ap AttachSpec) ([]*Target, error) {
		return resolveKprobe(env, p, ap, ret)
	}
	p.Require = func(env *Env, t *Target) error {
		err := env.features().Kprobes()
		if err == nil {
			return nil
		}
		var mf *MissingFeature
		if ret && errors.As(err, &mf) {
			err = &MissingFeature{What: strings.Replace(mf.What, "kprobes", "kretprobes", 1), Why: mf.Why}
		}
		return fmt.Errorf("%s: %v; %s", t.Spec, err, tracepointsWork(env, specFunction(t.Spec)))
	}
	p.Attach = func(t *Target, prog *ebpf.Program, cookie uint64) (io.Closer, error) {
		opts := &link.KprobeOptions{Offset: t.Offset, Cookie: cookie}
		attach := link.Kprobe
		if ret {
			attach = link.Kretprobe
		}
		l, err := attach(t.Func, prog, opts)
		if err != nil {
			return nil, refusedKprobe(t, err)
		}
		return l, nil
	}
	p.AttachMulti = func(ts []*Target, prog *ebpf.Program, cookies []uint64) (io.Closer, error) {
		opts := link.KprobeMultiOptions{Cookies: cookies}
		for _, t := range ts {
			opts.Symbols = append(opts.Symbols, t.Func)
		}
		if ret {
			return link.KretprobeMulti(prog, opts)
		}
		return link.KprobeMulti(prog, opts)
	}
	p.List = func(env *Env) ([]string, error) {
		fns, _, err := env.functions().Traceable()
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(fns))
		for _, f := range fns {
			out = append(out, functionProbeName(name, f.Module, f.Name))
		}
		return out, nil
	}
	return p
}

// refusedKprobe explains the kernel's refusal of a kprobe on a function
// that exists (Resolve found it). When the kernel refuses one (EINVAL: an
// offset inside an instruction, a function on the kprobe blacklist or in
// a section kprobes must not patch), cilium/ebpf tries again with the
// name of the function's system call wrapper (__x64_FUNC) and returns
// that second failure, "token __x64_vfs_read+0x3: not found", which
// misleads: a not-found error is the kernel's refusal.
func refusedKprobe(t *Target, err error) error {
	if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if t.Offset != 0 {
		return fmt.Errorf("the kernel refused a kprobe at %s+%d: the offset is not at an instruction boundary, or the instruction there cannot be probed", t.Func, t.Offset)
	}
	return fmt.Errorf("the kernel refused a kprobe on %s: kprobes may not probe it (it may be on the kernel's kprobe blacklist, /sys/kernel/debug/kprobes/blacklist)", t.Func)
}

// functionProbeName is the probe name of a kernel function: PROVIDER:FUNC
// for the kernel image's, PROVIDER:MODULE:FUNC for a module's.
func functionProbeName(provider, module, fn string) string {
	if module == "" {
		return provider + ":" + fn
	}
	return provider + ":" + module + ":" + fn
}

// splitFunctionSpec splits the parts of PROVIDER:FUNC or
// PROVIDER:MODULE:FUNC into the module pattern (nil: any) and the function.
func splitFunctionSpec(ap AttachSpec, usage string) (module *string, fn string, err error) {
	switch len(ap.Parts) {
	case 2:
		fn = ap.Parts[1]
	case 3:
		module, fn = &ap.Parts[1], ap.Parts[2]
		if *module == "" {
			return nil, "", fmt.Errorf("%s: the module name is empty; %s", ap.Raw, usage)
		}
	default:
		return nil, "", fmt.Errorf("%s needs a function: %s", ap.Parts[0], usage)
	}
	if fn == "" {
		return nil, "", fmt.Errorf("%s needs a function: %s", ap.Parts[0], usage)
	}
	return module, fn, nil
}

func resolveKprobe(env *Env, p *Provider, ap AttachSpec, ret bool) ([]*Target, error) {
	usage := "kprobe:FUNC, kprobe:FUNC+OFFSET or kprobe:MODULE:FUNC"
	if ret {
		usage = "kretprobe:FUNC or kretprobe:MODULE:FUNC"
	}
	module, fn, err := splitFunctionSpec(ap, usage)
	if err != nil {
		return nil, err
	}
	var offset uint64
	fn, offText, hasOffset := strings.Cut(fn, "+")
	if hasOffset {
		if ret {
			return nil, fmt.Errorf("%s: kretprobe takes no offset: it fires when the function returns, wherever that is", ap.Raw)
		}
		offset, err = strconv.ParseUint(offText, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: bad offset %q: want a number of bytes, such as 16 or 0x10", ap.Raw, offText)
		}
	}
	if strings.HasPrefix(fn, "0x") || (fn != "" && fn[0] >= '0' && fn[0] <= '9') {
		return nil, fmt.Errorf("%s: kprobes on addresses are not supported yet; name the function", ap.Raw)
	}
	regs, ok := RegsFor(runtime.GOARCH)
	if !ok {
		return nil, fmt.Errorf("%s probes are not supported on %s yet", p.Name, runtime.GOARCH)
	}
	src := env.functions()
	wild := tracefs.HasWildcard(fn) || (module != nil && tracefs.HasWildcard(*module))
	if wild && hasOffset {
		return nil, fmt.Errorf("%s: an offset needs one function, not a wildcard", ap.Raw)
	}
	fns, exact, err := src.Traceable()
	if err != nil && wild {
		return nil, err
	}
	var found []tracefs.Function
	if wild {
		found = matchFunctions(fns, module, fn)
		if len(found) == 0 {
			return nil, fmt.Errorf("%s matches no traceable kernel function", ap.Raw)
		}
	} else {
		found, err = findFunction(src, fns, exact, module, fn, ap.Raw)
		if err != nil {
			return nil, err
		}
	}
	if hasOffset {
		if err := checkOffset(src, found[0], offset, ap.Raw); err != nil {
			return nil, err
		}
	}
	var out []*Target
	for _, f := range found {
		t := &Target{
			Provider: p,
			Name:     functionProbeName(p.Name, f.Module, f.Name),
			Func:     f.Name,
			Module:   f.Module,
			Offset:   offset,
			Regs:     regs,
			NumArgs:  len(regs.Args),
		}
		if hasOffset {
			t.Name += "+" + strconv.FormatUint(offset, 10)
		}
		if ret {
			t.NumArgs = 0
			t.Retval = types.Uint64
			t.RetvalOffset = regs.Ret
		}
		out = append(out, t)
	}
	return out, nil
}

// findFunction finds one kernel function by name: in ftrace's list, or,
// since kprobes reach functions ftrace cannot patch, in the symbol table.
// A name that is nowhere gets the closest names as a suggestion.
func findFunction(src FunctionSource, fns []tracefs.Function, exact bool, module *string, fn, raw string) ([]tracefs.Function, error) {
	if found := matchFunctions(fns, module, fn); len(found) > 0 {
		return found[:1], nil
	}
	syms, _ := src.Symbols()
	for _, s := range syms.Lookup(fn) {
		if s.IsText() && (module == nil || moduleMatches(*module, s.Module)) {
			return []tracefs.Function{{Name: s.Name, Module: s.Module}}, nil
		}
	}
	msg := fmt.Sprintf("%s: there is no kernel function %s", raw, fn)
	if module != nil {
		msg = fmt.Sprintf("%s: module %s has no function %s", raw, *module, fn)
		if elsewhere := matchFunctions(fns, nil, fn); len(elsewhere) > 0 {
			f := elsewhere[0]
			return nil, fmt.Errorf("%s; it is in %s: %s", msg, moduleName(f.Module), functionProbeName(strings.SplitN(raw, ":", 2)[0], f.Module, f.Name))
		}
	}
	if len(fns) > 0 {
		if s := closestFunction(fns, fn); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
	}
	return nil, fmt.Errorf("%s", msg)
}

// closestFunction is the function name closest to fn, or "".
func closestFunction(fns []tracefs.Function, fn string) string {
	best, bestD := "", -1
	for _, f := range fns {
		if abs(len(f.Name)-len(fn)) > 3 {
			continue
		}
		d := diag.EditDistance(fn, f.Name)
		if !diag.CloseEnough(d, len(fn)) {
			continue
		}
		if bestD < 0 || d < bestD {
			best, bestD = f.Name, d
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// checkOffset rejects an offset past the end of the function, which the
// symbol table tells (the kernel checks that it is on an instruction
// boundary when the kprobe is made).
func checkOffset(src FunctionSource, f tracefs.Function, offset uint64, raw string) error {
	syms, err := src.Symbols()
	if err != nil {
		return nil // unknown sizes: the kernel will judge
	}
	for _, s := range syms.Lookup(f.Name) {
		if !s.IsText() || s.Module != f.Module {
			continue
		}
		if size := syms.Size(s); size > 0 && offset >= size {
			return fmt.Errorf("%s: offset %d is past the end of %s, which is %d bytes long", raw, offset, f.Name, size)
		}
		return nil
	}
	return nil
}

// specFunction is the function part of an attach point as written:
// "tcp_*" in "k:tcp_*", "vfs_read" in "kprobe:vfs_read+8".
func specFunction(spec string) string {
	fn := spec[strings.LastIndexByte(spec, ':')+1:]
	fn, _, _ = strings.Cut(fn, "+")
	return fn
}

// tracepointsWork is the second half of a missing-feature message: what
// the script could use instead, with a listing pattern that matches
// tracepoints named like the function (vfs_read: 'tracepoint:*read*').
func tracepointsWork(env *Env, fn string) string {
	const head = "tracepoints and rawtracepoints work: try gotrace -l "
	word := ""
	for _, w := range strings.FieldsFunc(fn, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		if len(w) >= len(word) {
			word = w
		}
	}
	if len(word) >= 3 {
		if src, err := env.tracepoints(); err == nil {
			if tps, err := src.Match("*", "*"+word+"*"); err == nil && len(tps) > 0 {
				return head + "'tracepoint:*" + word + "*'"
			}
		}
	}
	return head + "'tracepoint:*'"
}

// moduleName is how scripts name a function's module: vmlinux for the
// kernel image.
func moduleName(module string) string {
	if module == "" {
		return "vmlinux"
	}
	return module
}
