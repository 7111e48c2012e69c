package stdlib

import (
	"bytes"
	"testing"
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
