package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// jumpWhen generates a condition as control flow: it jumps to label when
// the truth of e equals want and falls through otherwise. Predicates and if
// statements use it so that a comparison becomes one conditional jump
// instead of a 0/1 value that is then tested. Every path reaches label (and
// the fall-through) with all tmps evicted, as branchIf guarantees.
func (g *gen) jumpWhen(e ast.Expr, want bool, label string) {
	if v, ok := g.c.info.Consts[e]; ok {
		if (v != 0) == want {
			g.flushAll()
			g.emit(asm.Ja.Label(label))
		}
		return
	}
	switch e := e.(type) {
	case *ast.Paren:
		g.jumpWhen(e.X, want, label)
		return
	case *ast.BlockExpr:
		g.inBlock(e, func() { g.jumpWhen(e.Value, want, label) })
		return
	case *ast.Unary:
		if e.Op == "!" {
			g.jumpWhen(e.X, !want, label)
			return
		}
	case *ast.Binary:
		switch e.Op {
		case "&&", "||":
			// a && b is false as soon as a is; a || b is true as soon as
			// a is. When that early answer is the one wanted, both operands
			// jump to label; otherwise a jumps past b.
			early := e.Op == "||"
			if want == early {
				g.jumpWhen(e.X, want, label)
				g.jumpWhen(e.Y, want, label)
				return
			}
			skip := g.newLabel()
			g.jumpWhen(e.X, early, skip)
			g.jumpWhen(e.Y, want, label)
			g.label(skip)
			return
		case "==", "!=", "<", "<=", ">", ">=":
			if g.typeOf(e.X).Kind == types.Array {
				g.arrayCompareJump(e, label, !want)
				return
			}
			if !g.typeOf(e.X).IsString() {
				g.compareJump(e, label, !want)
				return
			}
			if e.Op == "==" || e.Op == "!=" {
				g.stringCompareJump(e, label, !want)
				return
			}
		}
	}
	op := asm.JEq
	if want {
		op = asm.JNE
	}
	g.branchIf(g.intExpr(e), op, label)
}

// jumpUnless jumps to label when e is false.
func (g *gen) jumpUnless(e ast.Expr, label string) { g.jumpWhen(e, false, label) }

// negated maps a comparison to the one that holds when it does not.
func negated(op string) string {
	switch op {
	case "==":
		return "!="
	case "!=":
		return "=="
	case "<":
		return ">="
	case "<=":
		return ">"
	case ">":
		return "<="
	}
	return "<" // ">="
}

// compareJump jumps to label when the integer comparison e is false
// (whenFalse) or true, with a constant right operand as an immediate.
func (g *gen) compareJump(e *ast.Binary, label string, whenFalse bool) {
	op := e.Op
	if whenFalse {
		op = negated(op)
	}
	jop := compareOp(op, signedOp(g.typeOf(e.X), g.typeOf(e.Y)))
	x := g.intExpr(e.X)
	if v, ok := g.c.info.Consts[e.Y]; ok && v >= -1<<31 && v < 1<<31 {
		r := g.reg(x)
		g.free(x)
		g.flushAll()
		g.emit(jop.Imm(r, int32(v), label))
		return
	}
	y := g.intExpr(e.Y)
	rx, ry := g.reg2(x, y)
	g.free(x)
	g.free(y)
	g.flushAll()
	g.emit(jop.Reg(rx, ry, label))
}
