package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
)

// jumpUnless generates a condition as control flow: it falls through when
// e is true and jumps to label when it is false. Predicates and if
// statements use it so that a comparison becomes one conditional jump
// instead of a 0/1 value that is then tested. Every path reaches label (and
// the fall-through) with all tmps evicted, as branchIf guarantees.
func (g *gen) jumpUnless(e ast.Expr, label string) {
	if v, ok := g.c.info.Consts[e]; ok {
		if v == 0 {
			g.flushAll()
			g.emit(asm.Ja.Label(label))
		}
		return
	}
	switch e := e.(type) {
	case *ast.Paren:
		g.jumpUnless(e.X, label)
		return
	case *ast.Unary:
		if e.Op == "!" {
			g.jumpIf(e.X, label)
			return
		}
	case *ast.Binary:
		switch e.Op {
		case "&&":
			g.jumpUnless(e.X, label)
			g.jumpUnless(e.Y, label)
			return
		case "||":
			yes := g.newLabel()
			g.jumpIf(e.X, yes)
			g.jumpUnless(e.Y, label)
			g.label(yes)
			return
		case "==", "!=", "<", "<=", ">", ">=":
			if !g.typeOf(e.X).IsString() {
				g.compareJump(e, label, true)
				return
			}
			if e.Op == "==" || e.Op == "!=" {
				g.stringCompareJump(e, label, true)
				return
			}
		}
	}
	g.branchIf(g.intExpr(e), asm.JEq, label)
}

// jumpIf jumps to label when e is true and falls through otherwise.
func (g *gen) jumpIf(e ast.Expr, label string) {
	if v, ok := g.c.info.Consts[e]; ok {
		if v != 0 {
			g.flushAll()
			g.emit(asm.Ja.Label(label))
		}
		return
	}
	switch e := e.(type) {
	case *ast.Paren:
		g.jumpIf(e.X, label)
		return
	case *ast.Unary:
		if e.Op == "!" {
			g.jumpUnless(e.X, label)
			return
		}
	case *ast.Binary:
		switch e.Op {
		case "||":
			g.jumpIf(e.X, label)
			g.jumpIf(e.Y, label)
			return
		case "&&":
			no := g.newLabel()
			g.jumpUnless(e.X, no)
			g.jumpIf(e.Y, label)
			g.label(no)
			return
		case "==", "!=", "<", "<=", ">", ">=":
			if !g.typeOf(e.X).IsString() {
				g.compareJump(e, label, false)
				return
			}
			if e.Op == "==" || e.Op == "!=" {
				g.stringCompareJump(e, label, false)
				return
			}
		}
	}
	g.branchIf(g.intExpr(e), asm.JNE, label)
}

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
