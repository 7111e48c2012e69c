package cdecl

import (
	"fmt"
	"strings"
)

// tokKind classifies a token of a definition's body.
type tokKind int

const (
	tokEOF    tokKind = iota
	tokIdent          // identifiers and C keywords alike
	tokNumber         // an integer literal as written, suffixes included
	tokChar           // a character literal, quotes included
	tokPunct          // an operator or punctuator
)

// token is one token of a body. off and end are byte offsets in the body.
type token struct {
	kind     tokKind
	text     string
	off, end int
}

// describe names t for an error message.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of definition"
	case tokIdent:
		return t.text
	}
	return "'" + t.text + "'"
}

// punct returns the punctuator s starts with, or "".
func punct(s string) string {
	if strings.HasPrefix(s, "...") {
		return "..."
	}
	if len(s) >= 2 {
		switch s[:2] {
		case "<<", ">>", "<=", ">=", "==", "!=", "&&", "||":
			return s[:2]
		}
	}
	if s != "" && strings.IndexByte("{}()[];,:*=+-~!/%<>&^|?.", s[0]) >= 0 {
		return s[:1]
	}
	return ""
}

// lex splits body into tokens, skipping white space and comments. The last
// token is always a tokEOF at the end of the body. A character it cannot
// start a token with is skipped; the first is reported through report.
func lex(body string, report func(off int, format string, args ...any)) []token {
	var toks []token
	failed := false
	fail := func(off int, format string, args ...any) {
		if !failed {
			failed = true
			report(off, format, args...)
		}
	}
	i := 0
	for i < len(body) {
		c := body[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '\\' && i+1 < len(body) && body[i+1] == '\n':
			i += 2 // a line continuation
		case strings.HasPrefix(body[i:], "//"):
			for i < len(body) && body[i] != '\n' {
				i++
			}
		case strings.HasPrefix(body[i:], "/*"):
			end := strings.Index(body[i+2:], "*/")
			if end < 0 {
				fail(i, "unterminated comment")
				i = len(body)
				break
			}
			i += 2 + end + 2
		case isIdentStart(c):
			j := i + 1
			for j < len(body) && isIdentChar(body[j]) {
				j++
			}
			toks = append(toks, token{tokIdent, body[i:j], i, j})
			i = j
		case isDigit(c):
			j := i + 1
			for j < len(body) && (isIdentChar(body[j]) || body[j] == '.') {
				j++
			}
			toks = append(toks, token{tokNumber, body[i:j], i, j})
			i = j
		case c == '\'':
			j := i + 1
			for j < len(body) && body[j] != '\'' && body[j] != '\n' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(body) || body[j] != '\'' {
				fail(i, "unterminated character constant")
				i = j
				break
			}
			toks = append(toks, token{tokChar, body[i : j+1], i, j + 1})
			i = j + 1
		case c == '"':
			fail(i, "unexpected string literal")
			j := i + 1
			for j < len(body) && body[j] != '"' && body[j] != '\n' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		default:
			p := punct(body[i:])
			if p == "" {
				fail(i, "unexpected character %s", quoteByte(c))
				i++
				break
			}
			toks = append(toks, token{tokPunct, p, i, i + len(p)})
			i += len(p)
		}
	}
	return append(toks, token{tokEOF, "", len(body), len(body)})
}

func quoteByte(c byte) string {
	if c >= ' ' && c < 0x7f {
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
