package stdlib

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/lang/types"
)

func TestParseIPLiteral(t *testing.T) {
	tests := []struct {
		in   string
		want []byte // nil: an error
	}{
		{"127.0.0.1", []byte{127, 0, 0, 1}},
		{"0.0.0.0", []byte{0, 0, 0, 0}},
		{"255.255.255.255", []byte{255, 255, 255, 255}},
		{"::1", []byte{15: 1}},
		{"::", make([]byte, 16)},
		{"fe80::1:2", []byte{0: 0xfe, 1: 0x80, 13: 1, 15: 2}},
		{"2001:db8::ff00:42:8329", []byte{0x20, 0x01, 0x0d, 0xb8, 10: 0xff, 11: 0, 13: 0x42, 14: 0x83, 15: 0x29}},
		// A ':' makes it IPv6, even with an IPv4 address inside.
		{"::ffff:1.2.3.4", []byte{10: 0xff, 11: 0xff, 12: 1, 13: 2, 14: 3, 15: 4}},
		{"", nil},
		{"abc", nil},
		{"1.2.3", nil},
		{"1.2.3.4.5", nil},
		{"256.0.0.1", nil},
		{"01.2.3.4", nil}, // inet_pton rejects leading zeros too
		{"1:2:3:4:5:6:7:8:9", nil},
		{"fe80::1%eth0", nil}, // zones are not addresses
		{" 1.2.3.4", nil},
	}
	for _, tt := range tests {
		got, err := parseIPLiteral(tt.in)
		switch {
		case tt.want == nil && err == nil:
			t.Errorf("parseIPLiteral(%q) = %v, want an error", tt.in, got)
		case tt.want != nil && err != nil:
			t.Errorf("parseIPLiteral(%q): %v", tt.in, err)
		case !bytes.Equal(got, tt.want):
			t.Errorf("parseIPLiteral(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestFormatInet checks how ntop's value prints: the family in the first 8
// bytes, then the address.
func TestFormatInet(t *testing.T) {
	lib := New()
	typ := &types.Type{Kind: types.Special, Name: "inet", Size: 24}
	value := func(family uint64, addr []byte) []byte {
		b := make([]byte, 24)
		binary.LittleEndian.PutUint64(b, family)
		copy(b[8:], addr)
		return b
	}
	tests := []struct {
		raw  []byte
		want string
	}{
		{value(unix.AF_INET, []byte{127, 0, 0, 1}), "127.0.0.1"},
		{value(unix.AF_INET, []byte{10, 200, 3, 255}), "10.200.3.255"},
		{value(unix.AF_INET6, []byte{15: 1}), "::1"},
		{value(unix.AF_INET6, []byte{10: 0xff, 11: 0xff, 12: 1, 13: 2, 14: 3, 15: 4}), "::ffff:1.2.3.4"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(lib.FormatSpecial(typ, tt.raw)); got != tt.want {
			t.Errorf("inet % x: got %q, want %q", tt.raw, got, tt.want)
		}
	}
}
