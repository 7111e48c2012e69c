package format

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// The expected outputs come from two oracles, named in src:
//
//	"0.17":  bpftrace v0.17.0, printf("<format>\n", arg) in a BEGIN probe;
//	"glibc": C printf, for flags bpftrace 0.17 does not parse ('+', ' ',
//	         '#') and %i, which bpftrace 0.24+ accepts and renders as C.
func TestPrintfRender(t *testing.T) {
	const neg40 = -1 << 40
	tests := []struct {
		src    string
		format string
		args   []Value
		want   string
	}{
		// The tricky cases of the brief.
		{"0.17", "%-5d|", []Value{int64(42)}, "42   |"},
		{"0.17", "%05d", []Value{int64(42)}, "00042"},
		{"glibc", "%+d", []Value{int64(42)}, "+42"},
		{"0.17", "%x", []Value{int64(-1)}, "ffffffff"},
		{"0.17", "%hhu", []Value{int64(300)}, "44"},
		{"0.17", "%10s", []Value{"abc"}, "       abc"},
		{"0.17", "%-10s|", []Value{"abc"}, "abc       |"},
		{"0.17", "%.3s", []Value{"abcdef"}, "abc"},
		{"0.17", "%c", []Value{int64(65)}, "A"},
		{"0.17", "%p", []Value{int64(4096)}, "0x1000"},

		// No length modifier reads a C int: the low 32 bits.
		{"0.17", "%d", []Value{int64(1 << 40)}, "0"},
		{"0.17", "%d", []Value{int64(-7)}, "-7"},
		{"0.17", "%u", []Value{int64(-1)}, "4294967295"},
		{"0.17", "%u", []Value{int64(4294967296)}, "0"},
		{"0.17", "%o", []Value{int64(-1)}, "37777777777"},
		{"0.17", "%X", []Value{int64(-255)}, "FFFFFF01"},
		{"0.17", "%x", []Value{uint64(255)}, "ff"},
		{"0.17", "%o", []Value{int64(8)}, "10"},
		{"0.17", "%X", []Value{int64(255)}, "FF"},
		// l, ll, z, j read all 64 bits.
		{"0.17", "%ld", []Value{int64(1 << 40)}, "1099511627776"},
		{"0.17", "%ld", []Value{int64(neg40)}, "-1099511627776"},
		{"0.17", "%lx", []Value{int64(1 << 40)}, "10000000000"},
		{"0.17", "%lx", []Value{int64(-1)}, "ffffffffffffffff"},
		{"0.17", "%llx", []Value{int64(-1)}, "ffffffffffffffff"},
		{"0.17", "%lu", []Value{int64(-1)}, "18446744073709551615"},
		{"0.17", "%llu", []Value{int64(-1)}, "18446744073709551615"},
		{"0.17", "%lu", []Value{int64(4294967296)}, "4294967296"},
		{"0.17", "%ld", []Value{int64(-1)}, "-1"},
		{"0.17", "%lld", []Value{int64(-5)}, "-5"},
		{"0.17", "%zd", []Value{int64(-1)}, "-1"},
		{"0.17", "%jd", []Value{int64(-1)}, "-1"},
		{"0.17", "%lo", []Value{int64(-1)}, "1777777777777777777777"},
		{"0.17", "%lX", []Value{int64(-255)}, "FFFFFFFFFFFFFF01"},
		{"0.17", "%lu", []Value{uint64(1<<64 - 1)}, "18446744073709551615"},
		// h and hh narrow to 16 and 8 bits.
		{"0.17", "%hd", []Value{int64(70000)}, "4464"},
		{"0.17", "%hx", []Value{int64(-1)}, "ffff"},
		{"0.17", "%hhx", []Value{int64(-1)}, "ff"},
		{"0.17", "%hhd", []Value{int64(200)}, "-56"},
		{"0.17", "%hd", []Value{int64(-1)}, "-1"},
		{"0.17", "%hu", []Value{int64(-1)}, "65535"},
		{"0.17", "%hhu", []Value{int64(-1)}, "255"},
		// Width, precision and the '0' and '-' flags.
		{"0.17", "%05d", []Value{int64(-42)}, "-0042"},
		{"0.17", "%.4d", []Value{int64(-42)}, "-0042"},
		{"0.17", "%.5d", []Value{int64(42)}, "00042"},
		{"0.17", "%8.3d", []Value{int64(42)}, "     042"},
		{"0.17", "%08.3d", []Value{int64(42)}, "     042"},
		{"0.17", "%-08d|", []Value{int64(42)}, "42      |"},
		{"0.17", "%-05d|", []Value{int64(7)}, "7    |"},
		{"0.17", "%08x", []Value{int64(255)}, "000000ff"},
		{"0.17", "%08.3x", []Value{int64(255)}, "     0ff"},
		{"0.17", "%.0d", []Value{int64(0)}, ""},
		{"0.17", "%5.0d|", []Value{int64(0)}, "     |"},
		{"0.17", "%5.3s", []Value{"abcdef"}, "  abc"},
		{"0.17", "%.0s", []Value{"abc"}, ""},
		{"0.17", "%05s|", []Value{"ab"}, "   ab|"},
		// %c.
		{"0.17", "%5c", []Value{int64(65)}, "    A"},
		{"0.17", "%-3c|", []Value{int64(66)}, "B  |"},
		{"0.17", "%05c|", []Value{int64(65)}, "    A|"},
		{"0.17", "%c", []Value{int64(321)}, "A"},
		{"0.17", "%5.1c", []Value{int64(65)}, "    A"},
		{"0.17", "%.3c", []Value{int64(65)}, "A"},
		{"0.17", "a%cb|%s|", []Value{int64(0), "x"}, "ab|x|"},
		// %p.
		{"0.17", "%p", []Value{int64(0)}, "(nil)"},
		{"0.17", "%p", []Value{int64(-1)}, "0xffffffffffffffff"},
		{"0.17", "%p", []Value{int64(65535)}, "0xffff"},
		{"0.17", "%20p", []Value{int64(4096)}, "              0x1000"},
		{"0.17", "%-20p|", []Value{int64(4096)}, "0x1000              |"},
		{"0.17", "%020p", []Value{int64(4096)}, "0x000000000000001000"},
		{"0.17", "%.8p", []Value{int64(4096)}, "0x00001000"},
		{"0.17", "%020p", []Value{int64(0)}, "               (nil)"},
		// Several conversions and %%.
		{"0.17", "%s|%d", []Value{"ab", int64(5)}, "ab|5"},
		{"0.17", "%5s|%-4d|%c", []Value{"ab", int64(5), int64(66)}, "   ab|5   |B"},
		{"0.17", "100%% %d", []Value{int64(5)}, "100% 5"},
		// bpftrace 0.17 prints "5%%" here and "100%%" for a printf without
		// arguments (it skips formatting); 0.24+ and C print one '%'.
		{"glibc", "%d%%", []Value{int64(5)}, "5%"},
		{"glibc", "100%%", nil, "100%"},
		{"glibc", "%5%|", nil, "%|"},
		// Flags bpftrace 0.17 does not parse, as C renders them.
		{"glibc", "%+5d", []Value{int64(42)}, "  +42"},
		{"glibc", "% d", []Value{int64(42)}, " 42"},
		{"glibc", "% 05d", []Value{int64(42)}, " 0042"},
		{"glibc", "%+05d", []Value{int64(42)}, "+0042"},
		{"glibc", "%+.3d", []Value{int64(42)}, "+042"},
		{"glibc", "% d", []Value{int64(-42)}, "-42"},
		{"glibc", "%+d", []Value{int64(0)}, "+0"},
		{"glibc", "%#x", []Value{int64(255)}, "0xff"},
		{"glibc", "%#5x", []Value{int64(255)}, " 0xff"},
		{"glibc", "%#08x", []Value{int64(255)}, "0x0000ff"},
		{"glibc", "%-#8x|", []Value{int64(255)}, "0xff    |"},
		{"glibc", "%#X", []Value{int64(255)}, "0XFF"},
		{"glibc", "%#x", []Value{int64(0)}, "0"},
		{"glibc", "%#o", []Value{int64(8)}, "010"},
		{"glibc", "%#o", []Value{int64(0)}, "0"},
		{"glibc", "%#.3o", []Value{int64(8)}, "010"},
		{"glibc", "%#.0o", []Value{int64(0)}, "0"},
		{"glibc", "%.0x", []Value{int64(0)}, ""},
		{"glibc", "%#.5x", []Value{int64(255)}, "0x000ff"},
		{"glibc", "%+u", []Value{int64(42)}, "42"},
		{"glibc", "% u", []Value{int64(42)}, "42"},
		{"glibc", "%+x", []Value{int64(42)}, "2a"},
		{"glibc", "%-+5d|", []Value{int64(42)}, "+42  |"},
		{"glibc", "%0-5d|", []Value{int64(42)}, "42   |"},
		{"glibc", "%08.3d", []Value{int64(-42)}, "    -042"},
		{"glibc", "%-8.3d|", []Value{int64(-42)}, "-042    |"},
		{"glibc", "%08.0d", []Value{int64(0)}, "        "},
		{"glibc", "%i", []Value{int64(-7)}, "-7"},
		{"glibc", "%ld", []Value{int64(-1 << 63)}, "-9223372036854775808"},
		// Buffers, per bpftrace's documentation of %r, %rx, %rh.
		{"docs", "%r", []Value{[]byte("hi\n\x00")}, `hi\x0a\x00`},
		{"docs", "%rx", []Value{[]byte("hi")}, `\x68\x69`},
		{"docs", "%rh", []Value{[]byte{0x0a, 0xfe}}, "0a fe"},
		// Values the checker rules out still render visibly.
		{"go", "%d", []Value{"abc"}, "%!d(string=abc)"},
		{"go", "%d %s", []Value{int64(1)}, "1 %!s(MISSING)"},
		{"go", "%s", []Value{int64(-3)}, "-3"},
		{"go", "%s", []Value{TupleValue{int64(1), "a"}}, "(1, a)"},
		{"go", "%d", []Value{true}, "1"},
	}
	for _, tt := range tests {
		p, err := ParsePrintf(tt.format)
		if err != nil {
			t.Errorf("ParsePrintf(%q): %v", tt.format, err)
			continue
		}
		if got := p.Render(tt.args); got != tt.want {
			t.Errorf("[%s] printf(%q, %v) = %q, want %q", tt.src, tt.format, tt.args, got, tt.want)
		}
	}
}

