package codegen

import "github.com/gotrace/gotrace/lang/ast"

// Block expressions, `{ stmts; value }`, and the macro uses that expand to
// them run statements in the middle of an expression. Each statement takes
// a mark of the stack frame and resets to it at its end, and leaves no tmp
// in a register (see stmt). The enclosing expression's values must survive
// that: before the first statement every live tmp is evicted to a slot
// allocated now, below the statements' marks, where their resets cannot
// hand it out again; and the statements find every register free.

// inBlock generates the statements of e, then value, which computes e's
// value (when it has one) as the enclosing expression needs it.
func (g *gen) inBlock(e *ast.BlockExpr, value func()) {
	outer := g.pos
	if len(e.Stmts) > 0 {
		g.flushAll()
		for _, s := range e.Stmts {
			g.stmt(s)
		}
	}
	if e.Value != nil {
		g.at(e.Value.Pos())
		value()
	}
	// The rest of the enclosing expression comes from its own line.
	g.pos = outer
}

// runsStatements reports whether computing e runs statements: whether it
// contains a block expression with statements.
func runsStatements(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if b, ok := n.(*ast.BlockExpr); ok && len(b.Stmts) > 0 {
			found = true
		}
		return !found
	})
	return found
}
