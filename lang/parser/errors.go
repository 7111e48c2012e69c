package parser

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// translator turns a participle error into a diag.Error in plain words.
//
// participle reports `unexpected token "X" (expected EBNF)`, where EBNF is
// the rest of the grammar sequence that failed to match, written with the
// grammar's struct names. The translator reads the first set of that EBNF
// (what could have come next), describes each item in words
// (describeProduction), and adds hints for the mistakes people actually
// make. Lexical errors found before the parse error win, since they explain
// it.
type translator struct {
	res      *scanResult
	exprOnly bool
}

func (t *translator) translate(err error) *diag.Error {
	var tok lexer.Token
	var want []string
	var ute *participle.UnexpectedTokenError
	var perr participle.Error
	switch {
	case errors.As(err, &ute):
		tok = ute.Unexpected
		want = firstSet(expectedPart(ute.Message(), tok))
	case errors.As(err, &perr):
		tok = t.tokenAt(perr.Position().Offset)
	default:
		return &diag.Error{Msg: "internal parser error: " + err.Error()}
	}
	if le := t.res.err; le != nil && (tok.Type == tokInvalid || le.Pos.Offset <= tok.Pos.Offset) {
		return le
	}
	at := toPos(tok.Pos)
	what := describeToken(tok)
	has := func(item string) bool {
		for _, w := range want {
			if w == item {
				return true
			}
		}
		return false
	}

	// The input ended inside brackets: point at the one left open.
	if tok.Type == tokEOF && len(t.res.open) > 0 && !has("<predclose>") {
		o := t.res.open[len(t.res.open)-1]
		return &diag.Error{
			Pos:  o.At,
			Msg:  fmt.Sprintf("unclosed '%c'", o.Ch),
			Hint: fmt.Sprintf("the input ended before the matching '%c'", closing(o.Ch)),
		}
	}
	if has("<predclose>") {
		return &diag.Error{
			Pos:  at,
			Msg:  "unterminated predicate: expected '/' before " + what,
			Hint: "a predicate is a condition between slashes before the action block: /pid == 1/ { ... }",
		}
	}

	prev := t.prevToken(tok)
	if len(want) == 0 {
		return t.trailing(tok, at, what, prev)
	}
	if len(want) == 1 && want[0] == `"}"` && tok.Type != tokEOF {
		if prev.Value == ";" || prev.Value == "{" || prev.Value == "}" {
			item := "a statement"
			if t.inConfig(tok) {
				item = "a setting (name = value)"
			}
			e := &diag.Error{Pos: at, Msg: fmt.Sprintf("unexpected %s, expected %s or '}'", what, item)}
			switch tok.Type {
			case tokBinOp, tokAmbOp, tokMember, tokAssign:
				if prev.Value == "}" {
					// `{ 1 } + 1;`: the block was taken for a statement.
					e.Hint = "a '{' that starts a statement opens a block, not a block expression; to use a block's value there, put it in parentheses: ({ ... })"
				}
			}
			return e
		}
		return &diag.Error{Pos: at, Msg: fmt.Sprintf("unexpected %s, expected ';' or '}'", what)}
	}

	e := &diag.Error{Pos: at, Msg: fmt.Sprintf("unexpected %s", what)}
	if words := describeAll(want); words != "" {
		e.Msg += ", expected " + words
	}
	wantsBlock := has("Block") || has(`"{"`)
	switch {
	case wantsBlock && tok.Type == tokBinOp && (tok.Value == "<" || tok.Value == ">"):
		e.Hint = "action blocks use braces: write { ... }"
	case wantsBlock && tok.Type == tokAttach && prev.Type == tokAttach:
		e.Hint = "separate the attach points of one probe with ','"
	case wantsBlock && prev.Type == tokAttach && strings.Contains(prev.Value, "("):
		e.Hint = "statements must be inside an action block: BEGIN { ... }"
	case tok.Type == tokKeyword && (has("<ident>") || has("Expr") || has("UnaryExpr")):
		e.Hint = fmt.Sprintf("%q is a reserved word", tok.Value)
	}
	return e
}

