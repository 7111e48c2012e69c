package probes

import (
	"debug/elf"
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"

	"github.com/gotrace/gotrace/runtime/userbin"
)

var errShortCode = errors.New("short code")

// checkInstruction checks that a uprobe at offset off into function fn
// starts an instruction. The kernel writes a breakpoint over the first
// byte of the probed instruction: in the middle of one, the breakpoint
// changes what the program computes, or makes it crash, instead of
// stopping it. x86-64 instructions have lengths from 1 to 15 bytes, so the
// function's instructions are decoded from its start up to the offset;
// arm64's are 4 bytes each.
func checkInstruction(bin *userbin.Binary, fn userbin.Symbol, off uint64, raw string) error {
	if off == 0 {
		return nil
	}
	switch bin.Machine {
	case elf.EM_AARCH64:
		if off%4 != 0 {
			return fmt.Errorf("%s: offset %d into %s is not on an instruction: arm64 instructions are 4 bytes long", raw, off, fn.Name)
		}
		return nil
	case elf.EM_X86_64:
	default:
		return nil // the kernel checks what it can
	}
	// An instruction is at most 15 bytes: the one that covers off ends
	// within off+15.
	code, err := bin.Code(fn.Value, off+15)
	if err != nil {
		return fmt.Errorf("%s: %v", raw, err)
	}
	at, prev := uint64(0), uint64(0)
	for at < off {
		var insn x86asm.Inst
		err := errShortCode
		if at < uint64(len(code)) {
			insn, err = x86asm.Decode(code[at:], 64)
		}
		if err != nil {
			return fmt.Errorf("%s: cannot decode the instruction at %s+%d, so cannot check that offset %d starts an instruction", raw, fn.Name, at, off)
		}
		prev = at
		at += uint64(insn.Len)
	}
	if at != off {
		return fmt.Errorf("%s: offset %d is inside the instruction at %s+%d, which ends at %s+%d: a uprobe must be placed at the start of an instruction", raw, off, fn.Name, prev, fn.Name, at)
	}
	return nil
}
