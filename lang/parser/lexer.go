package parser

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// Token types. The names in symbolNames are the ones the grammar tags use
// (`@Attach`, `PredOpen`, ...). Operators, punctuation and keywords are
// matched in the grammar by their text.
const (
	tokEOF         = lexer.EOF
	tokInvalid     = lexer.TokenType(-2) // where lexing stopped on an error
	tokAttach      = lexer.TokenType(-3) // a raw attach point
	tokIdent       = lexer.TokenType(-4)
	tokKeyword     = lexer.TokenType(-5)
	tokVar         = lexer.TokenType(-6)  // $name
	tokPositional  = lexer.TokenType(-7)  // $1, $#
	tokMap         = lexer.TokenType(-8)  // @name or @
	tokInt         = lexer.TokenType(-9)  // as written, suffix included
	tokString      = lexer.TokenType(-10) // as written, quotes included
	tokPunct       = lexer.TokenType(-11) // operators and punctuation
	tokPredOpen    = lexer.TokenType(-12) // the '/' opening a predicate
	tokPredClose   = lexer.TokenType(-13) // the '/' closing a predicate
	tokInclude     = lexer.TokenType(-14) // #include; value is <path> or "path"
	tokDefine      = lexer.TokenType(-15) // #define; value is the name
	tokDefineValue = lexer.TokenType(-16) // the raw replacement text of a #define
	tokRawBody     = lexer.TokenType(-17) // raw C text between the braces of a struct/union/enum
	tokBinOp       = lexer.TokenType(-18) // a binary-only operator: + / % == < && ...
	tokAmbOp       = lexer.TokenType(-19) // - * &: binary or prefix
	tokUnOp        = lexer.TokenType(-20) // ! ~
	tokIncDec      = lexer.TokenType(-21) // ++ --
	tokMember      = lexer.TokenType(-22) // . ->
	tokAssign      = lexer.TokenType(-23) // = += -= ... >>=
	tokTypeWord    = lexer.TokenType(-24) // a built-in type name: uint8, string, unsigned, ...
)

// Operators get token types by the roles they can play, so that the grammar
// matches "any binary operator" with one token-type test rather than a long
// list of alternatives (which participle would try one by one).
func operatorType(op string) lexer.TokenType {
	switch op {
	case "||", "&&", "|", "^", "==", "!=", "<=", ">=", "<", ">", "<<", ">>", "+", "/", "%":
		return tokBinOp
	case "-", "*", "&":
		return tokAmbOp
	case "!", "~":
		return tokUnOp
	case "++", "--":
		return tokIncDec
	case ".", "->":
		return tokMember
	case "=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=":
		return tokAssign
	}
	return tokPunct
}

// isTypeWord reports whether w is a built-in type name, which may start a
// cast. They are reserved in code.
func isTypeWord(w string) bool {
	switch w {
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
		"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
		"bool", "string", "buffer", "inet", "void",
		"unsigned", "signed", "char", "short", "int", "long":
		return true
	}
	return false
}

func symbolNames() map[string]lexer.TokenType {
	return map[string]lexer.TokenType{
		"EOF":         tokEOF,
		"Invalid":     tokInvalid,
		"Attach":      tokAttach,
		"Ident":       tokIdent,
		"Keyword":     tokKeyword,
		"Var":         tokVar,
		"Positional":  tokPositional,
		"Map":         tokMap,
		"Int":         tokInt,
		"String":      tokString,
		"Punct":       tokPunct,
		"PredOpen":    tokPredOpen,
		"PredClose":   tokPredClose,
		"Include":     tokInclude,
		"Define":      tokDefine,
		"DefineValue": tokDefineValue,
		"RawBody":     tokRawBody,
		"BinOp":       tokBinOp,
		"AmbOp":       tokAmbOp,
		"UnOp":        tokUnOp,
		"IncDec":      tokIncDec,
		"Member":      tokMember,
		"Assign":      tokAssign,
		"TypeWord":    tokTypeWord,
	}
}

// codeKeywords are the reserved words inside action blocks, predicates and
// declarations. They lex as tokKeyword, never as identifiers.
func isCodeKeyword(w string) bool {
	switch w {
	case "if", "else", "while", "for", "unroll", "break", "continue", "return",
		"let", "sizeof", "offsetof", "typeof", "struct", "union", "enum":
		return true
	}
	return false
}

