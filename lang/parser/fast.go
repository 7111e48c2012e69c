package parser

import "github.com/alecthomas/participle/v2/lexer"

// This file is a recursive-descent parser for the grammar of grammar.go.
// It builds the parse tree that participle builds from the struct tags,
// field for field (positions and token ranges included), for every script
// without a syntax error; at the first token that does not fit it gives
// up, and Parse runs participle on the same tokens, whose errors errors.go
// explains. Participle needs 2 to 4 ms to build its parser (it reads the
// tags through reflection, once per process), which was most of gotrace's
// start-up for a small script; a script with a syntax error still pays it.
//
// The grammar is parsed with UseLookahead(0), and every production starts
// with a token (none can match nothing), so participle's choices are
// decided by one token: an alternative, or one more round of a repetition,
// is taken when its first token fits, and an alternative that fails after
// that is an error, never a reason to try the next one. Each function
// below follows its struct's tag in that way, testing alternatives in the
// order of the tag, and tokens the way participle matches them: a quoted
// literal ('{', 'if') by the token's text whatever its type, a token type
// (Ident, Int) by type. TestFastParserAgrees checks that the trees are the
// same and that both accept the same scripts.

// fastParser is the state of one parse: the tokens of a scan, which end
// with tokEOF, and the index of the next one.
type fastParser struct {
	toks []lexer.Token
	i    int
}

// noFit is the panic value with which fastParser gives up.
type noFit struct{}

// parseFast parses the tokens of a script. ok is false when they do not
// form a program (or the lexer reported an error): the caller then parses
// with participle, for its error.
func parseFast(res *scanResult) (prog *program, ok bool) {
	if res.err != nil {
		return nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			if _, giveUp := r.(noFit); !giveUp {
				panic(r)
			}
			prog, ok = nil, false
		}
	}()
	p := &fastParser{toks: res.toks}
	return p.program(), true
}

func (p *fastParser) peek() lexer.Token { return p.toks[p.i] }

// is reports whether the next token's text is s (a quoted literal of the
// grammar).
func (p *fastParser) is(s string) bool { return p.toks[p.i].Value == s }

// accept consumes the next token if its text is s, and says whether it did
// (an optional literal of the grammar: ';'?).
func (p *fastParser) accept(s string) bool {
	if !p.is(s) {
		return false
	}
	p.next()
	return true
}

// isType reports whether the next token has one of the types.
func (p *fastParser) isType(types ...lexer.TokenType) bool {
	t := p.toks[p.i].Type
	for _, want := range types {
		if t == want {
			return true
		}
	}
	return false
}

// next consumes the next token.
func (p *fastParser) next() lexer.Token {
	t := p.toks[p.i]
	p.i++
	return t
}

// expect consumes the literal s, which the grammar requires here.
func (p *fastParser) expect(s string) {
	if !p.is(s) {
		panic(noFit{})
	}
	p.i++
}

// expectType consumes a token of one of the types, which the grammar
// requires here, and returns its text.
func (p *fastParser) expectType(types ...lexer.TokenType) string {
	if !p.isType(types...) {
		panic(noFit{})
	}
	return p.next().Value
}

// must is the result of a production the grammar requires here.
func must[T any](v *T, ok bool) *T {
	if !ok {
		panic(noFit{})
	}
	return v
}

// program: Items @@*, then the end of the input.
func (p *fastParser) program() *program {
	prog := &program{}
	for {
		it, ok := p.topItem()
		if !ok {
			break
		}
		prog.Items = append(prog.Items, it)
	}
	if !p.isType(tokEOF) {
		panic(noFit{})
	}
	return prog
}