func TestParsePrintfArgs(t *testing.T) {
	p, err := ParsePrintf("a %-08.3lx %% %s %c %p %rx %rh %r %hhu %i%5.2d")
	if err != nil {
		t.Fatal(err)
	}
	want := []Conversion{
		{Offset: 2, End: 10, Verb: 'x', Flags: "-0", Width: 8, Precision: 3, Length: "l", Kind: KindInt},
		{Offset: 14, End: 16, Verb: 's', Width: -1, Precision: -1, Kind: KindString},
		{Offset: 17, End: 19, Verb: 'c', Width: -1, Precision: -1, Kind: KindChar},
		{Offset: 20, End: 22, Verb: 'p', Width: -1, Precision: -1, Kind: KindPointer},
		{Offset: 23, End: 26, Verb: 'r', Mode: 'x', Width: -1, Precision: -1, Kind: KindBuffer},
		{Offset: 27, End: 30, Verb: 'r', Mode: 'h', Width: -1, Precision: -1, Kind: KindBuffer},
		{Offset: 31, End: 33, Verb: 'r', Width: -1, Precision: -1, Kind: KindBuffer},
		{Offset: 34, End: 38, Verb: 'u', Width: -1, Precision: -1, Length: "hh", Kind: KindInt},
		{Offset: 39, End: 41, Verb: 'i', Width: -1, Precision: -1, Kind: KindInt},
		{Offset: 41, End: 46, Verb: 'd', Width: 5, Precision: 2, Kind: KindInt},
	}
	if got := p.Args(); !reflect.DeepEqual(got, want) {
		t.Errorf("Args() =\n%+v\nwant\n%+v", got, want)
	}
	if p.Format() != "a %-08.3lx %% %s %c %p %rx %rh %r %hhu %i%5.2d" {
		t.Errorf("Format() = %q", p.Format())
	}
	if n := len(mustParse(t, "100%% done").Args()); n != 0 {
		t.Errorf("%%%% consumed %d arguments", n)
	}
	if c := mustParse(t, "%.d").Args()[0]; c.Precision != 0 {
		t.Errorf(`"%%.d" precision = %d, want 0`, c.Precision)
	}
}

