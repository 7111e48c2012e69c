package stdlib

import (
	"errors"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// ChildPIDSymbol marks the LoadImm instructions whose constant the runtime
// replaces, when it loads the programs, with the PID of the command it
// started for -c (the cpid builtin).
const ChildPIDSymbol = "gotrace_child_pid"

// SetChildCommand says whether the script will run with a command started
// for it (-c), which makes cpid available.
func (l *Library) SetChildCommand(on bool) { l.childCommand = on }

func childVars() []*Var {
	return []*Var{{
		Name: "cpid", Help: "PID of the command started with -c",
		Type: func(l *Library, _ *probes.Target) (*types.Type, error) {
			if !l.childCommand {
				return nil, errors.New("cpid is the PID of the command started with -c, and no command is given")
			}
			return types.Uint32, nil
		},
		Emit: func(e Emitter) {
			e.Emit(asm.LoadImm(asm.R0, 0, asm.DWord).WithReference(ChildPIDSymbol))
		},
	}}
}
