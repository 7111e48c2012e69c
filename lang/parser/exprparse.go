package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// This file parses expressions, which are most of any script's tokens.
//
// participle tries a grammar's alternatives one by one, allocating a
// branch context and a struct value for each try; an expression goes
// through a dozen such choices per operand, and a 5,000-line script spent
// most of its compile time there (issue 7). So expr implements
// participle.Parseable: a direct, hand-written reading of the same grammar
// covers the common forms (operands, calls, maps, member access, indexing,
// prefix and postfix operators, binary and ternary operators, parentheses
// and tuples) and builds exactly the parse tree participle would build.
//
// Anything else (a cast, sizeof, offsetof, typeof, a block expression) and
// every syntax error are handed back to participle: the reader rewinds and
// participle parses the expression with the grammar of exprGrammar. So
// participle still decides what is an error and how it is reported; the
// reader only takes the well-formed common cases off its hands, and it must
// agree with the grammar on each of them (TestExprReaderMatchesGrammar).

// expr is an expression: exprGrammar, parsed by Parse.
type expr exprGrammar

var _ participle.Parseable = (*expr)(nil)

// Parse implements participle.Parseable: it reads an expression at the
// lexer's position, or reports participle.NextMatch when none starts there.
func (x *expr) Parse(lex *lexer.PeekingLexer) error {
	if !startsExpr(lex.Peek()) {
		return participle.NextMatch
	}
	start := lex.MakeCheckpoint()
	r := exprReader{lex: lex}
	if e := r.expr(); e != nil {
		*x = *e
		return nil
	}
	if r.err != nil {
		// An inner expression or operand failed to parse: participle
		// has already reported it, and parsing this one with the
		// grammar would only meet the same error again.
		return r.err
	}
	// A syntax error at this level: participle finds and describes it.
	lex.LoadCheckpoint(start)
	g, err := buildGrammars()
	if err != nil {
		return err
	}
	tree, err := g.expr.ParseFromLexer(lex, participle.AllowTrailing(true))
	if err != nil {
		return err
	}
	*x = expr(*tree)
	return nil
}

// startsExpr reports whether tok can start an expression: the first set of
// exprGrammar. Literals in the grammar match a token's text whatever its
// type, as participle does.
func startsExpr(tok *lexer.Token) bool {
	switch tok.Type {
	case tokInt, tokString, tokVar, tokPositional, tokIdent, tokMap, tokUnOp, tokAmbOp, tokIncDec:
		return true
	}
	switch tok.Value {
	case "(", "{", "sizeof", "offsetof", "typeof":
		return true
	}
	return false
}

// exprReader reads the common forms of expressions straight from the token
// stream. Each method returns nil when the input is anything it does not
// handle; the caller then rewinds and leaves the expression to participle.
type exprReader struct {
	lex *lexer.PeekingLexer
	err error // participle's error for an inner part, which ends the reading
}

// expr reads `unary (op unary)* ('?' expr ':' expr)?`.
func (r *exprReader) expr() *expr {
	head := r.unary()
	if head == nil {
		return nil
	}
	x := &expr{Head: head}
	for {
		op := r.lex.Peek()
		if op.Type != tokBinOp && op.Type != tokAmbOp {
			break
		}
		r.lex.Next()
		y := r.unary()
		if y == nil {
			return nil
		}
		x.Tail = append(x.Tail, &binaryTail{Pos: op.Pos, Op: op.Value, Y: y})
	}
	if q := r.lex.Peek(); q.Value == "?" {
		r.lex.Next()
		then := r.nested()
		if then == nil || !r.accept(":") {
			return nil
		}
		els := r.nested()
		if els == nil {
			return nil
		}
		x.Tern = &ternaryTail{Pos: q.Pos, Then: then, Else: els}
	}
	return x
}

// nested reads an expression inside another one. It goes through Parse, so
// that a form the reader does not handle costs participle only that inner
// expression.
func (r *exprReader) nested() *expr {
	x := new(expr)
	if err := x.Parse(r.lex); err != nil {
		if err != participle.NextMatch {
			r.err = err
		}
		return nil
	}
	return x
}

// second returns the token after the next one.
func (r *exprReader) second() *lexer.Token {
	here := r.lex.MakeCheckpoint()
	r.lex.Next()
	t := r.lex.Peek()
	r.lex.LoadCheckpoint(here)
	return t
}

// startsType reports whether tok starts a type name, which after '('
// makes a cast.
func startsType(tok *lexer.Token) bool {
	switch tok.Value {
	case "struct", "union", "enum":
		return true
	}
	return tok.Type == tokTypeWord
}

// accept consumes the next token if its text is s.
func (r *exprReader) accept(s string) bool {
	if r.lex.Peek().Value != s {
		return false
	}
	r.lex.Next()
	return true
}

