package format

import (
	"fmt"
	"strconv"
	"strings"
)

// ArgKind says what kind of argument a printf conversion consumes; the
// checker uses it to type-check printf calls.
type ArgKind int

// The argument kinds of printf conversions.
const (
	// KindInt is consumed by %d %i %u %x %X %o: any integer.
	KindInt ArgKind = iota + 1
	// KindString is consumed by %s: a string (an integer is printed in
	// decimal, as bpftrace 0.24+ does for enums and other values).
	KindString
	// KindChar is consumed by %c: an integer, printed as one byte.
	KindChar
	// KindPointer is consumed by %p: an integer, printed as an address.
	KindPointer
	// KindBuffer is consumed by %r, %rx and %rh: a buffer made by buf().
	KindBuffer
)

// String returns a short name for the kind, for diagnostics.
func (k ArgKind) String() string {
	switch k {
	case KindInt:
		return "integer"
	case KindString:
		return "string"
	case KindChar:
		return "char"
	case KindPointer:
		return "pointer"
	case KindBuffer:
		return "buffer"
	}
	return "ArgKind(" + strconv.Itoa(int(k)) + ")"
}

// Conversion is one parsed conversion specification of a printf format,
// such as "%-08.3lx".
type Conversion struct {
	// Offset is the byte offset of the '%' in the format string.
	Offset int
	// End is the byte offset just past the conversion.
	End int
	// Verb is the conversion character: one of "diuxXoscpr".
	Verb byte
	// Mode is the suffix of %r: 0 for %r, 'x' for %rx, 'h' for %rh.
	Mode byte
	// Flags holds the flag characters ("-0+ #") in the order written.
	Flags string
	// Width is the minimum field width, or -1 when absent.
	Width int
	// Precision is the precision, or -1 when absent ("%.d" means 0).
	Precision int
	// Length is the length modifier: "", "hh", "h", "l", "ll", "z" or "j".
	Length string
	// Kind is what the conversion consumes.
	Kind ArgKind
}

// Has reports whether flag (one of '-', '0', '+', ' ', '#') was given.
func (c Conversion) Has(flag byte) bool {
	return strings.IndexByte(c.Flags, flag) >= 0
}

// Printf is a parsed printf format: literal text and the conversions that
// consume arguments. It is immutable and safe for concurrent use.
type Printf struct {
	format string
	lits   []string // len(convs)+1 literal pieces, "%%" already folded to "%"
	convs  []Conversion
}

// ParseError is a problem in a printf format. Offset is the byte offset of
// the offending '%' in the format string, so a checker can put a caret
// under it.
type ParseError struct {
	Offset int
	Msg    string
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid printf format at byte %d: %s", e.Offset, e.Msg)
}

const supportedConversions = "%d %i %u %x %X %o %s %c %p %r %rx %rh and %%"

// ParsePrintf parses a printf format at compile time.
//
// A conversion is '%', then any of the flags "-0+ #", an optional decimal
// width, an optional '.' and decimal precision, an optional length modifier
// (hh h l ll z j) and a conversion character (d i u x X o s c p, or r, rx,
// rh for buffers). "%%" is a literal percent sign and consumes no argument.
// An unknown conversion character, a '*' width or precision, a length
// modifier on %s or %r, and a lone '%' at the end are errors.
//
// bpftrace 0.17 instead prints an unknown conversion such as "%q" literally
// and does not recognise the '+', ' ' and '#' flags or %i at all; gotrace
// rejects the former at compile time and formats the latter as C does.
func ParsePrintf(format string) (*Printf, error) {
	p := &Printf{format: format}
	var lit strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			lit.WriteByte(c)
			i++
			continue
		}
		conv, err := parseConversion(format, i)
		if err != nil {
			return nil, err
		}
		i = conv.End
		if conv.Verb == '%' {
			lit.WriteByte('%')
			continue
		}
		p.lits = append(p.lits, lit.String())
		lit.Reset()
		p.convs = append(p.convs, conv)
	}
	p.lits = append(p.lits, lit.String())
	return p, nil
}