// declKeyword reports whether w starts a top-level declaration, and how the
// declaration is lexed.
func declKeyword(w string) (mode declMode, ok bool) {
	switch w {
	case "config", "macro", "fn":
		return declCode, true
	case "struct", "union", "enum":
		return declRaw, true
	case "import":
		return declImport, true
	}
	return declNone, false
}

type declMode int

const (
	declNone   declMode = iota
	declCode            // lex normally until the closing brace returns to depth 0
	declRaw             // like declCode, but the brace body is one tokRawBody
	declImport          // ends after the string or at ';'
)

// maxNesting bounds bracket nesting and runs of prefix operators, so that a
// pathological input cannot exhaust the parser's stack.
const maxNesting = 256

// lexDef is the participle lexer.Definition for gotrace scripts. Parse does
// not go through it (it calls scan directly to keep the lexical error and
// the brace bookkeeping); it exists so the grammar can be built and so that
// the token stream can be inspected with participle's own tools.
type lexDef struct{}

var _ lexer.StringDefinition = lexDef{}

// Symbols implements lexer.Definition.
func (lexDef) Symbols() map[string]lexer.TokenType { return symbolNames() }

// Lex implements lexer.Definition.
func (d lexDef) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

// LexString implements lexer.StringDefinition.
func (lexDef) LexString(filename, s string) (lexer.Lexer, error) {
	res := scan(filename, s, false)
	return &tokenStream{toks: res.toks}, nil
}

// tokenStream hands out an already scanned token slice.
type tokenStream struct {
	toks []lexer.Token
	i    int
}

func (t *tokenStream) Next() (lexer.Token, error) {
	if t.i >= len(t.toks) {
		return t.toks[len(t.toks)-1], nil // the EOF token
	}
	tok := t.toks[t.i]
	t.i++
	return tok, nil
}

// scanResult is everything the lexer learned about a source.
type scanResult struct {
	toks []lexer.Token // always ends with tokEOF (preceded by tokInvalid after an error)
	err  *diag.Error   // the lexical error, if any
	open []openDelim   // brackets not closed at the end of input, outermost first
}

// openDelim is an opening '{', '(' or '[' waiting for its match.
type openDelim struct {
	At ast.Pos
	Ch byte
}

// scanner is the context-sensitive lexer. At the top level it reads attach
// points as raw words, a '/' opens a predicate and preprocessor lines are
// recognised; inside braces, predicates and declarations it reads ordinary
// expression tokens.
type scanner struct {
	file string
	src  string
	pos  int
	line int
	bol  int // offset of the start of the current line

	exprOnly bool        // ParseExpr: everything is code
	depth    int         // brace depth; 0 is the top level
	open     []openDelim // unmatched brackets of all kinds, for error messages
	pred     bool        // inside /predicate/
	decl     declMode    // inside a top-level declaration
	opRun    int         // consecutive prefix-capable operators

	toks []lexer.Token
	err  *diag.Error
}

// scan tokenizes src. exprOnly lexes the whole input as code (for
// ParseExpr). It never fails: a lexical error ends the token stream with a
// tokInvalid token at the error position and is returned in the result.
func scan(file, src string, exprOnly bool) *scanResult {
	s := &scanner{file: file, src: src, line: 1, exprOnly: exprOnly}
	s.toks = make([]lexer.Token, 0, len(src)/2+2) // about 2.5 bytes a token in code
	if !exprOnly && strings.HasPrefix(src, "#!") {
		for s.pos < len(src) && src[s.pos] != '\n' {
			s.pos++
		}
	}
	for s.err == nil {
		s.skipSpace()
		if s.err != nil {
			break
		}
		if s.pos >= len(s.src) {
			break
		}
		if s.topLevel() {
			s.lexTop()
		} else {
			s.lexCode()
		}
	}
	// End of input is reported just after the last non-blank character, so
	// that "expected ... before end of input" points at the line it is about.
	end := s.here()
	if last := len(strings.TrimRight(src, " \t\r\n\f\v")); last < len(src) {
		end = offsetPos(src, last)
	}
	if s.err != nil {
		end = s.err.Pos
		s.toks = append(s.toks, lexer.Token{Type: tokInvalid, Value: "", Pos: s.lpos(end)})
	}
	s.toks = append(s.toks, lexer.Token{Type: tokEOF, Pos: s.lpos(end)})
	return &scanResult{toks: s.toks, err: s.err, open: s.open}
}

