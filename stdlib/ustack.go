package stdlib

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/cilium/ebpf/asm"
	"github.com/ianlancetaylor/demangle"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/usersym"
	"github.com/gotrace/gotrace/stdlib/format"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// A user stack is taken, like a kernel stack, with bpf_get_stack, with
// BPF_F_USER_STACK, and its value is likewise its ID (stackid.go). It is
// stored as a u64 holding the number of bytes the kernel wrote, the ID of
// the process (tgid) whose stack it is, then the frames' addresses: the
// same addresses in two processes are two stacks. The kernel walks the
// stack by frame pointers, so code built without them (most
// distributions' libc) ends the walk early. The frames are named in user
// space from the process's mappings (package usersym), which programs that
// take user stacks report the first time they see a process
// (Emitter.NoteProcess), so that a stack is named even when it is printed
// after its process has exited.

// ustackHeader is the size of a stored user stack before its frames: the
// byte count and the tgid.
const ustackHeader = 16

// bpfFUserStack is bpf_get_stack's flag for the user-space stack.
const bpfFUserStack = 1 << 8

// ustackLayout is how a user stack of up to frames frames is stored.
func ustackLayout(frames int) StackLayout {
	return StackLayout{Kind: "ustack", Header: ustackHeader, Frames: frames}
}

// ustackType is the type of a user stack of up to frames frames, printed
// in mode.
func ustackType(mode string, frames int) *types.Type {
	return stackType(ustackLayout(frames), mode)
}

func ustackVars() []*Var {
	return []*Var{{
		Name: "ustack", Help: "the user-space stack (as ustack())",
		Type: func(l *Library, _ *probes.Target) (*types.Type, error) {
			return ustackType(l.stackMode(), defaultStackFrames), nil
		},
		Emit: func(e Emitter) { emitUstack(e, defaultStackFrames) },
	}}
}

func ustackFuncs() []*Func {
	return []*Func{{
		Name: "ustack", Help: "ustack([mode,] [frames]): the user-space stack; mode is bpftrace (sym+off), perf or raw",
		Kind: Value, MinArgs: 0, MaxArgs: 2, Keywords: stackModes(),
		Check: func(a *Args) (*types.Type, error) {
			mode, frames, err := stackArgs("ustack", a)
			if err != nil {
				return nil, err
			}
			if !explicitMode(a) {
				mode = a.Lib.stackMode()
			}
			return ustackType(mode, frames), nil
		},
		Emit: func(e Emitter, a *Args) {
			_, frames, _ := stackArgs("ustack", a)
			emitUstack(e, frames)
		},
	}}
}

// explicitMode reports whether a stack function's call names its mode.
func explicitMode(a *Args) bool { return len(a.Types) > 0 && a.Strs[0] != nil }

// emitUstack leaves the ID of the user stack in R0. The stack is taken
// with bpf_get_stack(ctx, buf+16, 8*frames, BPF_F_USER_STACK); a failure
// stores 0 bytes (the kernel zeroes the frames): an empty stack.
func emitUstack(e Emitter, frames int) {
	e.NoteProcess()
	e.StackID(ustackLayout(frames), func() {
		slot := e.TempSlot()
		ok := e.Label()
		e.Emit(
			asm.StoreMem(asm.RFP, slot, asm.R1, asm.DWord),
			asm.FnGetCurrentPidTgid.Call(),
			asm.RSh.Imm(asm.R0, 32),
			asm.LoadMem(asm.R2, asm.RFP, slot, asm.DWord),
			asm.StoreMem(asm.R2, 8, asm.R0, asm.DWord),
			asm.Add.Imm(asm.R2, ustackHeader),
		)
		e.LoadContext(asm.R1)
		e.Emit(
			asm.Mov.Imm(asm.R3, int32(8*frames)),
			asm.Mov.Imm(asm.R4, bpfFUserStack),
			asm.FnGetStack.Call(),
			asm.LoadMem(asm.R1, asm.RFP, slot, asm.DWord),
			asm.JSGE.Imm(asm.R0, 0, ok),
			asm.Mov.Imm(asm.R0, 0),
			asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord).WithSymbol(ok),
		)
	})
}

func ustackFormatters() []*Formatter {
	return []*Formatter{{
		Name: "ustack",
		FormatBytes: func(l *Library, b []byte, mode string) format.Value {
			if len(b) < ustackHeader {
				return fmt.Sprintf("<ustack: %d bytes>", len(b))
			}
			n := int(min(binary.LittleEndian.Uint64(b)/8, uint64(len(b)-ustackHeader)/8))
			pid := int(binary.LittleEndian.Uint64(b[8:]))
			st := format.Stack{Tab: mode != stackModeBpftrace}
			syms := l.userSyms.get()
			for i := range n {
				addr := binary.LittleEndian.Uint64(b[ustackHeader+8*i:])
				st.Frames = append(st.Frames, l.userFrame(syms, pid, addr, mode))
			}
			return st
		},
	}}
}

// userFrame renders one frame of a user stack as bpftrace 0.17 does:
// "sym+off" (bpftrace mode), the address in hex, sym+off and the file in
// parentheses (perf), or the address alone (raw). An address no symbol
// covers is written 0xADDR in place of sym+off, and its file [unknown].
func (l *Library) userFrame(syms *usersym.Resolver, pid int, addr uint64, mode string) string {
	hex := strconv.FormatUint(addr, 16)
	if mode == stackModeRaw {
		return hex
	}
	name, file := "0x"+hex, "[unknown]"
	if s, ok := syms.Lookup(pid, addr); ok {
		name, file = l.demangle(s.Name)+"+"+strconv.FormatUint(s.Offset, 10), s.File
	}
	if mode == stackModePerf {
		return hex + " " + name + " (" + file + ")"
	}
	return name
}

// demangle turns a C++ or Rust symbol name into the name its source
// gives ("_ZN5MyApp6Server6handleEi" is "MyApp::Server::handle(int)"),
// unless the script's config says cpp_demangle = false. Other names are
// unchanged.
func (l *Library) demangle(name string) string {
	if l.noDemangle {
		return name
	}
	return demangle.Filter(name)
}
