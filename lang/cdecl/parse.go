package cdecl

import (
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
)

// maxNesting bounds nested definitions, declarators and expressions, so that
// a pathological body cannot exhaust the stack.
const maxNesting = 100

// cparser reads one definition's body.
type cparser struct {
	c     *converter
	src   *body
	toks  []token
	i     int
	depth int
	cur   *record // the record whose body is being parsed
	// defs receives every named struct, union and enum definition, in
	// the order their tags appear.
	defs *[]any
}

func (p *cparser) peek() token { return p.toks[p.i] }

func (p *cparser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// is reports whether the next token is the punctuator s.
func (p *cparser) is(s string) bool {
	t := p.toks[p.i]
	return t.kind == tokPunct && t.text == s
}

// accept consumes the punctuator s if it comes next.
func (p *cparser) accept(s string) bool {
	if p.is(s) {
		p.i++
		return true
	}
	return false
}

func (p *cparser) pos(t token) ast.Pos { return p.src.pos(t.off) }

// after is the position right after the previous token: where a missing
// ';' belongs.
func (p *cparser) after() ast.Pos {
	if p.i == 0 {
		return p.pos(p.peek())
	}
	return p.src.pos(p.toks[p.i-1].end)
}

func (p *cparser) errorf(at ast.Pos, format string, args ...any) {
	p.c.errorf(at, format, args...)
}

// atEnd reports whether the current record or enum body ends here: at its
// '}' when it is nested (closing), else at the end of the text.
func (p *cparser) atEnd(closing bool) bool {
	if p.peek().kind == tokEOF {
		return true
	}
	return closing && p.is("}")
}

// nest enters one level of nesting, reporting when there are too many.
func (p *cparser) nest() bool {
	if p.depth >= maxNesting {
		p.errorf(p.pos(p.peek()), "definition is nested too deeply")
		p.i = len(p.toks) - 1
		return false
	}
	p.depth++
	return true
}

// recordBody parses the members of r up to its '}' (closing) or the end of
// the text.
func (p *cparser) recordBody(r *record, closing bool) {
	outer := p.cur
	p.cur = r
	defer func() { p.cur = outer }()
	for !p.atEnd(closing) {
		if p.is("}") {
			p.errorf(p.pos(p.peek()), "unexpected '}'")
			p.next()
			continue
		}
		if !p.member(r) {
			p.skipMember(closing)
		}
	}
}

// skipMember skips to the end of a bad member declaration: past the next
// ';' outside brackets, or up to the '}' that closes the record.
func (p *cparser) skipMember(closing bool) {
	depth := 0
	for {
		t := p.peek()
		if t.kind == tokEOF {
			return
		}
		if t.kind == tokPunct {
			switch t.text {
			case "{", "(", "[":
				depth++
			case ")", "]":
				depth = max(depth-1, 0)
			case "}":
				if depth == 0 {
					if closing {
						return
					}
				} else {
					depth--
				}
			case ";":
				if depth == 0 {
					p.next()
					return
				}
			}
		}
		p.next()
	}
}

// member parses one member declaration into r. It reports false after a
// syntax error, which it has reported.
func (p *cparser) member(r *record) bool {
	if p.accept(";") {
		return true // an empty declaration
	}
	s, ok := p.specifiers()
	if !ok {
		return false
	}
	m := &member{spec: s}
	r.members = append(r.members, m)
	if p.accept(";") {
		return true
	}
	if !p.declarators(m) {
		m.bad = true
		return false
	}
	return true
}

// declarators parses the declarators of m and the ';' after them.
func (p *cparser) declarators(m *member) bool {
	for {
		d := &declarator{}
		if p.is(":") {
			d.at = p.pos(p.peek())
		} else if !p.declarator(d) {
			return false
		}
		if !p.attributes(&d.attrs) {
			return false
		}
		if colon := p.peek(); p.accept(":") {
			d.bits = p.exprUntil(func(t token) bool {
				return t.kind == tokPunct && (t.text == "," || t.text == ";" || t.text == "}") ||
					t.kind == tokIdent && isAttribute(t.text)
			})
			if len(d.bits.toks) == 0 {
				p.errorf(p.src.pos(colon.end), "expected bitfield width after ':'")
				return false
			}
			if !p.attributes(&d.attrs) {
				return false
			}
		}
		m.decls = append(m.decls, d)
		if p.accept(",") {
			continue
		}
		if p.accept(";") {
			return true
		}
		what := "member " + d.name
		if d.name == "" {
			what = "bitfield"
		}
		p.errorf(p.after(), "expected ';' after %s", what)
		return false
	}
}

// specifiers parses the type specifiers, qualifiers and attributes that
// start a member declaration.
func (p *cparser) specifiers() (*spec, bool) {
	s := &spec{at: p.pos(p.peek())}
	var words []string
	var named token // the typedef name or struct/union/enum keyword, once seen
	for {
		t := p.peek()
		if t.kind != tokIdent {
			break
		}
		w := t.text
		switch {
		case isQualifier(w):
			p.next()
			continue
		case isAttribute(w):
			if !p.attributes(&s.attrs) {
				return nil, false
			}
			continue
		case isStorageClass(w):
			p.errorf(p.pos(t), "%s is not allowed in a member declaration", w)
			return nil, false
		case w == "sizeof":
			p.errorf(p.pos(t), "expected a type, found sizeof")
			return nil, false
		}
		typeWord := isBaseWord(w) || w == "struct" || w == "union" || w == "enum"
		if !typeWord && (named.kind != tokEOF || len(words) > 0) {
			break // the member's name
		}
		if named.kind != tokEOF || (len(words) > 0 && !isBaseWord(w)) {
			first := named.text
			if first == "" {
				first = strings.Join(words, " ")
			} else if first == "struct" || first == "union" || first == "enum" {
				first = s.name
			}
			p.errorf(p.pos(t), "unexpected %s after type %s", w, first)
			return nil, false
		}
		if isBaseWord(w) {
			if len(words) == 0 {
				s.at = p.pos(t)
			}
			words = append(words, w)
			p.next()
			continue
		}
		named = t
		s.at = p.pos(t)
		if !p.tagged(s) {
			return nil, false
		}
	}
	switch {
	case len(words) > 0:
		b, err := parseBase(words)
		if err != nil {
			p.errorf(s.at, "%v", err)
			return nil, false
		}
		s.kind, s.name, s.base = specBase, b.name, b
	case named.kind == tokEOF:
		t := p.peek()
		p.errorf(p.pos(t), "expected a member declaration, found %s", t.describe())
		return nil, false
	}
	return s, true
}

// tagged parses the type at the current token, a typedef name, a struct,
// union or enum reference, or a struct, union or enum definition, into s.
func (p *cparser) tagged(s *spec) bool {
	t := p.next()
	if t.text != "struct" && t.text != "union" && t.text != "enum" {
		s.kind, s.name = specName, t.text
		return true
	}
	kind := t.text
	var a attrs
	if !p.attributes(&a) {
		return false
	}
	tag := ""
	if n := p.peek(); n.kind == tokIdent && !isKeyword(n.text) {
		tag = n.text
		p.next()
	}
	if !p.is("{") {
		if tag == "" {
			p.errorf(p.after(), "expected %s name or '{' after %s", kind, kind)
			return false
		}
		s.kind, s.name = specTag, kind+" "+tag
		return true
	}
	open := p.next()
	if !p.nest() {
		return false
	}
	if kind == "enum" {
		e := &enumDef{tag: tag, at: p.pos(t)}
		if tag != "" {
			*p.defs = append(*p.defs, e)
		}
		p.enumBody(e, true)
		s.kind, s.enum = specEnum, e
		p.cur.nested = append(p.cur.nested, e)
	} else {
		r := &record{kind: kind, tag: tag, at: p.pos(t), attrs: a}
		if tag != "" {
			*p.defs = append(*p.defs, r)
		}
		p.cur.nested = append(p.cur.nested, r)
		p.recordBody(r, true)
		s.kind, s.rec = specRecord, r
	}
	s.name = tagName(kind, tag)
	p.depth--
	if !p.accept("}") {
		p.errorf(p.pos(open), "unclosed '{'")
		return false
	}
	if s.rec != nil {
		return p.attributes(&s.rec.attrs)
	}
	return true
}

// tagName is how messages name a struct, union or enum.
func tagName(kind, tag string) string {
	if tag == "" {
		return kind + " (anonymous)"
	}
	return kind + " " + tag
}

// declarator parses a member's declarator: pointers, the name (or a
// parenthesized declarator), then array and function suffixes.
func (p *cparser) declarator(d *declarator) bool {
	if !p.nest() {
		return false
	}
	defer func() { p.depth-- }()
	var ptrs []op
	for p.is("*") {
		p.next()
		ptrs = append(ptrs, op{kind: opPointer})
		for t := p.peek(); t.kind == tokIdent && (isQualifier(t.text) || isAttribute(t.text)); t = p.peek() {
			var ignored attrs
			if !p.attributes(&ignored) {
				return false
			}
			if isQualifier(t.text) {
				p.next()
			}
		}
	}
	var inner []op
	switch t := p.peek(); {
	case p.is("("):
		p.next()
		sub := &declarator{}
		if !p.declarator(sub) {
			return false
		}
		if !p.accept(")") {
			p.errorf(p.pos(p.peek()), "expected ')', found %s", p.peek().describe())
			return false
		}
		d.name, d.at, inner = sub.name, sub.at, sub.ops
	case t.kind == tokIdent && !isKeyword(t.text):
		p.next()
		d.name, d.at = t.text, p.pos(t)
	default:
		p.errorf(p.pos(t), "expected member name, found %s", t.describe())
		return false
	}
	var suffixes []op
	for {
		switch {
		case p.accept("["):
			o := op{kind: opArray}
			e := p.exprUntil(func(t token) bool { return t.kind == tokPunct && t.text == "]" })
			if len(e.toks) > 0 {
				o.size = e
			}
			if !p.accept("]") {
				p.errorf(p.pos(p.peek()), "expected ']', found %s", p.peek().describe())
				return false
			}
			suffixes = append(suffixes, o)
			continue
		case p.accept("("):
			e := p.exprUntil(func(t token) bool { return t.kind == tokPunct && t.text == ")" })
			if !p.accept(")") {
				p.errorf(p.pos(p.peek()), "expected ')', found %s", p.peek().describe())
				return false
			}
			parts := make([]string, len(e.toks))
			for i, t := range e.toks {
				parts[i] = t.text
			}
			text := strings.ReplaceAll(strings.Join(parts, " "), " ,", ",")
			suffixes = append(suffixes, op{kind: opFunc, text: text})
			continue
		}
		break
	}
	d.ops = ptrs
	for i := len(suffixes) - 1; i >= 0; i-- {
		d.ops = append(d.ops, suffixes[i])
	}
	d.ops = append(d.ops, inner...)
	return true
}

// exprUntil collects the tokens up to the first one, outside brackets,
// that stop accepts, or up to a closing bracket it did not see opened.
func (p *cparser) exprUntil(stop func(token) bool) *expr {
	e := &expr{src: p.src}
	var open []string // the brackets to close, innermost last
	for {
		t := p.peek()
		if t.kind == tokEOF || len(open) == 0 && stop(t) {
			return e
		}
		if t.kind == tokPunct {
			switch t.text {
			case "(":
				open = append(open, ")")
			case "[":
				open = append(open, "]")
			case "{":
				open = append(open, "}")
			case ")", "]", "}":
				if len(open) == 0 || open[len(open)-1] != t.text {
					return e
				}
				open = open[:len(open)-1]
			}
		}
		e.toks = append(e.toks, p.next())
	}
}

// attributes parses any __attribute__((...)) lists at the current token
// into a, keeping packed and aligned and ignoring the rest. It reports false
// after a syntax error, which it has reported.
func (p *cparser) attributes(a *attrs) bool {
	for t := p.peek(); t.kind == tokIdent && isAttribute(t.text); t = p.peek() {
		p.next()
		open := p.peek()
		if !p.accept("(") || !p.accept("(") {
			p.errorf(p.pos(open), "expected '((' after %s", t.text)
			return false
		}
		for !p.is(")") && p.peek().kind != tokEOF {
			n := p.peek()
			if n.kind != tokIdent {
				p.errorf(p.pos(n), "expected attribute name, found %s", n.describe())
				p.exprUntil(func(token) bool { return false })
				break
			}
			p.next()
			var args *expr
			if p.accept("(") {
				args = p.exprUntil(func(t token) bool { return t.kind == tokPunct && t.text == ")" })
				p.accept(")")
			}
			switch strings.Trim(n.text, "_") {
			case "packed":
				a.packed = true
			case "aligned":
				var al alignAttr
				if args != nil && len(args.toks) > 0 {
					al.n = args
				}
				a.align = append(a.align, al)
			}
			if !p.accept(",") {
				break
			}
		}
		if !p.accept(")") || !p.accept(")") {
			p.errorf(p.pos(p.peek()), "expected '))' to close %s", t.text)
			return false
		}
	}
	return true
}

// enumBody parses the enumerators of e up to its '}' (closing) or the end
// of the text.
func (p *cparser) enumBody(e *enumDef, closing bool) {
	for !p.atEnd(closing) {
		t := p.peek()
		if t.kind != tokIdent || isKeyword(t.text) {
			p.errorf(p.pos(t), "expected enumerator name, found %s", t.describe())
			p.skipEnumerator(closing)
			continue
		}
		p.next()
		c := &enumConst{name: t.text, at: p.pos(t)}
		var ignored attrs
		if !p.attributes(&ignored) {
			p.skipEnumerator(closing)
			continue
		}
		if eq := p.peek(); p.accept("=") {
			c.value = p.exprUntil(func(t token) bool { return t.kind == tokPunct && (t.text == "," || t.text == "}") })
			if len(c.value.toks) == 0 {
				p.errorf(p.src.pos(eq.end), "expected a value after '='")
				c.value = nil
			}
		}
		e.consts = append(e.consts, c)
		if p.accept(",") || p.atEnd(closing) {
			continue
		}
		p.errorf(p.after(), "expected ',' or '}' after enumerator %s", c.name)
		p.skipEnumerator(closing)
	}
}

// skipEnumerator skips past the next ',' outside brackets, or up to the end
// of the enum, always moving on by at least one token.
func (p *cparser) skipEnumerator(closing bool) {
	start := p.i
	p.exprUntil(func(t token) bool { return t.kind == tokPunct && (t.text == "," || t.text == "}") })
	if !p.accept(",") && p.i == start && !p.atEnd(closing) {
		p.next() // a stray closing bracket
	}
}