func (s *scanner) topLevel() bool {
	return !s.exprOnly && s.depth == 0 && !s.pred && s.decl == declNone
}

// here is the Pos of the scanner's current offset.
func (s *scanner) here() ast.Pos {
	return ast.Pos{Line: s.line, Col: s.pos - s.bol + 1, Offset: s.pos}
}

func (s *scanner) lpos(p ast.Pos) lexer.Position {
	return lexer.Position{Filename: s.file, Offset: p.Offset, Line: p.Line, Column: p.Col}
}

// offsetPos computes the Pos of a byte offset from scratch.
func offsetPos(src string, off int) ast.Pos {
	line := 1 + strings.Count(src[:off], "\n")
	bol := strings.LastIndexByte(src[:off], '\n') + 1
	return ast.Pos{Line: line, Col: off - bol + 1, Offset: off}
}

// advance moves to offset to, keeping the line bookkeeping.
func (s *scanner) advance(to int) {
	for s.pos < to {
		if s.src[s.pos] == '\n' {
			s.line++
			s.bol = s.pos + 1
		}
		s.pos++
	}
}

// posOf returns the Pos of an offset at or after s.pos.
func (s *scanner) posOf(off int) ast.Pos {
	line, bol := s.line, s.bol
	for i := s.pos; i < off; i++ {
		if s.src[i] == '\n' {
			line++
			bol = i + 1
		}
	}
	return ast.Pos{Line: line, Col: off - bol + 1, Offset: off}
}

func (s *scanner) fail(p ast.Pos, format string, args ...any) {
	if s.err == nil {
		s.err = &diag.Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
	}
}

func (s *scanner) emit(typ lexer.TokenType, p ast.Pos, val string) {
	s.toks = append(s.toks, lexer.Token{Type: typ, Value: val, Pos: s.lpos(p)})
}

// skipSpace skips white space and comments.
func (s *scanner) skipSpace() {
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			s.advance(s.pos + 1)
		case c == '/' && s.pos+1 < len(s.src) && s.src[s.pos+1] == '/':
			for s.pos < len(s.src) && s.src[s.pos] != '\n' {
				s.pos++
			}
		case c == '/' && s.pos+1 < len(s.src) && s.src[s.pos+1] == '*':
			end := strings.Index(s.src[s.pos+2:], "*/")
			if end < 0 {
				s.fail(s.here(), "unterminated comment")
				return
			}
			s.advance(s.pos + 2 + end + 2)
		default:
			return
		}
	}
}

// skipSpaceAt returns the offset of the first byte at or after i that is
// not white space or part of a comment.
func skipSpaceAt(src string, i int) int {
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return len(src)
			}
			i += 2 + end + 2
		default:
			return i
		}
	}
	return i
}

// lexTop reads one token in top-level mode.
func (s *scanner) lexTop() {
	c := s.src[s.pos]
	switch {
	case c == '#':
		s.lexPreprocessor()
	case isIdentStart(c) || c == '*':
		if isIdentStart(c) {
			end := skipIdent(s.src, s.pos)
			word := s.src[s.pos:end]
			if mode, ok := declKeyword(word); ok && (end >= len(s.src) || s.src[end] != ':') {
				s.emit(tokKeyword, s.here(), word)
				s.decl = mode
				s.pos = end
				return
			}
		}
		s.lexAttach()
	case c == '/':
		s.emit(tokPredOpen, s.here(), "/")
		s.pos++
		s.pred = true
	default:
		s.lexCode()
	}
}

