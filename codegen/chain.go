package codegen

import (
	"fmt"
	"math"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// A ChainPart is one program of a chain: its code and the stack it uses.
type ChainPart struct {
	Spec      *ebpf.ProgramSpec
	StackSize int
}

// Chain joins programs that run on the same event into one program that
// runs their bodies in order: what the kernel would do with the programs
// attached one by one, for one program load, one perf event and one link
// instead of one each, and one program run per event.
//
// A body ends where its program returned: each exit instruction but the
// last body's becomes a jump to the next body, whose entry first reloads
// the context pointer from a stack slot below every body's frame (where
// the chain's first instruction saved it). Jumps are already plain
// offsets within each body, and the rewrite keeps an instruction's size,
// so they stay right. The bodies' bpf_get_attach_cookie calls still work:
// the runtime attaches a program with its target's cookie, which is the
// same for every probe on one target.
//
// Chain returns an error, and the programs must be loaded one by one,
// when one has subprograms (their symbols are function boundaries) or
// when the frames leave no room for the slot.
func Chain(name string, parts []ChainPart) (*ebpf.ProgramSpec, error) {
	if len(parts) < 2 {
		return nil, fmt.Errorf("a chain needs two programs or more")
	}
	depth := 0
	for _, p := range parts {
		for _, ins := range p.Spec.Instructions {
			if ins.IsFunctionCall() || ins.IsLoadOfFunctionPointer() || strings.HasPrefix(ins.Symbol(), funcPrefix) {
				return nil, fmt.Errorf("%s has subprograms", p.Spec.Name)
			}
		}
		depth = max(depth, p.StackSize)
	}
	ctxSlot := -int16(depth + 8)
	if depth+8 > maxStack {
		return nil, fmt.Errorf("no stack left for the context pointer")
	}
	// The instructions added at a body's start take its first line of
	// source: the kernel wants line info on a program's first
	// instruction when it has any.
	var insns asm.Instructions
	for i, p := range parts {
		last := i == len(parts)-1
		body := p.Spec.Instructions
		src := body[0].Source()
		if i == 0 {
			insns = append(insns, asm.StoreMem(asm.RFP, ctxSlot, asm.R1, asm.DWord).WithSource(src))
		} else {
			insns = append(insns, asm.LoadMem(asm.R1, asm.RFP, ctxSlot, asm.DWord).WithSource(src))
		}
		end := 0 // the body's size in 8-byte slots
		for _, ins := range body {
			end += int(ins.Size() / asm.InstructionSize)
		}
		pos := 0
		for _, ins := range body {
			if ins.OpCode.JumpOp() == asm.Exit && !last {
				// To the next body's first instruction: the reload of R1.
				off := end - pos - 1
				if off > math.MaxInt16 {
					return nil, fmt.Errorf("%s is too long to jump over", p.Spec.Name)
				}
				ins = asm.Instruction{OpCode: asm.OpCode(asm.JumpClass).SetJumpOp(asm.Ja), Offset: int16(off)}.WithSource(ins.Source())
			}
			insns = append(insns, ins)
			pos += int(ins.Size() / asm.InstructionSize)
		}
	}
	spec := *parts[0].Spec
	spec.Name = name
	spec.Instructions = insns
	return &spec, nil
}
