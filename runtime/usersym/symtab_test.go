package usersym

import (
	"debug/elf"
	"testing"
)

func funcSym(name string, value, size uint64, bind elf.SymBind) elf.Symbol {
	return elf.Symbol{Name: name, Value: value, Size: size, Info: elf.ST_INFO(bind, elf.STT_FUNC), Section: 14}
}

// The table respects sizes, picks one name among aliases, and lets a
// function without a size run to the next symbol or the end of its segment.
func TestSymbolTable(t *testing.T) {
	symtab := []elf.Symbol{
		funcSym("sized", 0x1000, 0x10, elf.STB_GLOBAL),
		// Aliases: the global one wins over the weak and local ones.
		funcSym("__alias_local", 0x1100, 0x20, elf.STB_LOCAL),
		funcSym("alias_weak", 0x1100, 0x20, elf.STB_WEAK),
		funcSym("__alias_global", 0x1100, 0x20, elf.STB_GLOBAL),
		// Same binding: fewer leading underscores win.
		funcSym("__write", 0x1200, 0x8, elf.STB_WEAK),
		funcSym("write", 0x1200, 0x8, elf.STB_WEAK),
		// Same binding and underscores: the first one listed wins.
		funcSym("first", 0x1300, 0x8, elf.STB_GLOBAL),
		funcSym("second", 0x1300, 0x8, elf.STB_GLOBAL),
		// No size: runs to the next symbol.
		funcSym("asm_entry", 0x1400, 0, elf.STB_GLOBAL),
		funcSym("after_asm", 0x1480, 0x10, elf.STB_GLOBAL),
		// No size, last: runs to the end of the segment (0x2000).
		funcSym("asm_last", 0x1f00, 0, elf.STB_LOCAL),
		// Not functions, or not defined here: ignored.
		{Name: "a_variable", Value: 0x1008, Size: 8, Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_OBJECT), Section: 14},
		{Name: "an_import", Value: 0x1008, Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Section: elf.SHN_UNDEF},
		{Name: "absolute", Value: 0x1008, Size: 8, Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Section: elf.SHN_ABS},
	}
	dynsym := []elf.Symbol{
		// An IFUNC is code too; a name listed in both tables is one symbol.
		{Name: "ifunc", Value: 0x1500, Size: 0x10, Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_GNU_IFUNC), Section: 14},
		funcSym("sized", 0x1000, 0x10, elf.STB_GLOBAL),
	}
	var b tableBuilder
	b.add(symtab)
	b.add(dynsym)
	table := b.build([]segment{{off: 0x1000, vaddr: 0x1000, size: 0x1000}})

	cases := []struct {
		addr uint64
		name string // "" for no symbol
		off  uint64
	}{
		{0xfff, "", 0},
		{0x1000, "sized", 0},
		{0x1008, "sized", 8},
		{0x100f, "sized", 0xf},
		{0x1010, "", 0}, // just past the end of a sized symbol
		{0x1100, "__alias_global", 0},
		{0x111f, "__alias_global", 0x1f},
		{0x1204, "write", 4},
		{0x1300, "first", 0},
		{0x1400, "asm_entry", 0},
		{0x147f, "asm_entry", 0x7f},
		{0x1480, "after_asm", 0},
		{0x1490, "", 0},
		{0x1508, "ifunc", 8},
		{0x1fff, "asm_last", 0xff},
		{0x2000, "", 0},
	}
	for _, c := range cases {
		name, off, ok := table.find(c.addr)
		if ok != (c.name != "") || name != c.name || off != c.off {
			t.Errorf("find(%#x) = %q+%#x, %v; want %q+%#x", c.addr, name, off, ok, c.name, c.off)
		}
	}
	if n := len(table.starts); n != 8 {
		t.Errorf("%d symbols kept, want 8 (one per address)", n)
	}
}

// File offsets become virtual addresses through the segment that loads
// them, and offsets no segment loads have none.
func TestObjectVaddr(t *testing.T) {
	o := &object{loads: []segment{
		{off: 0, vaddr: 0x400000, size: 0x1000},
		{off: 0x1000, vaddr: 0x401000, size: 0x2345},
		// A PIE's data segment, whose addresses are not offsets.
		{off: 0x3df0, vaddr: 0x4df0, size: 0x200},
	}}
	cases := []struct {
		off, want uint64
		ok        bool
	}{
		{0x10, 0x400010, true},
		{0x1000, 0x401000, true},
		{0x3344, 0x403344, true},
		{0x3345, 0, false},
		{0x3e00, 0x4e00, true},
		{0x10000, 0, false},
	}
	for _, c := range cases {
		got, ok := o.vaddr(c.off)
		if got != c.want || ok != c.ok {
			t.Errorf("vaddr(%#x) = %#x, %v; want %#x, %v", c.off, got, ok, c.want, c.ok)
		}
	}
}
