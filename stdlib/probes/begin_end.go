package probes

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// BEGIN and END are not attached anywhere: the runtime runs their programs
// once in the kernel with BPF_PROG_TEST_RUN, which raw tracepoint programs
// support, so that builtins such as pid and comm describe gotrace itself,
// as they do in bpftrace.

func beginProvider() *Provider {
	return runOnceProvider("BEGIN", "begin", "runs once, before other probes are attached")
}

func endProvider() *Provider {
	return runOnceProvider("END", "end", "runs once, after other probes are detached")
}

func runOnceProvider(name, alias, help string) *Provider {
	p := &Provider{
		Name:     name,
		Aliases:  []string{alias},
		Help:     help,
		ProgType: ebpf.RawTracepoint,
		RunOnce:  true,
	}
	p.Resolve = func(_ *Env, ap AttachSpec) ([]*Target, error) {
		if len(ap.Parts) != 1 {
			return nil, fmt.Errorf("%s takes no arguments", name)
		}
		return []*Target{{Provider: p, Name: name}}, nil
	}
	return p
}
