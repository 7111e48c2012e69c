package stdlib

import (
	"errors"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Builtins that bpftrace has and gotrace does not have yet, or not on the
// probe kinds it supports so far. They are table entries so that a script
// using one gets a sentence saying why, rather than "unknown identifier".
// An entry here is dropped when a real entry of the same name exists.

func pendingVars() []*Var {
	unavailable := func(name, why string) *Var {
		return &Var{Name: name, Help: name + ": " + why, Type: func(*Library, *probes.Target) (*types.Type, error) {
			return nil, errors.New(name + " " + why)
		}}
	}
	return []*Var{
		unavailable("func", "names the probed function of kprobe, uprobe and fentry probes, which gotrace does not support yet"),
		unavailable("kstack", "(kernel stacks) is not supported yet"),
		unavailable("ustack", "(user stacks) is not supported yet"),
	}
}

func pendingFuncs() []*Func {
	unavailable := func(name, why string, unsafe bool) *Func {
		return &Func{Name: name, Help: name + "(): " + why, Kind: Value, MinArgs: 0, MaxArgs: -1, Unsafe: unsafe,
			Check: func(*Args) (*types.Type, error) { return nil, errors.New(name + "() " + why) }}
	}
	return []*Func{
		unavailable("path", "reads a struct path with bpf_d_path, which the kernel allows only in fentry probes; gotrace does not support them yet", false),
		unavailable("override", "changes a kprobe'd function's return value, and gotrace does not support kprobes yet", true),
		unavailable("kstack", "(kernel stacks) is not supported yet", false),
		unavailable("ustack", "(user stacks) is not supported yet", false),
	}
}
