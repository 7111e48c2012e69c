package codegen

import (
	"fmt"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// funcPrefix starts the symbols of subprograms (map loop callbacks).
const funcPrefix = "cb_"

// resolveJumps turns jumps to labels into plain offsets and removes the
// labels. cilium/ebpf treats every symbol in an instruction stream as the
// start of a function when a program has subprograms, so only function
// symbols may remain; jumps within a function are resolved here instead.
func resolveJumps(insns asm.Instructions) (asm.Instructions, error) {
	at := make(map[string]int, len(insns)/4)
	pos := 0
	for _, ins := range insns {
		if sym := ins.Symbol(); sym != "" && !strings.HasPrefix(sym, funcPrefix) {
			at[sym] = pos
		}
		pos += int(ins.Size() / asm.InstructionSize)
	}
	out := make(asm.Instructions, len(insns))
	pos = 0
	for i, ins := range insns {
		if sym := ins.Symbol(); sym != "" && !strings.HasPrefix(sym, funcPrefix) {
			ins = ins.WithSymbol("")
		}
		if ref := ins.Reference(); ref != "" && ins.OpCode.JumpOp() != asm.InvalidJumpOp && !ins.IsFunctionCall() {
			target, ok := at[ref]
			if !ok {
				return nil, fmt.Errorf("jump to undefined label %s", ref)
			}
			off := target - (pos + 1)
			if off < -1<<15 || off >= 1<<15 {
				return nil, fmt.Errorf("jump to %s is too far (%d instructions)", ref, off)
			}
			ins.Offset = int16(off)
			ins = ins.WithReference("")
		}
		out[i] = ins
		pos += int(ins.Size() / asm.InstructionSize)
	}
	return out, nil
}

// dropUnreachable removes instructions no path reaches, such as the code
// after exit() or break, or the jump past an else branch whose then branch
// ended with exit(): the kernel's verifier rejects programs with unreachable
// instructions. Paths start at the program's first instruction and at
// every function symbol; jumps are still by label here.
func dropUnreachable(insns asm.Instructions) asm.Instructions {
	labels := make(map[string]int, len(insns)/4)
	for i, ins := range insns {
		if sym := ins.Symbol(); sym != "" {
			labels[sym] = i
		}
	}
	reached := make([]bool, len(insns))
	work := []int{0}
	for i, ins := range insns {
		if strings.HasPrefix(ins.Symbol(), funcPrefix) {
			work = append(work, i)
		}
	}
	for len(work) > 0 {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		if i >= len(insns) || reached[i] {
			continue
		}
		reached[i] = true
		ins := insns[i]
		op := ins.OpCode.JumpOp()
		switch {
		case op == asm.Exit:
			continue
		case op == asm.Ja && ins.Reference() != "":
			work = append(work, labels[ins.Reference()])
			continue
		case op != asm.InvalidJumpOp && op != asm.Call && op != asm.Ja && ins.Reference() != "":
			work = append(work, labels[ins.Reference()])
		}
		work = append(work, i+1)
	}
	out := make(asm.Instructions, 0, len(insns))
	var dropped fmt.Stringer // the line of a dropped run's first instruction
	for i, ins := range insns {
		if !reached[i] {
			if src := ins.Source(); src != nil {
				dropped = src
			}
			continue
		}
		if src := ins.Source(); src != nil {
			dropped = nil
		} else if dropped != nil {
			// The run's annotation was on a dropped instruction.
			ins = ins.WithSource(dropped)
			dropped = nil
		}
		out = append(out, ins)
	}
	return out
}