// trailing explains a token where the parser expected nothing in
// particular: text after a complete program or expression.
func (t *translator) trailing(tok lexer.Token, at ast.Pos, what string, prev lexer.Token) *diag.Error {
	if t.exprOnly {
		if prev.Type == tokEOF || tok.Type == tokEOF {
			return &diag.Error{Pos: at, Msg: fmt.Sprintf("unexpected %s, expected an expression", what)}
		}
		return &diag.Error{Pos: at, Msg: fmt.Sprintf("unexpected %s after the end of the expression", what)}
	}
	e := &diag.Error{Pos: at, Msg: fmt.Sprintf("unexpected %s, expected a probe", what)}
	switch {
	case tok.Type == tokPunct && tok.Value == "}":
		e.Msg = `unexpected "}"`
		e.Hint = "there is no '{' for it to close"
	case tok.Type == tokPunct && tok.Value == "{":
		e.Hint = "an action block needs an attach point before it, e.g. BEGIN { ... }"
	case tok.Type == tokPredOpen:
		e.Hint = "a predicate goes between the attach point and the action block: kprobe:f /pid == 1/ { ... }"
	}
	return e
}

// inConfig reports whether tok is directly inside the braces of a
// `config = { ... }` block.
func (t *translator) inConfig(tok lexer.Token) bool {
	toks := t.res.toks
	i := sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= tok.Pos.Offset })
	depth := 0
	for j := i - 1; j >= 0; j-- {
		switch toks[j].Value {
		case "}":
			depth++
		case "{":
			if depth == 0 {
				return j >= 2 && toks[j-1].Value == "=" && toks[j-2].Value == "config"
			}
			depth--
		}
	}
	return false
}

// tokenAt returns the token at or after a byte offset.
func (t *translator) tokenAt(off int) lexer.Token {
	toks := t.res.toks
	i := sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= off })
	if i >= len(toks) {
		i = len(toks) - 1
	}
	return toks[i]
}

// prevToken returns the token before tok, or an EOF token when tok is the
// first one.
func (t *translator) prevToken(tok lexer.Token) lexer.Token {
	toks := t.res.toks
	i := sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= tok.Pos.Offset })
	if i == 0 || i > len(toks) {
		return lexer.Token{Type: tokEOF}
	}
	return toks[i-1]
}

func closing(open byte) byte {
	switch open {
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return '}'
}

// describeToken names a token for a message: `"printf"`, `"}"`,
// `string "abc"`, `end of input`.
func describeToken(tok lexer.Token) string {
	switch tok.Type {
	case tokEOF:
		return "end of input"
	case tokInvalid:
		return "invalid input"
	case tokString:
		return "string " + tok.Value
	case tokInclude:
		return `"#include"`
	case tokDefine:
		return `"#define"`
	case tokPredOpen, tokPredClose:
		return `"/"`
	}
	return strconv.Quote(tok.Value)
}

// expectedPart extracts the EBNF after "(expected " from a participle
// message, or "".
func expectedPart(msg string, tok lexer.Token) string {
	prefix := fmt.Sprintf("unexpected token %q (expected ", tok)
	if !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, ")") {
		return ""
	}
	return msg[len(prefix) : len(msg)-1]
}

// firstSet returns the items that may start the EBNF sequence s: quoted
// literals (`"{"`), token types (`<ident>`) and production names (`Expr`).
func firstSet(s string) []string {
	p := &ebnfReader{s: s}
	first, _ := p.sequence()
	return first
}

// ebnfReader reads participle's EBNF rendering of a grammar node, just
// enough to compute its first set.
type ebnfReader struct {
	s string
	i int
}

func (p *ebnfReader) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *ebnfReader) alternatives() (first []string, nullable bool) {
	first, nullable = p.sequence()
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '|' {
			return first, nullable
		}
		p.i++
		f, n := p.sequence()
		first = append(first, f...)
		nullable = nullable || n
	}
}

func (p *ebnfReader) sequence() (first []string, nullable bool) {
	nullable = true
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] == ')' || p.s[p.i] == '|' {
			return first, nullable
		}
		f, n := p.term()
		if nullable {
			first = append(first, f...)
			nullable = n
		}
	}
}