// lexAttach reads an attach point as raw text. It ends at white space, ',',
// '{' or '/', except that a ':'-separated segment starting with '/' (or
// "./", "../") is a file path that keeps its slashes, and a double-quoted
// segment is kept whole.
func (s *scanner) lexAttach() {
	start := s.here()
	i := s.pos
	segStart, inPath := true, false
loop:
	for i < len(s.src) {
		c := s.src[i]
		if segStart {
			segStart = false
			rest := s.src[i:]
			inPath = c == '/' || strings.HasPrefix(rest, "./") || strings.HasPrefix(rest, "../")
		}
		switch {
		case c == '"':
			j := i + 1
			for j < len(s.src) && s.src[j] != '"' && s.src[j] != '\n' {
				if s.src[j] == '\\' && j+1 < len(s.src) && s.src[j+1] != '\n' {
					j++
				}
				j++
			}
			if j >= len(s.src) || s.src[j] != '"' {
				s.fail(s.posOf(i), "unterminated string literal")
				return
			}
			i = j + 1
		case c == ':':
			segStart = true
			i++
		case c == '/':
			if !inPath {
				break loop
			}
			i++
		case c <= ' ' || c == ',' || c == '{' || c == '}' || c == ';' || c == '<' || c == '>' || c == 0x7f:
			break loop
		default:
			i++
		}
	}
	s.emit(tokAttach, start, s.src[s.pos:i])
	s.pos = i
}

// lexPreprocessor reads a #include or #define line.
func (s *scanner) lexPreprocessor() {
	start := s.here()
	for j := s.bol; j < s.pos; j++ {
		if c := s.src[j]; c != ' ' && c != '\t' {
			s.fail(start, "unexpected character '#'")
			return
		}
	}
	i := s.pos + 1
	for i < len(s.src) && (s.src[i] == ' ' || s.src[i] == '\t') {
		i++
	}
	wend := skipIdent(s.src, i)
	word := s.src[i:wend]
	i = wend
	for i < len(s.src) && (s.src[i] == ' ' || s.src[i] == '\t') {
		i++
	}
	switch word {
	case "include":
		var close byte
		switch {
		case i < len(s.src) && s.src[i] == '<':
			close = '>'
		case i < len(s.src) && s.src[i] == '"':
			close = '"'
		default:
			s.fail(s.posOf(i), `expected <file> or "file" after #include`)
			return
		}
		j := i + 1
		for j < len(s.src) && s.src[j] != close && s.src[j] != '\n' {
			j++
		}
		if j >= len(s.src) || s.src[j] != close || j == i+1 {
			s.fail(s.posOf(i), "malformed #include: missing closing '%c'", close)
			return
		}
		path := s.src[i : j+1]
		j++
		rest := skipLineSpace(s.src, j)
		if rest < len(s.src) && s.src[rest] != '\n' {
			s.fail(s.posOf(rest), "unexpected text after #include")
			return
		}
		s.emit(tokInclude, start, path)
		s.advance(j)
	case "define":
		if i >= len(s.src) || !isIdentStart(s.src[i]) {
			s.fail(s.posOf(i), "expected a macro name after #define")
			return
		}
		nend := skipIdent(s.src, i)
		name := s.src[i:nend]
		vstart := nend
		for vstart < len(s.src) && (s.src[vstart] == ' ' || s.src[vstart] == '\t') {
			vstart++
		}
		value, end := defineValue(s.src, vstart)
		if end < 0 {
			s.fail(s.posOf(-end-1), "unterminated comment")
			return
		}
		s.emit(tokDefine, start, name)
		s.emit(tokDefineValue, s.posOf(vstart), value)
		s.advance(end)
	case "":
		s.fail(start, "expected a preprocessor directive after '#'")
	default:
		s.fail(start, "unsupported preprocessor directive #%s", word)
		s.err.Hint = "only #include and #define are supported"
	}
}

// skipLineSpace skips blanks and comments without leaving the line.
func skipLineSpace(src string, i int) int {
	for i < len(src) {
		switch {
		case src[i] == ' ' || src[i] == '\t' || src[i] == '\r':
			i++
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 || strings.Contains(src[i:i+2+end], "\n") {
				return i
			}
			i += 2 + end + 2
		default:
			return i
		}
	}
	return i
}