// parseConversion parses the conversion whose '%' is at format[start].
func parseConversion(format string, start int) (Conversion, error) {
	c := Conversion{Offset: start, Width: -1, Precision: -1}
	fail := func(msg string, args ...any) (Conversion, error) {
		return Conversion{}, &ParseError{Offset: start, Msg: fmt.Sprintf(msg, args...)}
	}
	j := start + 1
	if j == len(format) {
		return fail(`the format ends with a lone "%%"; write "%%%%" for a percent sign`)
	}
	for j < len(format) && strings.IndexByte("-0+ #", format[j]) >= 0 {
		j++
	}
	c.Flags = format[start+1 : j]
	if j < len(format) && format[j] == '*' {
		return fail(`a "*" width is not supported; write the width as a number in the format`)
	}
	if n, k := digits(format, j); k > j {
		c.Width, j = n, k
	}
	if j < len(format) && format[j] == '.' {
		j++
		if j < len(format) && format[j] == '*' {
			return fail(`a "*" precision is not supported; write the precision as a number in the format`)
		}
		c.Precision, j = digits(format, j)
	}
	for _, l := range []string{"hh", "h", "ll", "l", "z", "j"} {
		if strings.HasPrefix(format[j:], l) {
			c.Length = l
			j += len(l)
			break
		}
	}
	if j == len(format) {
		return fail("the conversion %q is incomplete: the format ends before its conversion character", format[start:j])
	}
	c.Verb = format[j]
	j++
	switch c.Verb {
	case '%':
	case 'd', 'i', 'u', 'x', 'X', 'o':
		c.Kind = KindInt
	case 'c':
		c.Kind = KindChar
	case 'p':
		c.Kind = KindPointer
	case 's':
		c.Kind = KindString
	case 'r':
		c.Kind = KindBuffer
		if j < len(format) && (format[j] == 'x' || format[j] == 'h') {
			c.Mode = format[j]
			j++
		}
	case 'f', 'F', 'e', 'E', 'g', 'G', 'a', 'A':
		return fail("the floating-point conversion %q is not supported: there are no floating-point values; supported conversions are %s", format[start:j], supportedConversions)
	case 'n':
		return fail("the conversion %q is not supported; supported conversions are %s", format[start:j], supportedConversions)
	default:
		return fail("unknown conversion %q; supported conversions are %s", format[start:j], supportedConversions)
	}
	if c.Length != "" && (c.Kind == KindString || c.Kind == KindBuffer) {
		return fail("the length modifier %q cannot be used with %%%c", c.Length, c.Verb)
	}
	c.End = j
	return c, nil
}

// digits parses a run of decimal digits at s[i:] and returns its value
// (saturated far above any sane width) and the index after it.
func digits(s string, i int) (int, int) {
	n := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<24 {
			n = n*10 + int(s[i]-'0')
		}
	}
	return n, i
}

// Format returns the format string p was parsed from.
func (p *Printf) Format() string { return p.format }

// Args returns the conversions that consume an argument, one per argument
// in order; "%%" is not among them. The slice is a copy.
func (p *Printf) Args() []Conversion {
	return append([]Conversion(nil), p.convs...)
}

// Render formats args the way bpftrace's printf does; args[i] is consumed
// by Args()[i].
//
// Integer conversions follow C on LP64, where bpftrace passes every integer
// as a 64-bit value but a conversion without a length modifier reads a C
// int: %d %i print the low 32 bits as a signed int, %u %x %X %o the low 32
// bits as unsigned (so %x of -1 is "ffffffff" and %d of 1<<40 is "0" in
// bpftrace 0.17 and 0.26 alike); hh and h narrow to 8 and 16 bits; l, ll, z
// and j use all 64 bits (%lx of -1 is "ffffffffffffffff", %lu of -1 is
// 18446744073709551615). %c prints the low byte (a NUL byte prints nothing,
// as in bpftrace 0.17). %p prints like glibc: "0x" and lower-case hex, or
// "(nil)" for 0. Flags, width and precision behave as in C.
//
// A missing argument renders as "%!d(MISSING)" and an argument of the wrong
// kind as "%!d(string=abc)", like Go's fmt; the checker rules both out.
func (p *Printf) Render(args []Value) string {
	var b strings.Builder
	for i, c := range p.convs {
		b.WriteString(p.lits[i])
		if i >= len(args) {
			b.WriteString("%!" + verbText(c) + "(MISSING)")
			continue
		}
		appendConversion(&b, c, args[i])
	}
	b.WriteString(p.lits[len(p.convs)])
	return b.String()
}

func verbText(c Conversion) string {
	if c.Mode != 0 {
		return string([]byte{c.Verb, c.Mode})
	}
	return string(c.Verb)
}

func appendBadArg(b *strings.Builder, c Conversion, arg Value) {
	fmt.Fprintf(b, "%%!%s(%T=%v)", verbText(c), arg, arg)
}

