package macro

import (
	"strconv"

	"github.com/gotrace/gotrace/lang/ast"
)

// The expander copies the tree node by node. A scope says what names mean
// in the code being copied: the probes' own code, the body of one
// expansion, or code that is already expanded and only needs a fresh copy
// (an expression argument, copied at each use of its parameter).

// scope is what names mean in the code being copied.
type scope struct {
	// expand is false when copying code that is already expanded: the
	// copy is then exact (names, positions).
	expand bool
	// exp marks the positions of a macro body's copy; nil elsewhere.
	exp *ast.Expansion
	// vars renames the body's variables: a `$x` parameter to the caller's
	// variable, a local to its name in this expansion.
	vars map[string]string
	// maps renames `@m` parameters to the caller's maps.
	maps map[string]string
	// args are the expression arguments by parameter name, already
	// expanded in the caller's scope.
	args map[string]ast.Expr
}

// pos is the position of a copy of code at p.
func (s *scope) pos(p ast.Pos) ast.Pos {
	if s.exp != nil {
		p.Expansion = s.exp
	}
	return p
}

// count notes one more node built in scope s. Only copies made by macros
// count: the script's own code is as large as its source. Past maxNodes it
// reports the error, once, at the use of a macro in the script's own code
// being expanded, and returns false: the caller then builds a placeholder
// instead, which keeps a runaway expansion from exhausting memory (the
// program is discarded anyway).
func (x *expander) count(s *scope) bool {
	if s.expand && s.exp == nil {
		return true
	}
	x.nodes++
	if x.nodes <= maxNodes {
		return true
	}
	if !x.tooLarge {
		x.tooLarge = true
		x.errs.Add(x.outermost, "macro expansion is too large: the expanded program has more than %d syntax nodes", maxNodes).Hint =
			"a macro that uses an expression argument several times copies it each time; bind it to a variable once: let $v = x;"
	}
	return false
}

func (x *expander) block(b *ast.Block, s *scope) *ast.Block {
	if b == nil {
		return nil
	}
	return &ast.Block{At: s.pos(b.At), Stmts: x.stmts(b.Stmts, s), Close: s.pos(b.Close)}
}

func (x *expander) stmts(list []ast.Stmt, s *scope) []ast.Stmt {
	var out []ast.Stmt
	for _, st := range list {
		out = append(out, x.stmt(st, s))
	}
	return out
}

func (x *expander) stmt(st ast.Stmt, s *scope) ast.Stmt {
	if !x.count(s) {
		return &ast.Block{At: s.pos(st.Pos()), Close: s.pos(st.Pos())}
	}
	switch st := st.(type) {
	case *ast.Block:
		return x.block(st, s)
	case *ast.ExprStmt:
		return &ast.ExprStmt{X: x.expr(st.X, s)}
	case *ast.AssignStmt:
		return &ast.AssignStmt{At: s.pos(st.At), Target: x.expr(st.Target, s), Op: st.Op, Value: x.expr(st.Value, s)}
	case *ast.LetStmt:
		return &ast.LetStmt{At: s.pos(st.At), Var: x.variable(st.Var, s), Type: x.typeExpr(st.Type, s), Value: x.optExpr(st.Value, s)}
	case *ast.IfStmt:
		n := &ast.IfStmt{At: s.pos(st.At), Cond: x.expr(st.Cond, s), Then: x.block(st.Then, s)}
		if st.Else != nil {
			n.Else = x.stmt(st.Else, s)
		}
		return n
	case *ast.UnrollStmt:
		return &ast.UnrollStmt{At: s.pos(st.At), Count: x.expr(st.Count, s), Body: x.block(st.Body, s)}
	case *ast.WhileStmt:
		return &ast.WhileStmt{At: s.pos(st.At), Cond: x.expr(st.Cond, s), Body: x.block(st.Body, s)}
	case *ast.ForStmt:
		n := &ast.ForStmt{At: s.pos(st.At), Var: x.variable(st.Var, s), Lo: x.optExpr(st.Lo, s), Hi: x.optExpr(st.Hi, s), Body: x.block(st.Body, s)}
		if st.Map != nil {
			n.Map = x.mapRef(st.Map, s)
		}
		return n
	case *ast.JumpStmt:
		return &ast.JumpStmt{At: s.pos(st.At), Kind: st.Kind, Value: x.optExpr(st.Value, s)}
	}
	// Every statement type is listed above; keep anything new as it is
	// rather than fail, and let the checker judge it.
	return st
}

func (x *expander) optExpr(e ast.Expr, s *scope) ast.Expr {
	if e == nil {
		return nil
	}
	return x.expr(e, s)
}