func mustParse(t *testing.T, format string) *Printf {
	t.Helper()
	p, err := ParsePrintf(format)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParsePrintfErrors(t *testing.T) {
	tests := []struct {
		format string
		offset int
		msg    string // a substring of the message
	}{
		{"%q", 0, `unknown conversion "%q"`},
		{"ab %q cd", 3, `unknown conversion "%q"`},
		{"%-5q", 0, `unknown conversion "%-5q"`},
		{"abc%", 3, `lone "%"`},
		{"%d %", 3, `lone "%"`},
		{"x %5", 2, `incomplete`},
		{"%l", 0, `incomplete`},
		{"%*d", 0, `"*" width`},
		{"%.*d", 0, `"*" precision`},
		{"%f", 0, `floating-point`},
		{"%ls", 0, `length modifier "l" cannot be used with %s`},
		{"%hr", 0, `length modifier "h" cannot be used with %r`},
		{"%n", 0, `not supported`},
		{"%Ld", 0, `unknown conversion "%L"`},
	}
	for _, tt := range tests {
		_, err := ParsePrintf(tt.format)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParsePrintf(%q) error = %v, want a *ParseError", tt.format, err)
			continue
		}
		if pe.Offset != tt.offset || !strings.Contains(pe.Msg, tt.msg) {
			t.Errorf("ParsePrintf(%q) = offset %d %q, want offset %d and %q", tt.format, pe.Offset, pe.Msg, tt.offset, tt.msg)
		}
		if !strings.Contains(err.Error(), pe.Msg) {
			t.Errorf("Error() %q lacks the message", err.Error())
		}
	}
}