// unary reads a prefix operator and its operand, or a primary expression
// and its suffixes.
func (r *exprReader) unary() *unaryExpr {
	t := r.lex.Peek()
	switch t.Type {
	case tokUnOp, tokAmbOp, tokIncDec:
		r.lex.Next()
		x := r.unary()
		if x == nil {
			return nil
		}
		return &unaryExpr{Pos: t.Pos, Op: t.Value, X: x}
	}
	prim := r.primary()
	if prim == nil {
		return nil
	}
	u := &unaryExpr{Pos: t.Pos, Prim: prim}
	for {
		s := r.lex.Peek()
		switch {
		case s.Type == tokMember:
			r.lex.Next()
			name := r.lex.Peek()
			switch name.Type {
			case tokIdent, tokKeyword, tokTypeWord, tokInt:
			default:
				return nil
			}
			r.lex.Next()
			u.Suffix = append(u.Suffix, &suffix{Pos: s.Pos, Dot: s.Value, Name: name.Value})
		case s.Value == "[":
			r.lex.Next()
			index := r.nested()
			if index == nil || !r.accept("]") {
				return nil
			}
			u.Suffix = append(u.Suffix, &suffix{Pos: s.Pos, Index: index})
		case s.Type == tokIncDec:
			r.lex.Next()
			u.Suffix = append(u.Suffix, &suffix{Pos: s.Pos, Incr: s.Value})
		default:
			return u
		}
	}
}

// primary reads an operand: a literal, variable, name or call, map
// reference, or a parenthesised expression, tuple or record.
func (r *exprReader) primary() *primary {
	t := r.lex.Peek()
	switch t.Type {
	case tokInt, tokString, tokVar, tokPositional:
		r.lex.Next()
		return &primary{Pos: t.Pos, Tok: *t}
	case tokIdent:
		r.lex.Next()
		id := &identExpr{Pos: t.Pos, Name: t.Value}
		if r.lex.Peek().Value == "(" {
			if id.Call = r.callArgs(); id.Call == nil {
				return nil
			}
		}
		return &primary{Pos: t.Pos, Ident: id}
	case tokMap:
		r.lex.Next()
		m := &mapExpr{Pos: t.Pos, Name: t.Value}
		if r.accept("[") {
			if m.Keys = r.list("]"); m.Keys == nil {
				return nil
			}
		}
		return &primary{Pos: t.Pos, Map: m}
	}
	switch t.Value {
	case "(":
		if !startsType(r.second()) {
			if p := r.paren(); p != nil {
				return &primary{Pos: t.Pos, Paren: p}
			}
			return nil
		}
	case "sizeof", "offsetof", "typeof", "{":
	default:
		return nil // not an operand
	}
	// A cast, sizeof, offsetof, typeof or a block expression: rare
	// enough to leave to participle, operand by operand.
	g, err := buildGrammars()
	if err == nil {
		var p *primary
		if p, err = g.primary.ParseFromLexer(r.lex, participle.AllowTrailing(true)); err == nil {
			return p
		}
	}
	r.err = err
	return nil
}

// list reads `expr (',' expr)*` and the closing token.
func (r *exprReader) list(closing string) []*expr {
	var xs []*expr
	for {
		x := r.nested()
		if x == nil {
			return nil
		}
		xs = append(xs, x)
		if r.accept(closing) {
			return xs
		}
		if !r.accept(",") {
			return nil
		}
	}
}

// callArgs reads `'(' (expr (',' expr)*)? ')'`.
func (r *exprReader) callArgs() *callArgs {
	start := r.lex.RawCursor()
	r.lex.Next() // '('
	c := &callArgs{}
	if !r.accept(")") {
		if c.Args = r.list(")"); c.Args == nil {
			return nil
		}
	}
	c.Tokens = r.lex.Range(start, r.lex.RawCursor())
	return c
}

// paren reads a parenthesised expression, tuple or record (not a cast).
func (r *exprReader) paren() *parenExpr {
	open := r.lex.Next()
	p := &parenExpr{Pos: open.Pos}
	if p.First = r.parenElem(); p.First == nil {
		return nil
	}
	for {
		comma := r.lex.Peek()
		if comma.Value != "," {
			break
		}
		r.lex.Next()
		c := &commaElem{Pos: comma.Pos}
		if startsExpr(r.lex.Peek()) {
			if c.Elem = r.parenElem(); c.Elem == nil {
				return nil
			}
		}
		p.Rest = append(p.Rest, c)
	}
	if !r.accept(")") {
		return nil
	}
	return p
}

// parenElem reads a tuple element or a record field `name = value`.
func (r *exprReader) parenElem() *parenElem {
	e := &parenElem{X: r.nested()}
	if e.X == nil {
		return nil
	}
	if r.accept("=") {
		if e.Value = r.nested(); e.Value == nil {
			return nil
		}
	}
	return e
}
