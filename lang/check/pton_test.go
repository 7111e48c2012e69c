package check_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
)

// TestPtonFolds checks what the checker computes from pton()'s byte arrays,
// which exist only at compile time: casts, indexes, comparisons and sizes
// are constants.
func TestPtonFolds(t *testing.T) {
	loopback := int64(binary.NativeEndian.Uint32([]byte{127, 0, 0, 1}))
	tests := []struct {
		src   string
		typ   string
		value int64
	}{
		// The bytes reinterpreted in the machine's byte order, as
		// bpftrace documents: 0x100007f on little-endian machines.
		{`(uint32)pton("127.0.0.1")`, "uint32", loopback},
		{`(uint32)(pton("127.0.0.1"))`, "uint32", loopback},
		{`(int32)pton("255.255.255.255")`, "int32", -1},
		{`pton("::1")[15]`, "uint8", 1},
		{`pton("::1")[0]`, "uint8", 0},
		{`pton("10.0.0.255")[3]`, "uint8", 255},
		{`pton("10.0.0.255")[1 + 2]`, "uint8", 255},
		{`pton("1.2.3.4") == pton("1.2.3.4")`, "uint64", 1},
		{`pton("1.2.3.4") != pton("1.2.3.4")`, "uint64", 0},
		{`(pton("::1")) == pton("::2")`, "uint64", 0},
		{`pton("::1") != pton("::2")`, "uint64", 1},
		{`sizeof(pton("::1"))`, "uint64", 16},
		{`sizeof(pton("1.2.3.4"))`, "uint64", 4},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			prog, info := checkOK(t, `BEGIN { $v = `+tt.src+`; }`)
			e := assigned(prog)["$v"]
			if got := typeString(info.Types[e]); got != tt.typ {
				t.Errorf("type %s, want %s", got, tt.typ)
			}
			if got, ok := info.Consts[e]; !ok || got != tt.value {
				t.Errorf("value %d (constant: %v), want %d", got, ok, tt.value)
			}
		})
	}
}

// TestPtonBytes checks the bytes recorded for pton() calls, which ntop()
// and comparisons with arrays read at run time use.
func TestPtonBytes(t *testing.T) {
	prog, info := checkOK(t, `BEGIN { printf("%s %s\n", ntop(pton("192.168.1.2")), ntop(10, pton("fe80::2"))); }`)
	want := map[string][]byte{
		"192.168.1.2": {192, 168, 1, 2},
		"fe80::2":     {0: 0xfe, 1: 0x80, 15: 2},
	}
	seen := 0
	ast.Inspect(prog.Probes[0], func(n ast.Node) bool {
		if c, ok := n.(*ast.Call); ok && c.Name == "pton" {
			seen++
			arg := info.Strings[c.Args[0]]
			if got := info.Bytes[c]; !bytes.Equal(got, want[arg]) {
				t.Errorf("pton(%q) = %v, want %v", arg, got, want[arg])
			}
			if typ, wantType := typeString(info.Types[c]), map[int]string{4: "uint8[4]", 16: "uint8[16]"}[len(want[arg])]; typ != wantType {
				t.Errorf("pton(%q) is a %s, want %s", arg, typ, wantType)
			}
		}
		return true
	})
	if seen != 2 {
		t.Errorf("found %d pton() calls, want 2", seen)
	}
}
