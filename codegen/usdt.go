package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/userbin"
)

// usdtArg loads argument n of a USDT probe into dst, from where the
// probe's note says it is: a constant, a register of the traced code
// (its pt_regs, the program's context), or the traced program's memory
// at an address computed from registers (or, for a global variable, from
// the instruction pointer, which tells how far the file was moved when
// it was loaded). The value is cut to the argument's size and extended to
// 64 bits, with its sign if it is signed. A memory read that fails gives
// 0 (-k does not report it: argN has no call to point at). It may
// clobber R0..R5. (probes.USDTArgs.)
func (g *gen) usdtArg(n int, dst asm.Register) {
	a := g.target.User.USDT[n]
	t := types.NewInt(a.Size, a.Signed)
	ctx := func(r asm.Register, off int) {
		g.emit(
			asm.LoadMem(r, asm.RFP, g.ctxSlot, asm.DWord),
			asm.LoadMem(r, r, int16(off), asm.DWord),
		)
	}
	switch a.Kind {
	case userbin.ArgConst:
		g.emit(asm.LoadImm(dst, a.Disp, asm.DWord))
		return
	case userbin.ArgReg:
		ctx(dst, a.Base)
		g.extend(dst, t)
		return
	}
	// The address, in R3: base (+ index*scale) + displacement, or the
	// instruction pointer minus the probe's address in the file plus the
	// variable's address in the file.
	switch a.Kind {
	case userbin.ArgMem:
		ctx(asm.R3, a.Base)
		if a.Index >= 0 {
			ctx(asm.R4, a.Index)
			if a.Scale != 1 {
				g.emit(asm.Mul.Imm(asm.R4, int32(a.Scale)))
			}
			g.emit(asm.Add.Reg(asm.R3, asm.R4))
		}
		if a.Disp != 0 {
			g.emit(asm.LoadImm(asm.R4, a.Disp, asm.DWord), asm.Add.Reg(asm.R3, asm.R4))
		}
	case userbin.ArgMemPC:
		ctx(asm.R3, g.target.Regs.IP)
		g.emit(
			asm.LoadImm(asm.R4, a.Disp-int64(g.target.User.Vaddr), asm.DWord),
			asm.Add.Reg(asm.R3, asm.R4),
		)
	default:
		panic("unknown USDT argument kind")
	}
	slot := g.frame.alloc(8)
	g.emit(
		storeImm64(asm.RFP, slot, 0),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, int32(slot)),
		asm.Mov.Imm(asm.R2, int32(a.Size)),
		asm.FnProbeReadUser.Call(),
	)
	g.emit(asm.LoadMem(dst, asm.RFP, slot, sizeOf(a.Size)))
	if a.Signed {
		g.extend(dst, t)
	}
}