func (x *expander) exprs(list []ast.Expr, s *scope) []ast.Expr {
	if list == nil {
		return nil // keeps MapRef.Keys nil for a map used without brackets
	}
	out := make([]ast.Expr, len(list))
	for i, e := range list {
		out[i] = x.expr(e, s)
	}
	return out
}

func (x *expander) typeExpr(t *ast.TypeExpr, s *scope) *ast.TypeExpr {
	if t == nil {
		return nil
	}
	cp := *t
	cp.At = s.pos(t.At)
	return &cp
}

// variable copies a use of a scratch variable, renamed as the scope says.
func (x *expander) variable(v *ast.Var, s *scope) *ast.Var {
	name := v.Name
	if to, ok := s.vars[v.Name]; ok {
		name = to
	}
	return &ast.Var{At: s.pos(v.At), Name: name}
}

// mapRef copies a use of a map, renamed as the scope says.
func (x *expander) mapRef(m *ast.MapRef, s *scope) *ast.MapRef {
	name := m.Name
	if to, ok := s.maps[m.Name]; ok {
		name = to
	}
	return &ast.MapRef{At: s.pos(m.At), Name: name, Keys: x.exprs(m.Keys, s)}
}

func (x *expander) expr(e ast.Expr, s *scope) ast.Expr {
	if !x.count(s) {
		return &ast.IntLit{At: s.pos(e.Pos()), Raw: "0"}
	}
	switch e := e.(type) {
	case *ast.IntLit:
		cp := *e
		cp.At = s.pos(e.At)
		return &cp
	case *ast.StrLit:
		return &ast.StrLit{At: s.pos(e.At), Value: e.Value}
	case *ast.Positional:
		return &ast.Positional{At: s.pos(e.At), Index: e.Index, Count: e.Count}
	case *ast.Var:
		return x.variable(e, s)
	case *ast.MapRef:
		return x.mapRef(e, s)
	case *ast.Ident:
		if arg, ok := s.args[e.Name]; ok {
			// A fresh copy at each use: the checker and the code generator
			// record facts per node.
			return x.expr(arg, &scope{})
		}
		if s.expand && x.defs[e.Name] != nil {
			at := s.pos(e.At)
			// The bare name ends at its last character, as a call ends at ')'.
			end := at
			end.Col += len(e.Name) - 1
			end.Offset += len(e.Name) - 1
			return x.use(x.defs[e.Name], at, end, nil, false, s)
		}
		return &ast.Ident{At: s.pos(e.At), Name: e.Name}
	case *ast.Call:
		if s.expand {
			if d := x.defs[e.Name]; d != nil {
				return x.use(d, s.pos(e.At), s.pos(e.Close), e.Args, true, s)
			}
			if x.isFunc != nil && !x.isFunc(e.Name) {
				if m := x.closestMacro(e.Name); m != "" {
					x.errs.Add(s.pos(e.At), "unknown macro or function %s()", e.Name).Hint =
						"did you mean the macro " + x.defs[m].signature() + "?"
				}
			}
		}
		return &ast.Call{At: s.pos(e.At), Name: e.Name, Args: x.exprs(e.Args, s), Close: s.pos(e.Close)}
	case *ast.Unary:
		return &ast.Unary{At: s.pos(e.At), Op: e.Op, X: x.expr(e.X, s)}
	case *ast.Postfix:
		return &ast.Postfix{At: s.pos(e.At), Op: e.Op, X: x.expr(e.X, s)}
	case *ast.Binary:
		return &ast.Binary{At: s.pos(e.At), Op: e.Op, X: x.expr(e.X, s), Y: x.expr(e.Y, s)}
	case *ast.Ternary:
		return &ast.Ternary{At: s.pos(e.At), Cond: x.expr(e.Cond, s), Then: x.expr(e.Then, s), Else: x.expr(e.Else, s)}
	case *ast.Cast:
		return &ast.Cast{At: s.pos(e.At), Type: x.typeExpr(e.Type, s), X: x.expr(e.X, s)}
	case *ast.FieldAccess:
		return &ast.FieldAccess{At: s.pos(e.At), X: x.expr(e.X, s), Name: e.Name, Arrow: e.Arrow}
	case *ast.Index:
		return &ast.Index{At: s.pos(e.At), X: x.expr(e.X, s), Index: x.expr(e.Index, s)}
	case *ast.Tuple:
		return &ast.Tuple{At: s.pos(e.At), Elems: x.exprs(e.Elems, s), Names: e.Names}
	case *ast.Paren:
		return &ast.Paren{At: s.pos(e.At), X: x.expr(e.X, s)}
	case *ast.BlockExpr:
		return &ast.BlockExpr{At: s.pos(e.At), Stmts: x.stmts(e.Stmts, s), Value: x.optExpr(e.Value, s), Close: s.pos(e.Close), Macro: e.Macro}
	case *ast.Sizeof:
		return &ast.Sizeof{At: s.pos(e.At), Type: x.typeExpr(e.Type, s), X: x.optExpr(e.X, s)}
	case *ast.Offsetof:
		return &ast.Offsetof{At: s.pos(e.At), Type: x.typeExpr(e.Type, s), Field: e.Field}
	}
	// Every expression type is listed above; see stmt.
	return e
}

