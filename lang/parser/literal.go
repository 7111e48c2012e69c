package parser

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// This file decodes integer and string literals. The lexer calls these
// functions to find where a literal ends and to reject malformed ones; the
// converter calls them again on the token text to get the values, so the
// rules live in exactly one place.

// intLit is a decoded integer literal.
type intLit struct {
	value  uint64
	suffix string
}

// scanInt reads the integer literal that starts at src[i] (a decimal digit).
// It returns the offset just past the literal, the decoded literal, and on
// failure a message and the offset of the offending byte.
func scanInt(src string, i int) (end int, lit intLit, msg string, errAt int) {
	start := i
	base := uint64(10)
	var digits strings.Builder
	isDigit := func(c byte) bool {
		switch base {
		case 16:
			return isHex(c)
		case 2:
			return c == '0' || c == '1'
		default:
			return c >= '0' && c <= '9'
		}
	}
	if src[i] == '0' && i+1 < len(src) && (src[i+1] == 'x' || src[i+1] == 'X') {
		base = 16
		i += 2
	} else if src[i] == '0' && i+1 < len(src) && (src[i+1] == 'b' || src[i+1] == 'B') {
		base = 2
		i += 2
	} else if src[i] == '0' && i+1 < len(src) && (isDecimal(src[i+1]) || src[i+1] == '_') {
		base = 8
		i++
	}
	for i < len(src) && (isDigit(src[i]) || src[i] == '_' || (base == 8 && isDecimal(src[i]))) {
		if base == 8 && (src[i] == '8' || src[i] == '9') {
			return i + 1, lit, fmt.Sprintf("invalid digit '%c' in octal literal", src[i]), i
		}
		if src[i] != '_' {
			digits.WriteByte(src[i])
		}
		i++
	}
	if digits.Len() == 0 {
		name := map[uint64]string{16: "hexadecimal", 2: "binary", 8: "octal", 10: "decimal"}[base]
		return i, lit, fmt.Sprintf("%s literal has no digits", name), start
	}
	var v uint64
	ds := digits.String()
	for j := 0; j < len(ds); j++ {
		d := digitValue(ds[j])
		hi, lo := bits.Mul64(v, base)
		if hi != 0 || lo+d < lo {
			return skipIdent(src, i), lit, fmt.Sprintf("integer literal %s is too large", src[start:skipIdent(src, i)]), start
		}
		v = lo + d
	}
	// Exponent form: 1e6. Only for plain decimal literals.
	if base == 10 && i+1 < len(src) && (src[i] == 'e' || src[i] == 'E') && isDecimal(src[i+1]) {
		i++
		exp := 0
		for i < len(src) && (isDecimal(src[i]) || src[i] == '_') {
			if src[i] != '_' && exp < 1000 {
				exp = exp*10 + int(src[i]-'0')
			}
			i++
		}
		for ; exp > 0; exp-- {
			hi, lo := bits.Mul64(v, 10)
			if hi != 0 {
				return skipIdent(src, i), lit, fmt.Sprintf("integer literal %s is too large", src[start:skipIdent(src, i)]), start
			}
			v = lo
		}
	}
	sufStart := i
	for i < len(src) && isLetter(src[i]) {
		i++
	}
	if i < len(src) && isIdentChar(src[i]) {
		end := skipIdent(src, i)
		return end, lit, fmt.Sprintf("invalid integer literal %s", src[start:end]), start
	}
	return i, intLit{value: v, suffix: src[sufStart:i]}, "", 0
}

func skipIdent(src string, i int) int {
	for i < len(src) && isIdentChar(src[i]) {
		i++
	}
	return i
}

func digitValue(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	default:
		return uint64(c-'A') + 10
	}
}

// scanString reads the string literal whose opening quote is at src[i]. It
// returns the offset just past the closing quote and the decoded value, or a
// message and the offset the message is about.
func scanString(src string, i int) (end int, val string, msg string, errAt int) {
	start := i
	i++
	var b strings.Builder
	for {
		if i >= len(src) || src[i] == '\n' {
			return i, "", "unterminated string literal", start
		}
		c := src[i]
		switch c {
		case '"':
			return i + 1, b.String(), "", 0
		case '\\':
			n, ch, m := decodeEscape(src, i)
			if m != "" {
				return i + n, "", m, i
			}
			b.WriteByte(ch)
			i += n
		default:
			b.WriteByte(c)
			i++
		}
	}
}

// decodeEscape decodes the escape sequence starting with the backslash at
// src[i]. It returns its length, the byte it stands for, or a message.
func decodeEscape(src string, i int) (n int, ch byte, msg string) {
	if i+1 >= len(src) || src[i+1] == '\n' {
		return 1, 0, "unterminated string literal"
	}
	c := src[i+1]
	switch c {
	case 'n':
		return 2, '\n', ""
	case 't':
		return 2, '\t', ""
	case 'r':
		return 2, '\r', ""
	case 'a':
		return 2, '\a', ""
	case 'b':
		return 2, '\b', ""
	case 'f':
		return 2, '\f', ""
	case 'v':
		return 2, '\v', ""
	case 'e':
		return 2, 0x1b, ""
	case '\\', '"', '\'', '?':
		return 2, c, ""
	case 'x':
		j := i + 2
		var v int
		for j < len(src) && j < i+4 && isHex(src[j]) {
			v = v*16 + int(digitValue(src[j]))
			j++
		}
		if j == i+2 {
			return 2, 0, `\x must be followed by one or two hexadecimal digits`
		}
		return j - i, byte(v), ""
	case '0', '1', '2', '3', '4', '5', '6', '7':
		j := i + 1
		var v int
		for j < len(src) && j < i+4 && src[j] >= '0' && src[j] <= '7' {
			v = v*8 + int(src[j]-'0')
			j++
		}
		if v > 0xff {
			return j - i, 0, fmt.Sprintf(`octal escape \%s is out of range (more than \377)`, src[i+1:j])
		}
		return j - i, byte(v), ""
	default:
		if c < 0x20 || c >= 0x7f {
			return 2, 0, "unknown escape sequence in string literal"
		}
		return 2, 0, fmt.Sprintf(`unknown escape sequence \%c`, c)
	}
}

func isDecimal(c byte) bool    { return c >= '0' && c <= '9' }
func isHex(c byte) bool        { return isDecimal(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') }
func isLetter(c byte) bool     { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isIdentStart(c byte) bool { return isLetter(c) || c == '_' }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDecimal(c) }

// ParseUint decodes text as an integer literal of the language without a
// suffix ("100", "1e6", "1_000_000", "0x10"), for numbers that attach
// points spell (hardware:cache-misses:1e6), so that they follow the same
// rules as numbers in a program.
func ParseUint(text string) (uint64, error) {
	if text == "" || !isDecimal(text[0]) {
		return 0, fmt.Errorf("%q is not a whole number", text)
	}
	end, lit, msg, _ := scanInt(text, 0)
	switch {
	case msg != "":
		return 0, errors.New(msg)
	case end != len(text) || lit.suffix != "":
		return 0, fmt.Errorf("%q is not a whole number", text)
	}
	return lit.value, nil
}
