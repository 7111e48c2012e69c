package stdlib

import (
	"errors"

	"github.com/gotrace/gotrace/lang/types"
)

// Builtins that bpftrace has and gotrace does not have yet, or not on the
// probe kinds it supports so far. They are table entries so that a script
// using one gets a sentence saying why, rather than "unknown identifier".
// An entry here is dropped when a real entry of the same name exists.

func pendingVars() []*Var {
	// None at the moment: ustack, the last one, is implemented.
	return nil
}

func pendingFuncs() []*Func {
	unavailable := func(name, why string, unsafe bool) *Func {
		return &Func{Name: name, Help: name + "(): " + why, Kind: Value, MinArgs: 0, MaxArgs: -1, Unsafe: unsafe,
			Check: func(*Args) (*types.Type, error) { return nil, errors.New(name + "() " + why) }}
	}
	return []*Func{
		unavailable("path", "(bpf_d_path in fentry probes) is not supported yet", false),
		unavailable("override", "(changing a kprobe'd function's return value) is not supported yet", true),
	}
}
