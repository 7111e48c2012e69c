package cdecl

import (
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// pos is where e starts.
func (e *expr) pos() ast.Pos {
	if len(e.toks) == 0 {
		return ast.Pos{}
	}
	return e.src.pos(e.toks[0].off)
}

// eval computes a constant expression: integer and character constants,
// the enum constants defined so far, parentheses, and C's unary, binary and
// conditional operators, in 64-bit signed arithmetic. It reports errors
// itself.
func (c *converter) eval(e *expr) (int64, bool) {
	end := 0
	if n := len(e.toks); n > 0 {
		end = e.toks[n-1].end
	}
	toks := append(e.toks[:len(e.toks):len(e.toks)], token{kind: tokEOF, off: end, end: end})
	ev := &evaluator{c: c, src: e.src, toks: toks}
	v, ok := ev.cond()
	if !ok {
		return 0, false
	}
	if t := ev.peek(); t.kind != tokEOF {
		c.errorf(e.src.pos(t.off), "unexpected %s in constant expression", t.describe())
		return 0, false
	}
	return v, true
}

// evaluator walks a constant expression's tokens.
type evaluator struct {
	c     *converter
	src   *body
	toks  []token
	i     int
	depth int
}

func (v *evaluator) peek() token { return v.toks[v.i] }

func (v *evaluator) next() token {
	t := v.toks[v.i]
	if t.kind != tokEOF {
		v.i++
	}
	return t
}

func (v *evaluator) isPunct(s string) bool {
	t := v.peek()
	return t.kind == tokPunct && t.text == s
}

// describe names t for an error message.
func (v *evaluator) describe(t token) string {
	if t.kind == tokEOF {
		return "end of expression"
	}
	return t.describe()
}

func (v *evaluator) fail(t token, format string, args ...any) (int64, bool) {
	v.c.errorf(v.src.pos(t.off), format, args...)
	return 0, false
}

// cond parses a conditional expression, the lowest precedence.
func (v *evaluator) cond() (int64, bool) {
	if v.depth >= maxNesting {
		return v.fail(v.peek(), "constant expression is nested too deeply")
	}
	v.depth++
	defer func() { v.depth-- }()
	x, ok := v.binary(1)
	if !ok || !v.isPunct("?") {
		return x, ok
	}
	v.next()
	a, ok := v.cond()
	if !ok {
		return 0, false
	}
	if !v.isPunct(":") {
		return v.fail(v.peek(), "expected ':' in conditional expression, found %s", v.describe(v.peek()))
	}
	v.next()
	b, ok := v.cond()
	if !ok {
		return 0, false
	}
	if x != 0 {
		return a, true
	}
	return b, true
}

// precedence is a binary operator's precedence, 0 for other tokens.
func precedence(t token) int {
	if t.kind != tokPunct {
		return 0
	}
	return ast.Precedence(t.text)
}

// binary parses operators of at least precedence min, left to right.
func (v *evaluator) binary(min int) (int64, bool) {
	x, ok := v.unary()
	if !ok {
		return 0, false
	}
	for {
		op := v.peek()
		p := precedence(op)
		if p == 0 || p < min {
			return x, true
		}
		v.next()
		y, ok := v.binary(p + 1)
		if !ok {
			return 0, false
		}
		if x, ok = v.apply(op, x, y); !ok {
			return 0, false
		}
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (v *evaluator) apply(op token, x, y int64) (int64, bool) {
	switch op.text {
	case "<<", ">>":
		if y < 0 || y > 63 {
			return v.fail(op, "shift count %d is out of range", y)
		}
	case "/", "%":
		if y == 0 {
			return v.fail(op, "division by zero in constant expression")
		}
	}
	if r, ok := types.Fold(op.text, x, y, false); ok {
		return r, true
	}
	return v.fail(op, "unexpected %s in constant expression", v.describe(op))
}

// unary parses a unary operator and its operand, or a primary expression.
func (v *evaluator) unary() (int64, bool) {
	t := v.peek()
	switch t.kind {
	case tokPunct:
		switch t.text {
		case "-", "+", "~", "!":
			v.next()
			if v.depth >= maxNesting {
				return v.fail(t, "constant expression is nested too deeply")
			}
			v.depth++
			x, ok := v.unary()
			v.depth--
			if !ok {
				return 0, false
			}
			switch t.text {
			case "-":
				return -x, true
			case "~":
				return ^x, true
			case "!":
				return b2i(x == 0), true
			}
			return x, true
		case "(":
			v.next()
			x, ok := v.cond()
			if !ok {
				return 0, false
			}
			if !v.isPunct(")") {
				return v.fail(v.peek(), "expected ')', found %s", v.describe(v.peek()))
			}
			v.next()
			return x, true
		}
	case tokNumber:
		v.next()
		n, ok := parseInt(t.text)
		if !ok {
			return v.fail(t, "invalid integer constant %s", t.text)
		}
		return n, true
	case tokChar:
		v.next()
		n, ok := parseChar(t.text)
		if !ok {
			return v.fail(t, "invalid character constant %s", t.text)
		}
		return n, true
	case tokIdent:
		v.next()
		if t.text == "sizeof" || t.text == "_Alignof" || t.text == "__alignof__" {
			return v.fail(t, "%s is not supported in constant expressions here", t.text)
		}
		if n, ok := v.c.res.Enums[t.text]; ok {
			return n, true
		}
		return v.fail(t, "undefined constant %s", t.text)
	}
	if t.kind == tokEOF {
		return v.fail(t, "expected constant expression")
	}
	return v.fail(t, "expected constant expression, found %s", v.describe(t))
}

// parseInt parses a C integer literal: decimal, 0x hex, 0b binary or 0
// octal, with any u and l suffixes. Values above the int64 range wrap.
func parseInt(s string) (int64, bool) {
	s = strings.TrimRight(s, "uUlL")
	base := 10
	switch {
	case len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) > 2 && (s[:2] == "0b" || s[:2] == "0B"):
		base, s = 2, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, s = 8, s[1:]
	}
	n, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		return 0, false
	}
	return int64(n), true
}

// parseChar parses a C character constant, quotes included. Its value is
// that of a (signed) char.
func parseChar(s string) (int64, bool) {
	if len(s) < 3 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return 0, false
	}
	s = s[1 : len(s)-1]
	var n int64
	switch {
	case s[0] != '\\':
		if len(s) != 1 {
			return 0, false
		}
		n = int64(s[0])
	case len(s) == 2 && strings.IndexByte(`'"?\abfnrtv`, s[1]) >= 0:
		n = int64(map[byte]byte{'a': 7, 'b': 8, 'f': 12, 'n': 10, 'r': 13, 't': 9, 'v': 11}[s[1]])
		if n == 0 {
			n = int64(s[1])
		}
	case s[1] == 'x' && len(s) > 2:
		u, err := strconv.ParseUint(s[2:], 16, 8)
		if err != nil {
			return 0, false
		}
		n = int64(u)
	case len(s) <= 4:
		u, err := strconv.ParseUint(s[1:], 8, 8)
		if err != nil {
			return 0, false
		}
		n = int64(u)
	default:
		return 0, false
	}
	return int64(int8(n)), true
}
