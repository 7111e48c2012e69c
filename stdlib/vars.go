package stdlib

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/perf"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// commSize is the kernel's TASK_COMM_LEN.
const commSize = 16

func always(t *types.Type) func(*Library, *probes.Target) (*types.Type, error) {
	return func(*Library, *probes.Target) (*types.Type, error) { return t, nil }
}

// helperVar is a variable computed by one helper call with no arguments,
// optionally followed by instructions that extract part of the result.
func helperVar(name, help string, t *types.Type, fn asm.BuiltinFunc, post ...asm.Instruction) *Var {
	return &Var{
		Name: name, Help: help, Type: always(t),
		Emit: func(e Emitter) {
			e.Emit(fn.Call())
			e.Emit(post...)
		},
	}
}

func builtinVars() []*Var {
	vars := []*Var{
		helperVar("pid", "process ID (the kernel's tgid)", types.Uint32, asm.FnGetCurrentPidTgid, asm.RSh.Imm(asm.R0, 32)),
		helperVar("tid", "thread ID (the kernel's pid)", types.Uint32, asm.FnGetCurrentPidTgid, asm.Mov.Reg32(asm.R0, asm.R0)),
		helperVar("uid", "user ID", types.Uint32, asm.FnGetCurrentUidGid, asm.Mov.Reg32(asm.R0, asm.R0)),
		helperVar("gid", "group ID", types.Uint32, asm.FnGetCurrentUidGid, asm.RSh.Imm(asm.R0, 32)),
		helperVar("nsecs", "nanoseconds since boot (CLOCK_MONOTONIC)", types.Uint64, asm.FnKtimeGetNs),
		helperVar("cpu", "CPU the probe fired on", types.Uint32, asm.FnGetSmpProcessorId),
		helperVar("rand", "a pseudo-random number", types.Uint32, asm.FnGetPrandomU32),
		helperVar("jiffies", "the kernel's jiffies counter", types.Uint64, asm.FnJiffies64),
		helperVar("cgroup", "ID of the current cgroup (v2)", types.Uint64, asm.FnGetCurrentCgroupId),
		{
			Name: "curtask", Help: "the current task, a struct task_struct * (from the kernel's BTF)",
			Type: func(l *Library, _ *probes.Target) (*types.Type, error) {
				task, err := l.Kernel().Struct("struct task_struct")
				if err != nil {
					return nil, fmt.Errorf("curtask needs the kernel's BTF: %w", err)
				}
				return types.NewPointer(task, types.Kernel), nil
			},
			Emit: func(e Emitter) { e.Emit(asm.FnGetCurrentTask.Call()) },
		},
		{
			Name: "ppid", Help: "process ID of the parent (curtask->real_parent->tgid)",
			Type: func(l *Library, _ *probes.Target) (*types.Type, error) {
				if _, _, err := parentOffsets(l); err != nil {
					return nil, fmt.Errorf("ppid needs the kernel's BTF: %w", err)
				}
				return types.Uint32, nil
			},
			Emit: func(e Emitter) {
				parent, tgid, _ := parentOffsets(e.Library())
				slot := e.TempSlot()
				read := func(off, size int) {
					e.Emit(
						asm.Mov.Reg(asm.R3, asm.R0),
						asm.Add.Imm(asm.R3, int32(off)),
						asm.Mov.Reg(asm.R1, asm.RFP),
						asm.Add.Imm(asm.R1, int32(slot)),
						asm.Mov.Imm(asm.R2, int32(size)),
						asm.FnProbeReadKernel.Call(),
					)
				}
				e.Emit(asm.FnGetCurrentTask.Call())
				read(parent, 8)
				e.Emit(asm.LoadMem(asm.R0, asm.RFP, slot, asm.DWord))
				read(tgid, 4)
				e.Emit(asm.LoadMem(asm.R0, asm.RFP, slot, asm.Word))
			},
		},
		{
			Name: "username", Help: "name of the current user", Type: always(types.NewSpecial("username", "")),
			Emit: func(e Emitter) {
				e.Emit(asm.FnGetCurrentUidGid.Call(), asm.Mov.Reg32(asm.R0, asm.R0))
			},
		},
		{
			Name: "ncpus", Help: "number of online CPUs", Type: always(types.Uint64),
			Emit: func(e Emitter) {
				// Known when the script is compiled; the kernel is not asked.
				n := 1
				if cpus, err := perf.OnlineCPUs(); err == nil {
					n = len(cpus)
				}
				e.Emit(asm.Mov.Imm(asm.R0, int32(n)))
			},
		},
		{
			Name: "elapsed", Help: "nanoseconds since gotrace started", Type: always(types.Uint64),
			Emit: func(e Emitter) {
				e.Emit(asm.FnKtimeGetNs.Call())
				e.LoadStartTime(asm.R1)
				e.Emit(asm.Sub.Reg(asm.R0, asm.R1))
			},
		},
		{
			Name: "comm", Help: "name of the current thread", Type: always(types.NewString(commSize)),
			// bpf_get_current_comm pads the name with NULs to the buffer size.
			Fills: true,
			Emit: func(e Emitter) {
				e.Emit(asm.Mov.Imm(asm.R2, commSize), asm.FnGetCurrentComm.Call())
			},
		},
		{
			Name: "probe", Help: "full name of the probe that fired", Type: always(&types.Type{Kind: types.Probe, Size: 8}),
			// The code generator materializes probe as the probe's index in
			// the program's probe name table; it never calls Emit.
		},
		{
			Name: "retval", Help: "return value of the traced function (kretprobe, uretprobe, fexit)",
			Type: func(_ *Library, t *probes.Target) (*types.Type, error) {
				switch {
				case t.Retval == nil:
					return nil, fmt.Errorf("retval is only valid in kretprobe, uretprobe and fexit probes, not in %s probes", t.Provider.Name)
				case t.Retval.Kind == types.Void && t.Retval.Name == "void":
					return nil, fmt.Errorf("%s returns void, so %s has no retval", t.Func, t.Name)
				case t.Retval.Kind == types.Void:
					return nil, fmt.Errorf("retval of %s (%s) is not supported yet", t.Func, t.Retval.Name)
				}
				return t.Retval, nil
			},
			Emit: func(e Emitter) { e.LoadRetval(asm.R0) },
		},
		{
			Name: "func", Help: "the traced function (kprobe, kretprobe, fentry, fexit, uprobe, uretprobe)",
			Type: func(_ *Library, t *probes.Target) (*types.Type, error) {
				if t.Func == "" {
					return nil, fmt.Errorf("func is only valid in probes on functions (kprobe, kretprobe, fentry, fexit, uprobe, uretprobe), not in %s probes", t.Provider.Name)
				}
				// Like probe, an index into the program's probe table,
				// printed in user space as the target's function.
				return &types.Type{Kind: types.Probe, Size: 8, Name: "func"}, nil
			},
		},
	}
	for i := 0; i <= 9; i++ {
		n := i
		vars = append(vars, &Var{
			Name: "arg" + strconv.Itoa(n), Help: "probe argument " + strconv.Itoa(n),
			Type: func(_ *Library, t *probes.Target) (*types.Type, error) {
				switch {
				case n < len(t.ArgTypes):
					return t.ArgTypes[n], nil
				case n < t.NumArgs:
					return types.Uint64, nil
				case t.NumArgs == 0 && t.Provider.NoArgN != "":
					return nil, errors.New(t.Provider.NoArgN)
				case t.NumArgs == 0:
					return nil, fmt.Errorf("%s probes have no arg%d; use args to read their fields", t.Provider.Name, n)
				case t.Provider.Access == probes.USDTArgs:
					return nil, fmt.Errorf("%s has %d arguments: arg0..arg%d", t.Name, t.NumArgs, t.NumArgs-1)
				case t.Regs != nil:
					return nil, fmt.Errorf("%s probes offer arg0..arg%d, the arguments passed in registers on %s; later ones are on the stack", t.Provider.Name, t.NumArgs-1, t.Regs.Arch)
				}
				return nil, fmt.Errorf("%s probes offer arg0..arg%d", t.Provider.Name, t.NumArgs-1)
			},
			Emit: func(e Emitter) { e.LoadArg(n, asm.R0) },
		})
	}
	return vars
}

// parentOffsets finds task_struct's real_parent and tgid in BTF.
func parentOffsets(l *Library) (parent, tgid int, err error) {
	task, err := l.Kernel().Struct("struct task_struct")
	if err != nil {
		return 0, 0, err
	}
	p, ok1 := task.Field("real_parent")
	t, ok2 := task.Field("tgid")
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("struct task_struct has no real_parent or tgid")
	}
	return p.Offset, t.Offset, nil
}
