package format

import (
	"fmt"
	"strconv"
	"strings"
)

// Value is one decoded event or map value, as the runtime hands it to this
// package. The dynamic type is one of:
//
//   - int64: any signed integer (narrower kernel types are sign-extended);
//   - uint64: any unsigned integer (narrower types are zero-extended);
//   - string: a string, already cut at its first NUL byte;
//   - bool: a boolean (bpftrace 0.24+ prints true/false);
//   - []byte: a buffer made by buf(), for %r, %rx and %rh;
//   - TupleValue: a tuple, whose elements are Values again;
//   - RecordValue: a record, a tuple with named fields;
//   - Stack: a stack trace (kstack).
//
// Any other dynamic type is printed with the fallback of FormatValue.
type Value any

// TupleValue is a tuple value such as (1, "a"). bpftrace prints it as
// "(1, a)": elements separated by ", ", strings unquoted.
type TupleValue []Value

// RecordValue is a record such as (a=1, b="x"), which bpftrace prints as
// "{ .a = 1, .b = x }" (strings unquoted, as in tuples).
type RecordValue struct {
	Names  []string
	Values []Value
}

// Stack is a stack trace, its frames already rendered ("vfs_read+5", or
// "ffffffff812345f5 vfs_read+5" in perf mode), innermost first.
//
// bpftrace 0.17 prints a stack as a newline followed by each frame on a
// line of its own, indented by eight spaces where the stack is a value
// (printf's %s, print(), a map's value, a tuple's element) and by four
// where it is a map key; perf-mode stacks are indented by a tab in both
// places. (Verified byte for byte against the installed bpftrace 0.17;
// bpftrace's documentation shows frames on their own lines without fixing
// the indentation.)
type Stack struct {
	Frames []string
	// Tab selects the perf-mode indentation.
	Tab bool
}

// String renders the stack as a value, the way printf's %s prints it.
func (s Stack) String() string { return s.text("        ") }

// keyText renders the stack as a map key element.
func (s Stack) keyText() string { return s.text("    ") }

func (s Stack) text(indent string) string {
	if s.Tab {
		indent = "\t"
	}
	var b strings.Builder
	b.WriteByte('\n')
	for _, f := range s.Frames {
		b.WriteString(indent)
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String()
}

// FormatValue renders v the way bpftrace prints a map key element, a map
// value or print(v): integers in decimal, strings as their raw bytes
// without quotes, tuples as "(a, b)".
func FormatValue(v Value) string {
	var b strings.Builder
	appendValue(&b, v)
	return b.String()
}

func appendValue(b *strings.Builder, v Value) {
	switch x := v.(type) {
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case string:
		b.WriteString(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case []byte:
		b.WriteString(formatBuffer(x, 0))
	case Stack:
		b.WriteString(x.String())
	case TupleValue:
		b.WriteByte('(')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			appendValue(b, e)
		}
		b.WriteByte(')')
	case RecordValue:
		if len(x.Values) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{ ")
		for i, e := range x.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("." + x.Names[i] + " = ")
			appendValue(b, e)
		}
		b.WriteString(" }")
	case nil:
		// Nothing: an absent value prints as the empty string.
	default:
		b.WriteString(fmt.Sprint(x))
	}
}

// intBits returns the 64-bit two's complement pattern of an integer-like
// Value (int64, uint64 or bool) and whether v was one.
func intBits(v Value) (uint64, bool) {
	switch x := v.(type) {
	case int64:
		return uint64(x), true
	case uint64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// formatBuffer renders a buffer for %r (mode 0), %rx (mode 'x') and %rh
// (mode 'h'), following bpftrace's documentation: %r keeps printable ASCII
// and writes every other byte as \xNN; %rx writes every byte as \xNN; %rh
// writes every byte as two hex digits, separated by spaces.
func formatBuffer(buf []byte, mode byte) string {
	const hexDigits = "0123456789abcdef"
	var b strings.Builder
	for i, c := range buf {
		switch {
		case mode == 'h':
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		case mode == 0 && c >= 0x20 && c <= 0x7e:
			b.WriteByte(c)
		default:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