func (p *fastParser) topItem() (*topItem, bool) {
	switch {
	case p.isType(tokAttach):
		return &topItem{Probe: p.probe()}, true
	case p.isType(tokInclude):
		d := &includeDecl{Pos: p.peek().Pos}
		d.Path = p.next().Value
		return &topItem{Include: d}, true
	case p.isType(tokDefine):
		d := &defineDecl{Pos: p.peek().Pos}
		d.Name = p.next().Value
		d.Value = p.expectType(tokDefineValue)
		return &topItem{Define: d}, true
	case p.is("config"):
		return &topItem{Config: p.configDecl()}, true
	case p.is("struct"), p.is("union"), p.is("enum"):
		return &topItem{Type: p.typeDecl()}, true
	case p.is("macro"):
		return &topItem{Macro: p.macroDecl()}, true
	case p.is("fn"):
		return &topItem{Fn: p.fnDecl()}, true
	case p.is("import"):
		d := &importDecl{Pos: p.peek().Pos}
		p.next()
		d.Path = p.expectType(tokString)
		p.accept(";")
		return &topItem{Import: d}, true
	case p.is(";"):
		p.next()
		return &topItem{Semi: true}, true
	}
	return nil, false
}

// configDecl: 'config' '=' '{' @@* '}' ';'?
func (p *fastParser) configDecl() *configDecl {
	d := &configDecl{Pos: p.peek().Pos}
	p.next()
	p.expect("=")
	p.expect("{")
	for p.isType(tokIdent) {
		start := p.i
		e := &configEntry{Pos: p.peek().Pos}
		e.Key = p.next().Value
		p.expect("=")
		e.Value = must(p.expr())
		if p.accept(";") {
			e.Semi = true
		}
		e.Tokens = p.toks[start:p.i]
		d.Entries = append(d.Entries, e)
	}
	p.expect("}")
	p.accept(";")
	return d
}

// typeDecl: @('struct' | 'union' | 'enum') @Ident? '{' @RawBody '}' ';'?
func (p *fastParser) typeDecl() *typeDecl {
	d := &typeDecl{Pos: p.peek().Pos}
	d.Kind = p.next().Value
	if p.isType(tokIdent) {
		d.Name = p.next().Value
	}
	p.expect("{")
	d.Body = p.expectType(tokRawBody)
	p.expect("}")
	p.accept(";")
	return d
}

// macroDecl: 'macro' @Ident '(' ( @(Var | Map | Ident) ( ',' @(Var | Map | Ident) )* )? ')' @@
func (p *fastParser) macroDecl() *macroDecl {
	d := &macroDecl{Pos: p.peek().Pos}
	p.next()
	d.Name = p.expectType(tokIdent)
	p.expect("(")
	if p.isType(tokVar, tokMap, tokIdent) {
		d.Params = append(d.Params, p.next().Value)
		for p.is(",") {
			p.next()
			d.Params = append(d.Params, p.expectType(tokVar, tokMap, tokIdent))
		}
	}
	p.expect(")")
	d.Body = must(p.block())
	return d
}

// fnDecl: 'fn' @Ident '(' ( @@ ( ',' @@ )* )? ')' ( ':' @@ )? @@
func (p *fastParser) fnDecl() *fnDecl {
	d := &fnDecl{Pos: p.peek().Pos}
	p.next()
	d.Name = p.expectType(tokIdent)
	p.expect("(")
	if prm, ok := p.fnParam(); ok {
		d.Params = append(d.Params, prm)
		for p.is(",") {
			p.next()
			d.Params = append(d.Params, must(p.fnParam()))
		}
	}
	p.expect(")")
	if p.accept(":") {
		d.Result = must(p.typeName())
	}
	d.Body = must(p.block())
	return d
}

// fnParam: @@ ':' @@
func (p *fastParser) fnParam() (*fnParam, bool) {
	v, ok := p.varTok()
	if !ok {
		return nil, false
	}
	prm := &fnParam{Var: v}
	p.expect(":")
	prm.Type = must(p.typeName())
	return prm, true
}

// probe: @@ ( ',' @@ )* ( PredOpen @@ PredClose )? @@
func (p *fastParser) probe() *probe {
	pr := &probe{Pos: p.peek().Pos}
	pr.Attach = append(pr.Attach, p.attachTok())
	for p.is(",") {
		p.next()
		pr.Attach = append(pr.Attach, p.attachTok())
	}
	if p.isType(tokPredOpen) {
		p.next()
		pr.Pred = must(p.expr())
		p.expectType(tokPredClose)
	}
	pr.Body = must(p.block())
	return pr
}