func appendConversion(b *strings.Builder, c Conversion, arg Value) {
	switch c.Kind {
	case KindInt:
		bits, ok := intBits(arg)
		if !ok {
			appendBadArg(b, c, arg)
			return
		}
		switch c.Verb {
		case 'd', 'i':
			v := signExtend(bits, c.Length)
			mag := uint64(v)
			if v < 0 {
				mag = -mag
			}
			appendInteger(b, c, v < 0, mag, 10, true, "")
		case 'u':
			appendInteger(b, c, false, truncate(bits, c.Length), 10, false, "")
		case 'o':
			appendInteger(b, c, false, truncate(bits, c.Length), 8, false, "")
		case 'x':
			appendInteger(b, c, false, truncate(bits, c.Length), 16, false, "0x")
		case 'X':
			appendInteger(b, c, false, truncate(bits, c.Length), 16, false, "0X")
		}
	case KindChar:
		bits, ok := intBits(arg)
		if !ok {
			appendBadArg(b, c, arg)
			return
		}
		if byte(bits) == 0 {
			// C writes the NUL byte, and bpftrace cuts its output there.
			if !c.Has('-') && c.Width > 1 {
				b.WriteString(strings.Repeat(" ", c.Width-1))
			}
			return
		}
		appendPadded(b, c, string([]byte{byte(bits)}))
	case KindPointer:
		bits, ok := intBits(arg)
		if !ok {
			appendBadArg(b, c, arg)
			return
		}
		if bits == 0 {
			appendPadded(b, c, "(nil)")
			return
		}
		c.Flags += "#"
		appendInteger(b, c, false, bits, 16, false, "0x")
	case KindString:
		s, ok := arg.(string)
		if !ok {
			s = FormatValue(arg)
		}
		if c.Precision >= 0 && c.Precision < len(s) {
			s = s[:c.Precision]
		}
		appendPadded(b, c, s)
	case KindBuffer:
		var buf []byte
		switch x := arg.(type) {
		case []byte:
			buf = x
		case string:
			buf = []byte(x)
		default:
			appendBadArg(b, c, arg)
			return
		}
		appendPadded(b, c, formatBuffer(buf, c.Mode))
	}
}

// signExtend narrows bits to the C type a signed conversion reads.
func signExtend(bits uint64, length string) int64 {
	switch length {
	case "hh":
		return int64(int8(bits))
	case "h":
		return int64(int16(bits))
	case "":
		return int64(int32(bits))
	}
	return int64(bits)
}

// truncate narrows bits to the C type an unsigned conversion reads.
func truncate(bits uint64, length string) uint64 {
	switch length {
	case "hh":
		return uint64(uint8(bits))
	case "h":
		return uint64(uint16(bits))
	case "":
		return uint64(uint32(bits))
	}
	return bits
}

// appendInteger formats an integer with C's rules for flags, width and
// precision. altPrefix is what '#' puts before a non-zero hex value.
func appendInteger(b *strings.Builder, c Conversion, neg bool, mag uint64, base int, signed bool, altPrefix string) {
	digits := strconv.FormatUint(mag, base)
	if altPrefix == "0X" {
		digits = strings.ToUpper(digits)
	}
	if c.Precision == 0 && mag == 0 {
		digits = ""
	} else if c.Precision > len(digits) {
		digits = strings.Repeat("0", c.Precision-len(digits)) + digits
	}
	prefix := ""
	switch {
	case signed && neg:
		prefix = "-"
	case signed && c.Has('+'):
		prefix = "+"
	case signed && c.Has(' '):
		prefix = " "
	case !signed && c.Has('#') && base == 8:
		if digits == "" || digits[0] != '0' {
			digits = "0" + digits
		}
	case !signed && c.Has('#') && base == 16 && mag != 0:
		prefix = altPrefix
	}
	n := len(prefix) + len(digits)
	switch {
	case c.Width <= n:
		b.WriteString(prefix)
		b.WriteString(digits)
	case c.Has('-'):
		b.WriteString(prefix)
		b.WriteString(digits)
		b.WriteString(strings.Repeat(" ", c.Width-n))
	case c.Has('0') && c.Precision < 0:
		b.WriteString(prefix)
		b.WriteString(strings.Repeat("0", c.Width-n))
		b.WriteString(digits)
	default:
		b.WriteString(strings.Repeat(" ", c.Width-n))
		b.WriteString(prefix)
		b.WriteString(digits)
	}
}

// appendPadded writes s padded with spaces to the field width; the '0'
// flag does not apply to strings, characters or "(nil)" (glibc ignores it).
func appendPadded(b *strings.Builder, c Conversion, s string) {
	pad := c.Width - len(s)
	if pad > 0 && !c.Has('-') {
		b.WriteString(strings.Repeat(" ", pad))
	}
	b.WriteString(s)
	if pad > 0 && c.Has('-') {
		b.WriteString(strings.Repeat(" ", pad))
	}
}
