package check

import (
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// Block expressions, `{ let $b = 1; $b + 1 }`, are written by hand and are
// what macro uses expand to (see package lang/macro). The statements run in
// a scope of their own; the final expression, if any, is the value.

// blockExpr checks a block used as a value; its type is its value's.
func (c *checker) blockExpr(e *ast.BlockExpr) *types.Type {
	var t *types.Type
	c.withScope(func() {
		for _, s := range e.Stmts {
			c.stmt(s)
		}
		if e.Value == nil {
			t = types.VoidType // valueExpr says why that is wrong
			return
		}
		t = c.expr(e.Value)
	})
	if t == nil || e.Value == nil {
		return t
	}
	if len(e.Stmts) == 0 {
		// Nothing runs before the value, so a constant value makes a
		// constant block: a macro can give unroll's count, printf's
		// format or lhist's bounds.
		c.copyConst(e, e.Value)
	}
	if (t.Kind == types.Struct || t.Kind == types.Array) && !c.inMemory(e.Value) {
		// The code generator reaches a struct or array through its
		// address, and only memory has one: not args or its arrays.
		c.errorf(e.Value.Pos(), "%s cannot be the value of a block", t).Hint = "use it directly, or one of its fields"
		return nil
	}
	return t
}

// blockStmt checks a block expression used as a statement, such as a macro
// used as one: its value, if any, is computed for its effects alone, like
// an expression statement's.
func (c *checker) blockStmt(e *ast.BlockExpr) {
	c.withScope(func() {
		for _, s := range e.Stmts {
			c.stmt(s)
		}
		if e.Value != nil {
			c.exprStmt(&ast.ExprStmt{X: e.Value})
		}
	})
}

// inMemory reports whether the checked expression e is a struct or array
// in kernel or user memory, which has an address.
func (c *checker) inMemory(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.Paren:
		return c.inMemory(x.X)
	case *ast.BlockExpr:
		return x.Value != nil && c.inMemory(x.Value)
	case *ast.FieldAccess:
		_, ok := c.info.Fields[x]
		return ok
	case *ast.Index:
		return !FromArgs(x)
	case *ast.Unary:
		return x.Op == "*"
	}
	return false
}