func (p *fastParser) attachTok() *attachTok {
	a := &attachTok{Pos: p.peek().Pos}
	a.Raw = p.expectType(tokAttach)
	return a
}

// block: '{' @@* '}', with its tokens.
func (p *fastParser) block() (*block, bool) {
	if !p.is("{") {
		return nil, false
	}
	start := p.i
	b := &block{Pos: p.next().Pos}
	for {
		it, ok := p.item()
		if !ok {
			break
		}
		b.Items = append(b.Items, it)
	}
	p.expect("}")
	b.Tokens = p.toks[start:p.i]
	return b, true
}

// item: @@ | ( @@ | @@ | @@ ) @';'? | @@ | @@ | @@ | @@ | @';', with its
// tokens.
func (p *fastParser) item() (*item, bool) {
	start := p.i
	it := &item{}
	switch {
	case p.is("{"):
		it.Block, _ = p.block()
	case p.startsExpr():
		it.Expr = &exprStmt{X: must(p.expr())}
		if p.isType(tokAssign) {
			a := &assignTail{Pos: p.peek().Pos}
			a.Op = p.next().Value
			a.Value = must(p.expr())
			it.Expr.Assign = a
		}
		p.term(it)
	case p.is("let"):
		it.Let = p.letStmt()
		p.term(it)
	case p.is("break"), p.is("continue"), p.is("return"):
		it.Jump = p.jumpStmt()
		p.term(it)
	case p.is("if"):
		it.If = p.ifStmt()
	case p.is("unroll"):
		u := &unrollStmt{Pos: p.next().Pos}
		u.Count = must(p.expr())
		u.Body = must(p.block())
		it.Unroll = u
	case p.is("while"):
		w := &whileStmt{Pos: p.next().Pos}
		w.Cond = must(p.expr())
		w.Body = must(p.block())
		it.While = w
	case p.is("for"):
		it.For = p.forStmt()
	case p.is(";"):
		p.next()
		it.Semi = true
	default:
		return nil, false
	}
	it.Tokens = p.toks[start:p.i]
	return it, true
}

// term is the @';'? after a simple statement.
func (p *fastParser) term(it *item) {
	if p.accept(";") {
		it.Term = true
	}
}

// letStmt: 'let' @@ ( ':' @@ )? ( '=' @@ )?
func (p *fastParser) letStmt() *letStmt {
	l := &letStmt{Pos: p.next().Pos}
	l.Var = must(p.varTok())
	if p.accept(":") {
		l.Type = must(p.typeName())
	}
	if p.accept("=") {
		l.Value = must(p.expr())
	}
	return l
}

// jumpStmt: @('break' | 'continue') | @'return' @@?
func (p *fastParser) jumpStmt() *jumpStmt {
	j := &jumpStmt{Pos: p.peek().Pos}
	j.Kind = p.next().Value
	if j.Kind == "return" && p.startsExpr() {
		j.Value = must(p.expr())
	}
	return j
}

// ifStmt: 'if' @@ @@ ( 'else' ( @@ | @@ ) )?
func (p *fastParser) ifStmt() *ifStmt {
	s := &ifStmt{Pos: p.next().Pos}
	s.Cond = must(p.expr())
	s.Then = must(p.block())
	if p.accept("else") {
		switch {
		case p.is("if"):
			s.ElseIf = p.ifStmt()
		default:
			s.Else = must(p.block())
		}
	}
	return s
}

// forStmt: 'for' '(' @@ ':' @@ ( '..' @@ )? ')' @@
func (p *fastParser) forStmt() *forStmt {
	f := &forStmt{Pos: p.next().Pos}
	p.expect("(")
	f.Var = must(p.varTok())
	p.expect(":")
	f.Lo = must(p.expr())
	if p.accept("..") {
		f.Hi = must(p.expr())
	}
	p.expect(")")
	f.Body = must(p.block())
	return f
}