// defineValue reads the replacement text of a #define starting at i: up to
// the end of the line, joining lines ended by a backslash, dropping comments
// and collapsing runs of blanks (outside quotes) into one space. It returns
// the text and the offset of the terminating newline, or the offset of an
// unterminated comment as a negative number -(offset+1).
func defineValue(src string, i int) (string, int) {
	var b strings.Builder
	space := func() {
		if b.Len() > 0 && b.String()[b.Len()-1] != ' ' {
			b.WriteByte(' ')
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			return strings.TrimSpace(b.String()), i
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			space()
			i += 2
		case c == '\\' && i+2 < len(src) && src[i+1] == '\r' && src[i+2] == '\n':
			space()
			i += 3
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			space()
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' && j+1 < len(src) && src[j+1] != '\n' {
					j++
				}
				j++
			}
			if j < len(src) && src[j] == c {
				j++
			}
			b.WriteString(src[i:j])
			i = j
		case strings.HasPrefix(src[i:], "//"):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return "", -(i + 1)
			}
			space()
			i += 2 + end + 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return strings.TrimSpace(b.String()), i
}

// matchOperator returns the operator or punctuation at the start of s
// (longest match), or "".
func matchOperator(s string) string {
	if len(s) >= 3 {
		switch s[:3] {
		case "<<=", ">>=":
			return s[:3]
		}
	}
	if len(s) >= 2 {
		switch s[:2] {
		case "->", "++", "--", "<<", ">>", "&&", "||", "==", "!=", "<=", ">=",
			"+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "..":
			return s[:2]
		}
	}
	if len(s) >= 1 && strings.IndexByte("+-*/%&|^!~<>=?:;,.()[]{}", s[0]) >= 0 {
		return s[:1]
	}
	return ""
}

// prefixOps may start a unary expression; long runs of them are capped.
func isPrefixOp(op string) bool {
	switch op {
	case "-", "!", "~", "*", "&", "++", "--", "(":
		return true
	}
	return false
}

// lexCode reads one token inside an action block, a predicate or a
// declaration (or a top-level token that is not an attach point).
func (s *scanner) lexCode() {
	c := s.src[s.pos]
	start := s.here()
	switch {
	case isIdentStart(c):
		end := skipIdent(s.src, s.pos)
		word := s.src[s.pos:end]
		switch {
		case isCodeKeyword(word):
			s.emit(tokKeyword, start, word)
		case isTypeWord(word):
			s.emit(tokTypeWord, start, word)
		default:
			s.emit(tokIdent, start, word)
		}
		s.pos = end
		s.opRun = 0
		return
	case isDecimal(c):
		if n := len(s.toks); n == 0 || s.toks[n-1].Value != "." {
			if j := skipDecimal(s.src, s.pos); j+1 < len(s.src) && s.src[j] == '.' && isDecimal(s.src[j+1]) {
				s.fail(start, "floating-point numbers are not supported")
				return
			}
		}
		end, _, msg, at := scanInt(s.src, s.pos)
		if msg != "" {
			s.fail(s.posOf(at), "%s", msg)
			return
		}
		s.emit(tokInt, start, s.src[s.pos:end])
		s.pos = end
		s.opRun = 0
		return
	case c == '"':
		end, _, msg, at := scanString(s.src, s.pos)
		if msg != "" {
			s.fail(s.posOf(at), "%s", msg)
			return
		}
		s.emit(tokString, start, s.src[s.pos:end])
		s.pos = end
		s.opRun = 0
		if s.decl == declImport && s.depth == 0 {
			s.decl = declNone
		}
		return
	case c == '$':
		i := s.pos + 1
		switch {
		case i < len(s.src) && s.src[i] == '#':
			s.emit(tokPositional, start, "$#")
			s.pos = i + 1
		case i < len(s.src) && isDecimal(s.src[i]):
			end := i
			for end < len(s.src) && isDecimal(s.src[end]) {
				end++
			}
			if end-i > 9 {
				s.fail(start, "positional parameter %s is too large", s.src[s.pos:end])
				return
			}
			if strings.TrimLeft(s.src[i:end], "0") == "" {
				s.fail(start, "there is no positional parameter $0; they start at $1")
				return
			}
			s.emit(tokPositional, start, s.src[s.pos:end])
			s.pos = end
		case i < len(s.src) && isIdentStart(s.src[i]):
			end := skipIdent(s.src, i)
			s.emit(tokVar, start, s.src[s.pos:end])
			s.pos = end
		default:
			s.fail(start, "expected a variable name after '$'")
			return
		}
		s.opRun = 0
		return
	case c == '@':
		end := s.pos + 1
		if end < len(s.src) && isIdentStart(s.src[end]) {
			end = skipIdent(s.src, end)
		}
		s.emit(tokMap, start, s.src[s.pos:end])
		s.pos = end
		s.opRun = 0
		return
	case c == '/' && s.pred:
		if j := skipSpaceAt(s.src, s.pos+1); j >= len(s.src) || s.src[j] == '{' || s.src[j] == '<' {
			s.emit(tokPredClose, start, "/")
			s.pos++
			s.pred = false
			s.opRun = 0
			return
		}
	}
	if op := matchOperator(s.src[s.pos:]); op != "" {
		s.lexOperator(op, start)
		return
	}
	r, _ := utf8.DecodeRuneInString(s.src[s.pos:])
	switch {
	case r == '\'':
		s.fail(start, "unexpected character '''")
		s.err.Hint = `strings are written in double quotes: "text"`
	case r == '`':
		s.fail(start, "unexpected character '`'")
	case r == utf8.RuneError || r < ' ' || r == 0x7f:
		s.fail(start, "unexpected byte 0x%02x", s.src[s.pos])
	case r < utf8.RuneSelf:
		s.fail(start, "unexpected character '%c'", r)
	default:
		s.fail(start, "unexpected character '%c' (U+%04X)", r, r)
	}
}

