package parser

import (
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// converter turns the participle parse tree (grammar.go) into lang/ast
// nodes. It applies operator precedence and reports the problems that the
// grammar leaves to it: missing ';' separators, assignment targets, the
// shape of for loops and tuples. It keeps going after an error so that
// several can be reported at once.
type converter struct {
	errs *diag.List
}

func toPos(p lexer.Position) ast.Pos {
	return ast.Pos{Line: p.Line, Col: p.Column, Offset: p.Offset}
}

func (c *converter) errorf(p ast.Pos, format string, args ...any) *diag.Error {
	return c.errs.Add(p, format, args...)
}

// missingSemi reports a missing ';' before the statement starting at tok.
func (c *converter) missingSemi(tok lexer.Token) {
	c.errorf(toPos(tok.Pos), "expected ';' before %s", describeToken(tok))
}

func (c *converter) program(file string, t *program) *ast.Program {
	prog := &ast.Program{File: file}
	for _, it := range t.Items {
		switch {
		case it.Include != nil:
			p := it.Include.Path
			prog.Includes = append(prog.Includes, &ast.Include{At: toPos(it.Include.Pos), Path: p[1 : len(p)-1]})
		case it.Define != nil:
			prog.Defines = append(prog.Defines, &ast.Define{At: toPos(it.Define.Pos), Name: it.Define.Name, Value: it.Define.Value})
		case it.Config != nil:
			prog.Config = append(prog.Config, c.config(it.Config)...)
		case it.Type != nil:
			prog.Types = append(prog.Types, &ast.TypeDecl{
				At:   toPos(it.Type.Pos),
				Kind: it.Type.Kind,
				Name: it.Type.Name,
				Body: it.Type.Body,
			})
		case it.Macro != nil:
			prog.Macros = append(prog.Macros, &ast.Macro{
				At:     toPos(it.Macro.Pos),
				Name:   it.Macro.Name,
				Params: it.Macro.Params,
				Body:   c.blockExpr(it.Macro.Body),
			})
		case it.Fn != nil:
			c.errorf(toPos(it.Fn.Pos), "function definitions (fn) are not supported").Hint = "use a macro instead: macro name($arg) { ... }"
		case it.Import != nil:
			c.errorf(toPos(it.Import.Pos), "import is not supported")
		case it.Probe != nil:
			prog.Probes = append(prog.Probes, c.probe(it.Probe))
		}
	}
	if len(prog.Probes) == 0 {
		c.errorf(ast.Pos{}, "the program has no probes").Hint = `a probe is an attach point and an action, e.g. BEGIN { printf("hello\n"); }`
	}
	return prog
}

func (c *converter) config(t *configDecl) []*ast.ConfigEntry {
	var out []*ast.ConfigEntry
	for i, e := range t.Entries {
		if i > 0 && !t.Entries[i-1].Semi {
			c.missingSemi(e.Tokens[0])
		}
		out = append(out, &ast.ConfigEntry{At: toPos(e.Pos), Key: e.Key, Value: c.expr(e.Value)})
	}
	return out
}

func (c *converter) probe(t *probe) *ast.Probe {
	p := &ast.Probe{At: toPos(t.Pos)}
	for _, a := range t.Attach {
		p.Attach = append(p.Attach, &ast.AttachPoint{At: toPos(a.Pos), Raw: a.Raw})
	}
	if t.Pred != nil {
		p.Predicate = c.expr(t.Pred)
	}
	p.Body = c.block(t.Body)
	return p
}

func (c *converter) block(t *block) *ast.Block {
	b := &ast.Block{At: toPos(t.Pos), Close: toPos(t.Tokens[len(t.Tokens)-1].Pos)}
	needSemi := false
	for _, it := range t.Items {
		if it.Semi {
			continue
		}
		if needSemi {
			c.missingSemi(it.Tokens[0])
		}
		needSemi = false
		switch {
		case it.If != nil:
			b.Stmts = append(b.Stmts, c.ifStmt(it.If))
		case it.Unroll != nil:
			b.Stmts = append(b.Stmts, &ast.UnrollStmt{At: toPos(it.Unroll.Pos), Count: unparen(c.expr(it.Unroll.Count)), Body: c.block(it.Unroll.Body)})
		case it.While != nil:
			b.Stmts = append(b.Stmts, &ast.WhileStmt{At: toPos(it.While.Pos), Cond: unparen(c.expr(it.While.Cond)), Body: c.block(it.While.Body)})
		case it.For != nil:
			b.Stmts = append(b.Stmts, c.forStmt(it.For))
		case it.Block != nil:
			b.Stmts = append(b.Stmts, c.block(it.Block))
		default:
			b.Stmts = append(b.Stmts, c.simple(it))
			needSemi = !it.Term
		}
	}
	return b
}

// blockExpr converts a block used as an expression: when its last item is
// an expression with no ';' after it, that expression is the value.
func (c *converter) blockExpr(t *block) *ast.BlockExpr {
	b := c.block(t)
	e := &ast.BlockExpr{At: b.At, Stmts: b.Stmts, Close: b.Close}
	if n := len(t.Items); n > 0 {
		last := t.Items[n-1]
		if last.Expr != nil && last.Expr.Assign == nil && !last.Term {
			// The last item made the last statement.
			e.Value = b.Stmts[len(b.Stmts)-1].(*ast.ExprStmt).X
			e.Stmts = b.Stmts[:len(b.Stmts)-1]
		}
	}
	return e
}

// unparen drops the parentheses around the condition of if/while/unroll,
// which belong to the statement's syntax, not to the expression.
func unparen(x ast.Expr) ast.Expr {
	if p, ok := x.(*ast.Paren); ok {
		return p.X
	}
	return x
}

func (c *converter) ifStmt(t *ifStmt) *ast.IfStmt {
	s := &ast.IfStmt{At: toPos(t.Pos), Cond: unparen(c.expr(t.Cond)), Then: c.block(t.Then)}
	switch {
	case t.ElseIf != nil:
		s.Else = c.ifStmt(t.ElseIf)
	case t.Else != nil:
		s.Else = c.block(t.Else)
	}
	return s
}

func (c *converter) forStmt(t *forStmt) *ast.ForStmt {
	s := &ast.ForStmt{At: toPos(t.Pos), Var: c.varTok(t.Var)}
	lo := c.expr(t.Lo)
	if t.Hi != nil {
		s.Lo, s.Hi = lo, c.expr(t.Hi)
	} else if m, ok := lo.(*ast.MapRef); ok && m.Keys == nil {
		s.Map = m
	} else {
		c.errorf(lo.Pos(), "expected a map (@name) or a range (lo..hi) to iterate over").Hint = "write for ($kv : @map) { ... } or for ($i : 0..10) { ... }"
		s.Lo = lo
	}
	s.Body = c.block(t.Body)
	return s
}

func (c *converter) varTok(t *varTok) *ast.Var {
	return &ast.Var{At: toPos(t.Pos), Name: t.Name}
}

// simple converts the statements that need a ';' after them.
func (c *converter) simple(t *item) ast.Stmt {
	switch {
	case t.Let != nil:
		s := &ast.LetStmt{At: toPos(t.Let.Pos), Var: c.varTok(t.Let.Var)}
		if t.Let.Type != nil {
			s.Type = c.typeName(t.Let.Type)
		}
		if t.Let.Value != nil {
			s.Value = c.expr(t.Let.Value)
		}
		return s
	case t.Jump != nil:
		s := &ast.JumpStmt{At: toPos(t.Jump.Pos), Kind: t.Jump.Kind}
		if t.Jump.Value != nil {
			s.Value = c.expr(t.Jump.Value)
		}
		return s
	default:
		x := c.expr(t.Expr.X)
		if a := t.Expr.Assign; a != nil {
			c.checkAssignable(x)
			return &ast.AssignStmt{At: toPos(a.Pos), Target: x, Op: a.Op, Value: c.expr(a.Value)}
		}
		return &ast.ExprStmt{X: x}
	}
}

// checkAssignable reports targets that can never be assigned to. What may
// be assigned beyond that (a field of a map value, say) is the checker's
// business.
func (c *converter) checkAssignable(x ast.Expr) {
	switch x := x.(type) {
	case *ast.Var, *ast.MapRef, *ast.FieldAccess, *ast.Index:
		return
	case *ast.Unary:
		if x.Op == "*" {
			return
		}
	case *ast.Ident:
		c.errorf(x.At, "cannot assign to %q", x.Name).Hint = "assign to a variable ($name) or a map (@name) instead"
		return
	case *ast.Positional:
		c.errorf(x.At, "cannot assign to a positional parameter").Hint = "copy it into a variable first: $v = $1"
		return
	}
	c.errorf(x.Pos(), "cannot assign to this expression").Hint = "the left side of '=' must be a variable ($name), a map (@name or @name[key]) or a field of one"
}

func (c *converter) expr(t *expr) ast.Expr {
	cond := c.binary(t)
	if t.Tern == nil {
		return cond
	}
	return &ast.Ternary{At: toPos(t.Tern.Pos), Cond: cond, Then: c.expr(t.Tern.Then), Else: c.expr(t.Tern.Else)}
}

// binary applies precedence climbing to the flat `x (op y)*` list the
// grammar produced.
func (c *converter) binary(t *expr) ast.Expr {
	operands := make([]ast.Expr, 0, len(t.Tail)+1)
	operands = append(operands, c.unary(t.Head))
	for _, tail := range t.Tail {
		operands = append(operands, c.unary(tail.Y))
	}
	next := 0 // index of the next operator in t.Tail, and of its left operand
	var climb func(min int) ast.Expr
	climb = func(min int) ast.Expr {
		lhs := operands[next]
		for next < len(t.Tail) && ast.Precedence(t.Tail[next].Op) >= min {
			op := t.Tail[next]
			next++
			rhs := climb(ast.Precedence(op.Op) + 1)
			lhs = &ast.Binary{At: toPos(op.Pos), Op: op.Op, X: lhs, Y: rhs}
		}
		return lhs
	}
	return climb(1)
}

func (c *converter) unary(t *unaryExpr) ast.Expr {
	if t.Op != "" {
		return &ast.Unary{At: toPos(t.Pos), Op: t.Op, X: c.unary(t.X)}
	}
	x := c.primary(t.Prim)
	for _, s := range t.Suffix {
		at := toPos(s.Pos)
		switch {
		case s.Dot != "":
			arrow := s.Dot == "->"
			if s.Name[0] >= '0' && s.Name[0] <= '9' {
				if arrow {
					c.errorf(at, "expected a field name after '->'")
				} else if strings.Trim(s.Name, "0123456789") != "" || (len(s.Name) > 1 && s.Name[0] == '0') {
					c.errorf(at, "invalid tuple index %s", s.Name).Hint = "tuple elements are numbered 0, 1, 2, ..."
				}
			}
			x = &ast.FieldAccess{At: at, X: x, Name: s.Name, Arrow: arrow}
		case s.Index != nil:
			x = &ast.Index{At: at, X: x, Index: c.expr(s.Index)}
		default:
			x = &ast.Postfix{At: at, Op: s.Incr, X: x}
		}
	}
	return x
}

func (c *converter) primary(t *primary) ast.Expr {
	at := toPos(t.Pos)
	switch tok := t.Tok; {
	case tok.Type == tokInt:
		_, lit, msg, _ := scanInt(tok.Value, 0)
		if msg != "" {
			c.errorf(at, "%s", msg)
		}
		return &ast.IntLit{At: at, Raw: tok.Value, Value: lit.value, Suffix: lit.suffix}
	case tok.Type == tokString:
		_, v, msg, _ := scanString(tok.Value, 0)
		if msg != "" {
			c.errorf(at, "%s", msg)
		}
		return &ast.StrLit{At: at, Value: v}
	case tok.Type == tokVar:
		return &ast.Var{At: at, Name: tok.Value}
	case tok.Type == tokPositional:
		if tok.Value == "$#" {
			return &ast.Positional{At: at, Count: true}
		}
		n, _ := strconv.Atoi(tok.Value[1:])
		return &ast.Positional{At: at, Index: n}
	case t.Map != nil:
		m := &ast.MapRef{At: at, Name: t.Map.Name}
		for _, k := range t.Map.Keys {
			m.Keys = append(m.Keys, c.expr(k))
		}
		return m
	case t.Ident != nil:
		if t.Ident.Call == nil {
			return &ast.Ident{At: at, Name: t.Ident.Name}
		}
		call := &ast.Call{At: at, Name: t.Ident.Name}
		for _, a := range t.Ident.Call.Args {
			call.Args = append(call.Args, c.expr(a))
		}
		toks := t.Ident.Call.Tokens
		call.Close = toPos(toks[len(toks)-1].Pos)
		return call
	case t.Sizeof != nil:
		s := &ast.Sizeof{At: at}
		if t.Sizeof.Type != nil {
			s.Type = c.typeName(t.Sizeof.Type)
		} else {
			s.X = c.expr(t.Sizeof.X)
		}
		return s
	case t.Block != nil:
		return c.blockExpr(t.Block)
	case t.Typeof != nil:
		c.errorf(at, "typeof() is not supported yet").Hint =
			"macro parameters take scratch variables ($x), maps (@m) and expressions (x), not types"
		return &ast.Ident{At: at, Name: "typeof"} // the program is discarded: there is an error
	case t.Offsetof != nil:
		o := &ast.Offsetof{At: at, Field: t.Offsetof.Field}
		if t.Offsetof.Type != nil {
			o.Type = c.typeName(t.Offsetof.Type)
		} else {
			o.Type = &ast.TypeExpr{At: toPos(t.Offsetof.Named.Pos), Name: t.Offsetof.Named.Name}
		}
		return o
	default:
		return c.paren(t.Paren)
	}
}

// paren converts a cast, a parenthesised expression, a tuple or a record.
func (c *converter) paren(t *parenExpr) ast.Expr {
	at := toPos(t.Pos)
	if t.Cast != nil {
		return &ast.Cast{At: at, Type: c.typeName(t.Cast), X: c.unary(t.CastX)}
	}
	elems := []*parenElem{t.First}
	trailing := false
	for i, r := range t.Rest {
		if r.Elem == nil {
			if i == len(t.Rest)-1 {
				trailing = true
			} else {
				c.errorf(toPos(t.Rest[i+1].Pos), `unexpected ",", expected an expression`)
			}
			continue
		}
		elems = append(elems, r.Elem)
	}
	named := false
	for _, e := range elems {
		if e.Value != nil {
			named = true
		}
	}
	if !named {
		if len(elems) == 1 && !trailing {
			return &ast.Paren{At: at, X: c.expr(t.First.X)}
		}
		tup := &ast.Tuple{At: at}
		for _, e := range elems {
			tup.Elems = append(tup.Elems, c.expr(e.X))
		}
		return tup
	}
	tup := &ast.Tuple{At: at, Names: []string{}}
	for _, e := range elems {
		x := c.expr(e.X)
		if e.Value == nil {
			c.errorf(x.Pos(), "expected name = value: a record cannot mix named and unnamed elements")
			continue
		}
		id, ok := x.(*ast.Ident)
		if !ok {
			c.errorf(x.Pos(), "a record field name must be a plain name")
			continue
		}
		tup.Names = append(tup.Names, id.Name)
		tup.Elems = append(tup.Elems, c.expr(e.Value))
	}
	return tup
}

func (c *converter) typeName(t *typeName) *ast.TypeExpr {
	te := &ast.TypeExpr{At: toPos(t.Pos), Pointers: len(t.Stars)}
	switch {
	case t.Kind != "":
		te.Name = t.Kind + " " + t.Tag
	default:
		te.Name = strings.Join(t.Words, " ")
		if len(t.Words) > 1 {
			for _, w := range t.Words {
				switch w {
				case "unsigned", "signed", "char", "short", "int", "long":
				default:
					c.errorf(te.At, "invalid type %s", te.Name)
					return te
				}
			}
		}
	}
	if t.Array != "" {
		_, lit, msg, _ := scanInt(t.Array, 0)
		switch {
		case msg != "":
			c.errorf(te.At, "%s", msg)
		case lit.suffix != "" || lit.value == 0 || lit.value > 1<<20:
			c.errorf(te.At, "invalid array length %s", t.Array)
		default:
			te.ArrayLen = int(lit.value)
		}
	}
	return te
}
