package probes

import (
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// maxRawArgs is how many of arg0..argN a raw tracepoint offers. The kernel
// checks at attach time that the program reads no more arguments than the
// tracepoint has.
const maxRawArgs = 10

// rawTracepointProvider is `rawtracepoint:[CATEGORY:]NAME` (alias `rt`): the
// tracepoint's raw arguments as arg0..arg9, before any formatting.
func rawTracepointProvider() *Provider {
	p := &Provider{
		Name:     "rawtracepoint",
		Aliases:  []string{"rt"},
		Help:     "kernel tracepoints with raw arguments: rawtracepoint:NAME",
		ProgType: ebpf.RawTracepoint,
		Access:   RawArgs,
		Chain:    true,
		NoArgs:   "rawtracepoint probes have no args yet (BTF-typed arguments, bpftrace's tp_btf form, are not supported): use arg0..argN, or tracepoint:CATEGORY:NAME, whose args are typed",
	}
	p.Resolve = func(env *Env, ap AttachSpec) ([]*Target, error) {
		var cat, name string
		switch len(ap.Parts) {
		case 2:
			name = ap.Parts[1]
		case 3:
			cat, name = ap.Parts[1], ap.Parts[2]
		default:
			return nil, fmt.Errorf("rawtracepoint needs a name: rawtracepoint:NAME or rawtracepoint:CATEGORY:NAME")
		}
		if name == "" {
			return nil, fmt.Errorf("rawtracepoint needs a name: rawtracepoint:NAME")
		}
		src, err := env.tracepoints()
		if err != nil {
			return nil, err
		}
		if cat == "" {
			cat = "*"
		}
		tps, err := src.Match(cat, name)
		if err != nil {
			return nil, err
		}
		var out []*Target
		seen := map[string]bool{}
		for _, tp := range tps {
			if tp.Category == "syscalls" {
				// Per-syscall events are made by the syscall tracing code
				// from the raw sys_enter/sys_exit tracepoints; they cannot
				// be attached to raw.
				continue
			}
			if seen[tp.Name] {
				continue
			}
			seen[tp.Name] = true
			out = append(out, &Target{
				Provider: p,
				Name:     "rawtracepoint:" + tp.Category + ":" + tp.Name,
				Category: tp.Category,
				Event:    tp.Name,
				NumArgs:  maxRawArgs,
			})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no raw tracepoint matches %s: the syscalls:* events are not raw tracepoints; use rawtracepoint:sys_enter or rawtracepoint:sys_exit (arg1 is the syscall number)", ap.Raw)
		}
		return out, nil
	}
	p.Attach = func(t *Target, prog *ebpf.Program, _ uint64) (io.Closer, error) {
		return link.AttachRawTracepoint(link.RawTracepointOptions{Name: t.Event, Program: prog})
	}
	p.List = func(env *Env) ([]string, error) {
		targets, err := p.Resolve(env, AttachSpec{Raw: "rawtracepoint:*:*", Parts: []string{"rawtracepoint", "*", "*"}})
		if err != nil {
			return nil, err
		}
		names := make([]string, len(targets))
		for i, t := range targets {
			names[i] = t.Name
		}
		return names, nil
	}
	p.Describe = func(env *Env, name string) ([]string, error) {
		return rawTracepointArgs(env, name[strings.LastIndexByte(name, ':')+1:])
	}
	return p
}

// rawTracepointArgs declares what arg0, arg1, ... of a raw tracepoint are,
// as C does. The kernel's BTF has them as the parameters of the
// tracepoint's BPF stub, __bpf_trace_NAME, after its first (the
// tracepoint's private data).
func rawTracepointArgs(env *Env, event string) ([]string, error) {
	fn, err := env.kernel().Func("__bpf_trace_" + event)
	if err != nil {
		return nil, err
	}
	var lines []string
	for i, prm := range fn.Params {
		if i > 0 {
			lines = append(lines, fmt.Sprintf("%s %s", prm.C, prm.Name))
		}
	}
	return lines, nil
}