func skipDecimal(src string, i int) int {
	for i < len(src) && (isDecimal(src[i]) || src[i] == '_') {
		i++
	}
	return i
}

func (s *scanner) lexOperator(op string, start ast.Pos) {
	if isPrefixOp(op) {
		s.opRun++
		if s.opRun > maxNesting {
			s.fail(start, "expression is nested too deeply")
			return
		}
	} else {
		s.opRun = 0
	}
	switch op {
	case "{":
		if s.pred {
			// "/pred {": the predicate was never closed. Go on as if it
			// had been, so the parser reports it at this brace.
			s.pred = false
		}
		if s.decl == declRaw && s.depth == 0 {
			s.lexRawBody(start)
			return
		}
		if !s.push(start, '{') {
			return
		}
		s.depth++
	case "}":
		s.pop('{')
		if s.depth > 0 {
			s.depth--
			if s.depth == 0 {
				s.decl = declNone
			}
		}
	case "(", "[":
		if !s.push(start, op[0]) {
			return
		}
	case ")":
		s.pop('(')
	case "]":
		s.pop('[')
	case ";":
		if s.depth == 0 {
			s.decl = declNone
		}
	}
	s.emit(operatorType(op), start, op)
	s.pos += len(op)
}

// push records an opening bracket; it fails when nesting gets too deep.
func (s *scanner) push(at ast.Pos, ch byte) bool {
	if len(s.open) >= maxNesting {
		s.fail(at, "too many nested brackets")
		return false
	}
	s.open = append(s.open, openDelim{At: at, Ch: ch})
	return true
}

// pop matches a closing bracket with the innermost opening one of the same
// kind, dropping any unmatched ones opened after it.
func (s *scanner) pop(ch byte) {
	for i := len(s.open) - 1; i >= 0; i-- {
		if s.open[i].Ch == ch {
			s.open = s.open[:i]
			return
		}
	}
}

// lexRawBody reads the brace-delimited body of a struct, union or enum
// declaration as one token, emitting '{', the body and '}'.
func (s *scanner) lexRawBody(open ast.Pos) {
	i := s.pos + 1
	depth := 1
	for i < len(s.src) && depth > 0 {
		switch c := s.src[i]; {
		case c == '{':
			depth++
			i++
		case c == '}':
			depth--
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s.src) && s.src[j] != c && s.src[j] != '\n' {
				if s.src[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case strings.HasPrefix(s.src[i:], "//"):
			for i < len(s.src) && s.src[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s.src[i:], "/*"):
			end := strings.Index(s.src[i+2:], "*/")
			if end < 0 {
				i = len(s.src)
			} else {
				i += 2 + end + 2
			}
		default:
			i++
		}
	}
	if depth > 0 || i > len(s.src) {
		s.fail(open, "unclosed '{'")
		s.err.Hint = "add the matching '}'"
		return
	}
	closeAt := i - 1
	s.emit(tokPunct, open, "{")
	s.emit(tokRawBody, s.posOf(s.pos+1), s.src[s.pos+1:closeAt])
	s.emit(tokPunct, s.posOf(closeAt), "}")
	s.advance(i)
	s.decl = declNone
}
