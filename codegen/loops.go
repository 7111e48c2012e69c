package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
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