// use expands one use of macro d at [at, end] (positions already in the
// caller's terms), with args as written when called with parentheses. It
// returns a block expression holding a copy of the body, or an empty one
// after reporting a problem.
func (x *expander) use(d *definition, at, end ast.Pos, args []ast.Expr, called bool, s *scope) ast.Expr {
	failed := &ast.BlockExpr{At: at, Close: end, Macro: d.Name}
	if !called && len(d.Params) > 0 {
		x.errs.Add(at, "macro %s takes %s: call it as %s", d.Name, arguments(len(d.Params)), d.signature())
		return failed
	}
	if !x.checkArgs(d, end, args, s) || d.recursive || d.Body == nil || x.tooLarge {
		return failed
	}
	if s.exp == nil {
		// A use in an argument of this one is outermost only while it is
		// expanded.
		defer func(outer ast.Pos) { x.outermost = outer }(x.outermost)
		x.outermost = at
	}
	x.expansions++
	body := &scope{
		expand: true,
		exp:    &ast.Expansion{Macro: d.Name, Call: at},
		vars:   map[string]string{},
		maps:   map[string]string{},
		args:   map[string]ast.Expr{},
	}
	for local := range d.locals {
		body.vars[local] = local + "#" + strconv.Itoa(x.expansions)
	}
	for i, p := range d.Params {
		// checkArgs made sure of the kinds; the copies keep them (unless
		// the expansion grew too large, which is already reported).
		arg := x.expr(args[i], s)
		switch kindOf(p) {
		case varParam:
			if v, ok := arg.(*ast.Var); ok {
				body.vars[p] = v.Name
			}
		case mapParam:
			if m, ok := arg.(*ast.MapRef); ok {
				body.maps[p] = m.Name
			}
		default:
			switch arg.(type) {
			case *ast.Var, *ast.MapRef:
				// A variable or map given for an expression is a value:
				// the body can neither change it nor treat it as a map.
				arg = &ast.Paren{At: arg.Pos(), X: arg}
			}
			body.args[p] = arg
		}
	}
	return &ast.BlockExpr{
		At:    at,
		Stmts: x.stmts(d.Body.Stmts, body),
		Value: x.optExpr(d.Body.Value, body),
		Close: end,
		Macro: d.Name,
	}
}

// checkArgs reports arguments that do not fit the parameters of d; end is
// where the call closes. Positions of arguments are made in scope s, the
// caller's.
func (x *expander) checkArgs(d *definition, end ast.Pos, args []ast.Expr, s *scope) bool {
	want := len(d.Params)
	switch {
	case len(args) < want:
		x.errs.Add(end, "macro %s takes %s, got %d", d.signature(), arguments(want), len(args))
		return false
	case len(args) > want:
		x.errs.Add(s.pos(args[want].Pos()), "macro %s takes %s, got %d", d.signature(), arguments(want), len(args))
		return false
	}
	ok := true
	for i, p := range d.Params {
		arg := args[i]
		switch kindOf(p) {
		case varParam:
			if _, isVar := arg.(*ast.Var); !isVar {
				x.errs.Add(s.pos(arg.Pos()), "macro %s expects a scratch variable for %s, not %s", d.signature(), p, describe(arg)).Hint =
					"the macro may change " + p + ", so it must be given a variable such as $v"
				ok = false
			}
		case mapParam:
			if m, isMap := arg.(*ast.MapRef); !isMap || m.Keys != nil {
				x.errs.Add(s.pos(arg.Pos()), "macro %s expects a map for %s, not %s", d.signature(), p, describe(arg)).Hint =
					"pass a whole map, such as @m"
				ok = false
			}
		}
	}
	return ok
}

// describe names the kind of an argument as written.
func describe(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Var:
		return "a scratch variable"
	case *ast.MapRef:
		if e.Keys != nil {
			return "a map element"
		}
		return "a map"
	case *ast.Positional:
		return "a positional parameter"
	}
	return "an expression"
}

func arguments(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return strconv.Itoa(n) + " arguments"
}