func (p *ebnfReader) term() (first []string, nullable bool) {
	c := p.s[p.i]
	switch {
	case c == '"':
		q, err := strconv.QuotedPrefix(p.s[p.i:])
		if err != nil {
			p.i = len(p.s)
			return nil, true
		}
		p.i += len(q)
		first = []string{q}
	case c == '<':
		j := strings.IndexByte(p.s[p.i:], '>')
		if j < 0 {
			p.i = len(p.s)
			return nil, true
		}
		first = []string{p.s[p.i : p.i+j+1]}
		p.i += j + 1
	case c == '(':
		look := strings.HasPrefix(p.s[p.i:], "(?=") || strings.HasPrefix(p.s[p.i:], "(?!")
		if look {
			p.i += 3
		} else {
			p.i++
		}
		first, nullable = p.alternatives()
		if p.i < len(p.s) && p.s[p.i] == ')' {
			p.i++
		}
		if look {
			first, nullable = nil, true
		}
	case c == '~':
		p.i++
		if p.i < len(p.s) {
			p.term()
		}
		first = nil
	case isIdentStart(c):
		j := skipIdent(p.s, p.i)
		first = []string{p.s[p.i:j]}
		p.i = j
	default:
		p.i++
		return nil, true
	}
	for p.i < len(p.s) && strings.IndexByte("?*+!", p.s[p.i]) >= 0 {
		if p.s[p.i] == '?' || p.s[p.i] == '*' {
			nullable = true
		}
		p.i++
	}
	return first, nullable
}

// describeAll describes a first set in words: "an expression or ')'".
func describeAll(items []string) string {
	var words []string
	seen := map[string]bool{}
	field := false // a name that may also be a keyword: a field name
	for _, it := range items {
		if it == "<keyword>" {
			field = true
		}
	}
	for _, it := range items {
		w := describeItem(it)
		if field && (it == "<ident>" || it == "<keyword>" || it == "<typeword>" || it == "<int>") {
			w = "a field name"
		}
		if w == "" || seen[w] {
			continue
		}
		seen[w] = true
		words = append(words, w)
	}
	// A type or a name is also an expression; just say expression.
	if seen["an expression"] {
		out := words[:0]
		for _, w := range words {
			if w != "a type" && w != "a name" {
				out = append(out, w)
			}
		}
		words = out
	}
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// describeItem describes one first-set item, or returns "" for items that
// would only confuse (internal token types).
func describeItem(it string) string {
	switch {
	case strings.HasPrefix(it, `"`):
		v, err := strconv.Unquote(it)
		if err != nil {
			return ""
		}
		return "'" + v + "'"
	case strings.HasPrefix(it, "<"):
		switch it {
		case "<ident>":
			return "a name"
		case "<int>":
			return "an integer"
		case "<string>":
			return "a string"
		case "<var>":
			return "a variable ($name)"
		case "<map>":
			return "a map (@name)"
		case "<positional>":
			return "a positional parameter ($1)"
		case "<attach>":
			return "an attach point"
		case "<predopen>", "<predclose>":
			return "'/'"
		case "<typeword>":
			return "a type"
		case "<assign>":
			return "'='"
		case "<eof>":
			return "end of input"
		}
		return ""
	}
	return describeProduction(it)
}

// describeProduction describes a grammar production by its (capitalized)
// struct name.
func describeProduction(name string) string {
	switch name {
	case "Expr", "UnaryExpr", "Primary", "ParenElem", "ExprStmt",
		"MapExpr", "IdentExpr", "SizeofExpr", "OffsetofExpr", "TypeofExpr", "ParenExpr":
		return "an expression"
	case "Block":
		return "'{'"
	case "Item":
		return "a statement"
	case "TypeName":
		return "a type"
	case "NameTok":
		return "a type"
	case "VarTok", "FnParam":
		return "a variable ($name)"
	case "AttachTok", "Probe":
		return "an attach point"
	case "TopItem":
		return "a probe"
	case "ConfigEntry":
		return "a setting (name = value)"
	case "CallArgs":
		return "'('"
	case "AssignTail":
		return "an assignment"
	case "TernaryTail":
		return "'?'"
	case "IfStmt":
		return "'if'"
	case "LetStmt":
		return "'let'"
	}
	return ""
}
