package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
)

// Loops are compiled to backward jumps, which the kernel's verifier accepts
// when it can prove they end (Linux 5.3 and later): it walks each iteration,
// so loops must be bounded by values it can track. Every loop edge is taken
// with all tmps evicted, like any other branch.

// loopLabels are where break and continue go.
type loopLabels struct {
	brk, cont string
}

func (g *gen) whileStmt(s *ast.WhileStmt) {
	if g.c.info.LoopCallbacks[s] {
		g.whileCallback(s)
		return
	}
	head, end := g.newLabel(), g.newLabel()
	g.flushAll()
	g.label(head)
	g.jumpUnless(s.Cond, end)
	g.loops = append(g.loops, loopLabels{brk: end, cont: head})
	g.block(s.Body)
	g.loops = g.loops[:len(g.loops)-1]
	g.flushAll()
	g.emit(asm.Ja.Label(head))
	g.label(end)
}

// forRange generates `for ($i : lo..hi)`: $i runs from lo up to hi-1; hi is
// evaluated once, before the first iteration.
func (g *gen) forRange(s *ast.ForStmt) {
	if g.c.info.LoopCallbacks[s] {
		g.forRangeCallback(s)
		return
	}
	head, next, end := g.newLabel(), g.newLabel(), g.newLabel()
	i := g.varPlace(s.Var)
	g.valueInto(s.Lo, g.c.info.Uses[s.Var].Type, i, false)
	hi := g.intExpr(s.Hi)
	hiSlot := g.slotOf(hi)
	g.flushAll()
	g.label(head)
	base, off := g.memRef(i, asm.R2)
	g.emit(
		asm.LoadMem(asm.R0, base, off, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, hiSlot, asm.DWord),
		asm.JSGE.Reg(asm.R0, asm.R1, end),
	)
	g.loops = append(g.loops, loopLabels{brk: end, cont: next})
	g.block(s.Body)
	g.loops = g.loops[:len(g.loops)-1]
	g.flushAll()
	g.label(next)
	base, off = g.memRef(i, asm.R2)
	g.emit(
		asm.LoadMem(asm.R0, base, off, asm.DWord),
		asm.Add.Imm(asm.R0, 1),
		asm.StoreMem(base, off, asm.R0, asm.DWord),
		asm.Ja.Label(head),
	)
	g.label(end)
	g.free(hi)
}

// jump generates break, continue and return.
func (g *gen) jump(s *ast.JumpStmt) {
	g.flushAll()
	switch s.Kind {
	case "break":
		g.emit(asm.Ja.Label(g.loops[len(g.loops)-1].brk))
	case "continue":
		g.emit(asm.Ja.Label(g.loops[len(g.loops)-1].cont))
	default:
		g.emit(asm.Ja.Label(g.exitLabel))
	}
}

// forRangeCallback generates a range loop with bpf_loop(n, fn, &ctx, 0),
// for loops the verifier could not walk one iteration at a time (see
// check.Info.LoopCallbacks): the body is the callback
// long fn(u64 index, void *ctx), in which $i = lo + index, lo and hi being
// kept in the scratch map where the callback can read them.
//
// n is at least 1 and the callback stops when $i reaches hi: when the
// verifier knows that n is 0 it never looks at the callback, and Linux
// 6.18 then fails the load with an internal error ("No program to jit").
func (g *gen) forRangeCallback(s *ast.ForStmt) {
	bounds := place{base: g.scratch, off: int16(g.scratchUsed)}
	g.scratchUsed += 16
	g.scratchMax = max(g.scratchMax, g.scratchUsed)
	lo := g.intExpr(s.Lo)
	g.storeInt(bounds, lo, 8)
	hi := g.intExpr(s.Hi)
	g.storeInt(bounds.plus(8), hi, 8)
	loSlot, hiSlot := g.slotOf(lo), g.slotOf(hi)

	fn := funcPrefix + g.newLabel()
	var index int16
	cb := g.beginCallback(s.At, fn, asm.R2, func(cb *gen) {
		index = cb.frame.alloc(8)
		cb.emit(asm.StoreMem(asm.RFP, index, asm.R1, asm.DWord))
	})
	// The callback reaches the scratch map through its own pointer.
	base, off := cb.memRef(place{base: cb.scratch, off: bounds.off}, asm.R2)
	cb.emit(
		asm.LoadMem(asm.R0, base, off, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, index, asm.DWord),
		asm.Add.Reg(asm.R0, asm.R1),
		asm.LoadMem(asm.R1, base, off+8, asm.DWord),
		asm.JSGE.Reg(asm.R0, asm.R1, cb.loops[0].brk),
	)
	base, off = cb.memRef(cb.varPlace(s.Var), asm.R1)
	cb.emit(asm.StoreMem(base, off, asm.R0, asm.DWord))
	g.endCallback(cb, s.At, s.Body, fn, 2)

	// n = hi - lo, kept within 1..check.MaxRangeIterations.
	g.flushAll()
	positive, inRange := g.newLabel(), g.newLabel()
	g.emit(
		asm.LoadMem(asm.R1, asm.RFP, hiSlot, asm.DWord),
		asm.LoadMem(asm.R0, asm.RFP, loSlot, asm.DWord),
		asm.Sub.Reg(asm.R1, asm.R0),
		asm.JSGE.Imm(asm.R1, 1, positive),
		asm.Mov.Imm(asm.R1, 1),
	)
	g.label(positive)
	g.emit(
		asm.JLE.Imm(asm.R1, check.MaxRangeIterations, inRange),
		asm.Mov.Imm(asm.R1, check.MaxRangeIterations),
	)
	g.label(inRange)
	g.callLoop(fn)
	g.free(lo)
	g.free(hi)
}

// whileCallback generates a while loop as a bpf_loop callback that tests
// the condition first and stops when it is false. bpf_loop bounds it at
// check.MaxRangeIterations iterations.
func (g *gen) whileCallback(s *ast.WhileStmt) {
	fn := funcPrefix + g.newLabel()
	cb := g.beginCallback(s.At, fn, asm.R2, func(*gen) {})
	cb.jumpUnless(s.Cond, cb.loops[0].brk)
	g.endCallback(cb, s.At, s.Body, fn, 2)
	g.flushAll()
	g.emit(asm.Mov.Imm(asm.R1, check.MaxRangeIterations))
	g.callLoop(fn)
}

// callLoop calls bpf_loop(R1, fn, &ctx, 0): fn runs R1 times or until it
// answers 1, with the callback context pointing at this frame's saved
// context pointer (see callback.go).
func (g *gen) callLoop(fn string) {
	fnPtr := asm.LoadImm(asm.R2, -1, asm.DWord).WithReference(fn)
	fnPtr.Src = asm.PseudoFunc
	g.emit(
		fnPtr,
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, int32(g.ctxSlot)),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnLoop.Call(),
	)
	g.stopIfCallbackExited()
}
