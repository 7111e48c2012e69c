package kallsyms

import (
	"os"
	"strings"
	"testing"
)

const sample = `ffffffff81000000 T _text
ffffffff816b89e0 t __pfx_vfs_read
ffffffff816b89f0 T vfs_read
ffffffff816b8d40 t __pfx___kernel_write_iter
ffffffff816b8d50 T __kernel_write_iter
0000000000000000 A fixed_percpu_data
ffffffff82000000 d dup_name
ffffffffc0001000 t dup_name	[mymod]
ffffffffc0001100 t mod_func	[mymod]
`

func TestParseAndLookup(t *testing.T) {
	tab, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 8 {
		t.Fatalf("got %d symbols, want 8 (the zero address dropped)", tab.Len())
	}
	cases := []struct {
		addr uint64
		name string
		off  uint64
		ok   bool
	}{
		{0xffffffff816b89f0, "vfs_read", 0, true},
		{0xffffffff816b89f5, "vfs_read", 5, true},
		{0xffffffff816b8d3f, "vfs_read", 0x34f, true},
		{0xffffffff816b8d40, "__pfx___kernel_write_iter", 0, true},
		{0xffffffffc0001104, "mod_func", 4, true},
		{0x1000, "", 0, false},
	}
	for _, c := range cases {
		s, off, ok := tab.At(c.addr)
		if ok != c.ok || s.Name != c.name || off != c.off {
			t.Errorf("At(%#x) = %q+%d %v, want %q+%d %v", c.addr, s.Name, off, ok, c.name, c.off, c.ok)
		}
	}
	dups := tab.Lookup("dup_name")
	if len(dups) != 2 || dups[0].Module != "" || dups[1].Module != "mymod" || dups[0].IsText() || !dups[1].IsText() {
		t.Errorf("Lookup(dup_name) = %+v", dups)
	}
	vr := tab.Lookup("vfs_read")
	if len(vr) != 1 || tab.Size(vr[0]) != 0x350 {
		t.Errorf("vfs_read: %+v, size %#x; want one symbol of 0x350 bytes", vr, tab.Size(vr[0]))
	}
	if n := tab.Lookup("nope"); n != nil {
		t.Errorf("Lookup(nope) = %v", n)
	}
}

func TestParseRejectsBadAddress(t *testing.T) {
	if _, err := Parse(strings.NewReader("xyz T foo\n")); err == nil {
		t.Error("a bad address parsed")
	}
}

// The running kernel's table has the functions every kernel has, at
// addresses that name them back.
func TestReadRunningKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("addresses in /proc/kallsyms are hidden from non-root users")
	}
	tab, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	syms := tab.Lookup("schedule")
	if len(syms) == 0 {
		t.Fatal("no schedule() in /proc/kallsyms")
	}
	s, off, ok := tab.At(syms[0].Addr + 1)
	if !ok || s.Name != "schedule" || off != 1 {
		t.Errorf("At(schedule+1) = %q+%d", s.Name, off)
	}
}
