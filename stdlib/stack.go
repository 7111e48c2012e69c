package stdlib

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/kallsyms"
	"github.com/gotrace/gotrace/stdlib/format"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Stack traces are taken with bpf_get_stack: a u64 holding the number of
// bytes the kernel wrote, then the frames' return addresses. The kernel
// zeroes what it did not write. The value a script sees is the stack's ID
// (stackid.go), so that @[kstack] = count() counts distinct stacks by an
// 8-byte key; the frames are named in user space from /proc/kallsyms.

// Stack limits: bpftrace's (and the kernel's perf_event_max_stack's)
// default number of frames, and the most a script may ask for.
const (
	defaultStackFrames = 127
	maxStackFrames     = 1024
)

// Stack modes (bpftrace's stack_mode): sym+off; address and sym+off, as
// perf prints stacks; addresses only. bpftrace 0.17, the reference for
// the layout, has no raw mode: raw stacks are laid out as perf ones,
// without the names.
const (
	stackModeBpftrace = "bpftrace"
	stackModePerf     = "perf"
	stackModeRaw      = "raw"
)

// stackModes lists the modes, as kstack's bare-word arguments.
func stackModes() []string { return []string{stackModeBpftrace, stackModePerf, stackModeRaw} }

// kstackHeader is the size of a stored kernel stack before its frames:
// the byte count.
const kstackHeader = 8

// kstackLayout is how a kernel stack of up to frames frames is stored.
func kstackLayout(frames int) StackLayout {
	return StackLayout{Kind: "kstack", Header: kstackHeader, Frames: frames}
}

// kstackType is the type of a kernel stack of up to frames frames, printed
// in mode.
func kstackType(mode string, frames int) *types.Type {
	return stackType(kstackLayout(frames), mode)
}

func stackVars() []*Var {
	return []*Var{{
		Name: "kstack", Help: "the kernel stack (as kstack())",
		Type: func(l *Library, _ *probes.Target) (*types.Type, error) {
			l.kernelStacks = true
			return kstackType(l.stackMode(), defaultStackFrames), nil
		},
		Emit: func(e Emitter) { emitKstack(e, defaultStackFrames) },
	}}
}

func stackFuncs() []*Func {
	return []*Func{{
		Name: "kstack", Help: "kstack([mode,] [frames]): the kernel stack; mode is bpftrace (sym+off), perf or raw",
		Kind: Value, MinArgs: 0, MaxArgs: 2, Keywords: stackModes(),
		Check: func(a *Args) (*types.Type, error) {
			a.Lib.kernelStacks = true
			mode, frames, err := stackArgs("kstack", a)
			if err != nil {
				return nil, err
			}
			if !explicitMode(a) {
				mode = a.Lib.stackMode()
			}
			return kstackType(mode, frames), nil
		},
		Emit: func(e Emitter, a *Args) {
			_, frames, _ := stackArgs("kstack", a)
			emitKstack(e, frames)
		},
	}}
}

// stackArgs checks the arguments of kstack() or ustack(): an optional
// mode (a bare word), then an optional constant number of frames.
func stackArgs(name string, a *Args) (mode string, frames int, err error) {
	mode, frames = stackModeBpftrace, defaultStackFrames
	i := 0
	if len(a.Types) > 0 && a.Strs[0] != nil {
		if !slices.Contains(stackModes(), *a.Strs[0]) {
			return "", 0, argErr(0, "%s()'s mode is bpftrace, perf or raw, not %q", name, *a.Strs[0])
		}
		mode, i = *a.Strs[0], 1
	}
	if i < len(a.Types) {
		if a.Ints[i] == nil || *a.Ints[i] < 1 || *a.Ints[i] > maxStackFrames {
			return "", 0, argErr(i, "%s()'s limit must be a constant number of frames from 1 to %d", name, maxStackFrames)
		}
		frames = int(*a.Ints[i])
		i++
	}
	if i < len(a.Types) {
		return "", 0, argErr(i, "%s() takes a mode and then a limit: %s(perf, 5)", name, name)
	}
	return mode, frames, nil
}

// emitKstack leaves the ID of the kernel stack in R0. The stack is taken
// with bpf_get_stack(ctx, buf+8, 8*frames, 0); a failure stores 0 bytes
// (the kernel zeroes the frames): an empty stack.
func emitKstack(e Emitter, frames int) {
	e.StackID(kstackLayout(frames), func() {
		slot := e.TempSlot()
		ok := e.Label()
		e.Emit(
			asm.StoreMem(asm.RFP, slot, asm.R1, asm.DWord),
			asm.Mov.Reg(asm.R2, asm.R1),
			asm.Add.Imm(asm.R2, kstackHeader),
		)
		e.LoadContext(asm.R1)
		e.Emit(
			asm.Mov.Imm(asm.R3, int32(8*frames)),
			asm.Mov.Imm(asm.R4, 0), // the kernel stack, no frames skipped
			asm.FnGetStack.Call(),
			asm.LoadMem(asm.R1, asm.RFP, slot, asm.DWord),
			asm.JSGE.Imm(asm.R0, 0, ok),
			asm.Mov.Imm(asm.R0, 0),
			asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord).WithSymbol(ok),
		)
	})
}

func stackFormatters() []*Formatter {
	return []*Formatter{{
		Name: "kstack",
		FormatBytes: func(l *Library, b []byte, mode string) format.Value {
			n := int(min(binary.LittleEndian.Uint64(b)/8, uint64(len(b)-kstackHeader)/8))
			st := format.Stack{Tab: mode != stackModeBpftrace}
			syms := l.machine.kallsyms()
			for i := range n {
				addr := binary.LittleEndian.Uint64(b[kstackHeader+8*i:])
				st.Frames = append(st.Frames, kernelFrame(syms, addr, mode))
			}
			return st
		},
	}}
}

// kernelFrame renders one frame: "sym+off" (bpftrace mode), the address
// in hex and then sym+off (perf), or the address alone (raw). An address
// no symbol covers is written in hex in place of sym+off.
func kernelFrame(syms *kallsyms.Table, addr uint64, mode string) string {
	hex := fmt.Sprintf("%016x", addr)
	if mode == stackModeRaw {
		return hex
	}
	name := "0x" + hex
	if s, off, ok := syms.At(addr); ok {
		name = s.Name + "+" + strconv.FormatUint(off, 10)
	}
	if mode == stackModePerf {
		return hex + " " + name
	}
	return name
}