func (p *fastParser) varTok() (*varTok, bool) {
	if !p.isType(tokVar) {
		return nil, false
	}
	v := &varTok{Pos: p.peek().Pos}
	v.Name = p.next().Value
	return v, true
}

// startsExpr reports whether the next token can start an expression: a
// prefix operator, or the first token of an alternative of primary.
func (p *fastParser) startsExpr() bool {
	return p.isType(tokUnOp, tokAmbOp, tokIncDec) || p.startsPrimary()
}

func (p *fastParser) startsPrimary() bool {
	return p.isType(tokInt, tokString, tokVar, tokPositional, tokIdent, tokMap) ||
		p.is("(") || p.is("sizeof") || p.is("offsetof") || p.is("typeof") || p.is("{")
}

// expr: @@ @@* @@?
func (p *fastParser) expr() (*expr, bool) {
	head, ok := p.unaryExpr()
	if !ok {
		return nil, false
	}
	x := &expr{Head: head}
	for p.isType(tokBinOp, tokAmbOp) {
		b := &binaryTail{Pos: p.peek().Pos}
		b.Op = p.next().Value
		b.Y = must(p.unaryExpr())
		x.Tail = append(x.Tail, b)
	}
	if p.is("?") {
		t := &ternaryTail{Pos: p.next().Pos}
		t.Then = must(p.expr())
		p.expect(":")
		t.Else = must(p.expr())
		x.Tern = t
	}
	return x, true
}

// unaryExpr: ( @(UnOp | AmbOp | IncDec) @@ ) | @@ @@*
func (p *fastParser) unaryExpr() (*unaryExpr, bool) {
	u := &unaryExpr{Pos: p.peek().Pos}
	if p.isType(tokUnOp, tokAmbOp, tokIncDec) {
		u.Op = p.next().Value
		u.X = must(p.unaryExpr())
		return u, true
	}
	prim, ok := p.primary()
	if !ok {
		return nil, false
	}
	u.Prim = prim
	for {
		s, ok := p.suffix()
		if !ok {
			break
		}
		u.Suffix = append(u.Suffix, s)
	}
	return u, true
}

// suffix: ( @Member @(Ident | Keyword | TypeWord | Int) ) | '[' @@ ']' | @IncDec
func (p *fastParser) suffix() (*suffix, bool) {
	s := &suffix{Pos: p.peek().Pos}
	switch {
	case p.isType(tokMember):
		s.Dot = p.next().Value
		s.Name = p.expectType(tokIdent, tokKeyword, tokTypeWord, tokInt)
	case p.is("["):
		p.next()
		s.Index = must(p.expr())
		p.expect("]")
	case p.isType(tokIncDec):
		s.Incr = p.next().Value
	default:
		return nil, false
	}
	return s, true
}

// primary: @(Int | String | Var | Positional) | @@ | @@ | @@ | @@ | @@ | @@ | @@
func (p *fastParser) primary() (*primary, bool) {
	pr := &primary{Pos: p.peek().Pos}
	switch {
	case p.isType(tokInt, tokString, tokVar, tokPositional):
		pr.Tok = p.next()
	case p.isType(tokIdent):
		id := &identExpr{Pos: p.peek().Pos}
		id.Name = p.next().Value
		if p.is("(") {
			id.Call = p.callArgs()
		}
		pr.Ident = id
	case p.isType(tokMap):
		m := &mapExpr{Pos: p.peek().Pos}
		m.Name = p.next().Value
		if p.accept("[") {
			m.Keys = append(m.Keys, must(p.expr()))
			for p.is(",") {
				p.next()
				m.Keys = append(m.Keys, must(p.expr()))
			}
			p.expect("]")
		}
		pr.Map = m
	case p.is("("):
		pr.Paren = p.parenExpr()
	case p.is("sizeof"):
		s := &sizeofExpr{Pos: p.next().Pos}
		s.Type, s.X = p.typeOrExpr()
		pr.Sizeof = s
	case p.is("offsetof"):
		pr.Offsetof = p.offsetofExpr()
	case p.is("typeof"):
		t := &typeofExpr{Pos: p.next().Pos}
		t.Type, t.X = p.typeOrExpr()
		pr.Typeof = t
	case p.is("{"):
		pr.Block, _ = p.block()
	default:
		return nil, false
	}
	return pr, true
}

// callArgs: '(' ( @@ ( ',' @@ )* )? ')', with its tokens.
func (p *fastParser) callArgs() *callArgs {
	start := p.i
	c := &callArgs{}
	p.next()
	if x, ok := p.expr(); ok {
		c.Args = append(c.Args, x)
		for p.is(",") {
			p.next()
			c.Args = append(c.Args, must(p.expr()))
		}
	}
	p.expect(")")
	c.Tokens = p.toks[start:p.i]
	return c
}

// typeOrExpr is sizeof's and typeof's '(' ( @@ | @@ ) ')'.
func (p *fastParser) typeOrExpr() (*typeName, *expr) {
	p.expect("(")
	var t *typeName
	var x *expr
	if tn, ok := p.typeName(); ok {
		t = tn
	} else {
		x = must(p.expr())
	}
	p.expect(")")
	return t, x
}

// offsetofExpr: 'offsetof' '(' ( @@ | @@ ) ',' @(Ident | Keyword | TypeWord) ( '.' @(Ident | Keyword | TypeWord) )* ')'
func (p *fastParser) offsetofExpr() *offsetofExpr {
	o := &offsetofExpr{Pos: p.next().Pos}
	p.expect("(")
	if tn, ok := p.typeName(); ok {
		o.Type = tn
	} else {
		if !p.isType(tokIdent) {
			panic(noFit{})
		}
		n := &nameTok{Pos: p.peek().Pos}
		n.Name = p.next().Value
		o.Named = n
	}
	p.expect(",")
	o.Field = append(o.Field, p.expectType(tokIdent, tokKeyword, tokTypeWord))
	for p.is(".") {
		p.next()
		o.Field = append(o.Field, p.expectType(tokIdent, tokKeyword, tokTypeWord))
	}
	p.expect(")")
	return o
}

// parenExpr: '(' ( @@ ')' @@ | @@ @@* ')' )
func (p *fastParser) parenExpr() *parenExpr {
	pe := &parenExpr{Pos: p.next().Pos}
	if tn, ok := p.typeName(); ok {
		pe.Cast = tn
		p.expect(")")
		pe.CastX = must(p.unaryExpr())
		return pe
	}
	pe.First = must(p.parenElem())
	for p.is(",") {
		c := &commaElem{Pos: p.next().Pos}
		if e, ok := p.parenElem(); ok {
			c.Elem = e
		}
		pe.Rest = append(pe.Rest, c)
	}
	p.expect(")")
	return pe
}

// parenElem: @@ ( '=' @@ )?
func (p *fastParser) parenElem() (*parenElem, bool) {
	x, ok := p.expr()
	if !ok {
		return nil, false
	}
	e := &parenElem{X: x}
	if p.accept("=") {
		e.Value = must(p.expr())
	}
	return e, true
}

// typeName: ( @('struct' | 'union' | 'enum') @Ident | @TypeWord+ ) @'*'* ( '[' @Int ']' )?
func (p *fastParser) typeName() (*typeName, bool) {
	t := &typeName{Pos: p.peek().Pos}
	switch {
	case p.is("struct"), p.is("union"), p.is("enum"):
		t.Kind = p.next().Value
		t.Tag = p.expectType(tokIdent)
	case p.isType(tokTypeWord):
		for p.isType(tokTypeWord) {
			t.Words = append(t.Words, p.next().Value)
		}
	default:
		return nil, false
	}
	for p.is("*") {
		t.Stars = append(t.Stars, p.next().Value)
	}
	if p.accept("[") {
		t.Array = p.expectType(tokInt)
		p.expect("]")
	}
	return t, true
}
