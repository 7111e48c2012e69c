// Package userbin reads what probes on user-space programs need from their
// ELF files: function symbols and where they are in the file (uprobes
// attach at file offsets), whether the program was built by Go (whose
// moving stacks break uretprobes), the USDT probes of .note.stapsdt, and
// where a library named by its short name ("libc") is, as the dynamic
// loader would find it.
package userbin

import (
	"cmp"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Symbol is a symbol of an ELF file.
type Symbol struct {
	Name string
	// Value is the symbol's virtual address as the file gives it (for a
	// shared library or a PIE executable, relative to where it is loaded).
	Value uint64
	Size  uint64
	// Func says that the symbol is a function (STT_FUNC or STT_GNU_IFUNC);
	// other symbols are data (uaddr() finds both).
	Func bool
	Bind elf.SymBind
}

// Binary is what is kept of one ELF file.
type Binary struct {
	// Path is the file that was read.
	Path string
	// Type is ET_EXEC for executables loaded at fixed addresses and ET_DYN
	// for shared libraries and position-independent executables.
	Type elf.Type
	// Machine is the architecture the file is for.
	Machine elf.Machine
	// Go says that the file was built by the Go toolchain.
	Go bool

	loads []segment
	// funcs are the defined functions, sorted by name then by preference
	// (see less); syms every defined symbol with a name, sorted likewise.
	funcs, syms []Symbol
	notes       []Note
}

// segment is a PT_LOAD program header.
type segment struct {
	off, vaddr, filesz uint64
	exec               bool
}

// Open reads the ELF file at path.
func Open(path string) (*Binary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not an ELF file: %w", path, err)
	}
	defer ef.Close()
	if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		return nil, fmt.Errorf("%s is not an executable or a shared library (ELF type %s)", path, ef.Type)
	}
	b := &Binary{Path: path, Type: ef.Type, Machine: ef.Machine}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD {
			b.loads = append(b.loads, segment{off: p.Off, vaddr: p.Vaddr, filesz: p.Filesz, exec: p.Flags&elf.PF_X != 0})
		}
	}
	symtab, err := ef.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("reading the symbols of %s: %w", path, err)
	}
	dynsym, err := ef.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, fmt.Errorf("reading the dynamic symbols of %s: %w", path, err)
	}
	for _, s := range slices.Concat(symtab, dynsym) {
		if s.Name == "" || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE && s.Section != elf.SHN_ABS {
			continue
		}
		typ := elf.ST_TYPE(s.Info)
		sym := Symbol{Name: s.Name, Value: s.Value, Size: s.Size, Bind: elf.ST_BIND(s.Info),
			Func: typ == elf.STT_FUNC || typ == elf.STT_GNU_IFUNC}
		switch typ {
		case elf.STT_SECTION, elf.STT_FILE, elf.STT_TLS:
			continue
		}
		b.syms = append(b.syms, sym)
		if sym.Func && sym.Value != 0 {
			b.funcs = append(b.funcs, sym)
		}
		if s.Name == "runtime.main" && sym.Func {
			b.Go = true
		}
	}
	if ef.Section(".go.buildinfo") != nil {
		b.Go = true
	}
	b.funcs = sortSymbols(b.funcs)
	b.syms = sortSymbols(b.syms)
	if b.notes, err = readNotes(ef); err != nil {
		return nil, fmt.Errorf("reading the USDT notes of %s: %w", path, err)
	}
	for i := range b.notes {
		for j := range b.notes[i].Args {
			a := &b.notes[i].Args[j]
			if a.Kind != ArgMemPC {
				continue
			}
			s, ok := b.Symbol(a.Sym)
			if !ok {
				b.notes[i].Err = fmt.Errorf("argument %d (%s) names %s, which the file's symbols do not have", j, b.notes[i].ArgText, a.Sym)
				continue
			}
			a.Disp += int64(s.Value)
		}
	}
	return b, nil
}

// sortSymbols sorts symbols by name and keeps one per name: the one a
// probe on that name means (see preferred).
func sortSymbols(syms []Symbol) []Symbol {
	slices.SortStableFunc(syms, func(a, b Symbol) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return preferred(a, b)
	})
	return slices.CompactFunc(syms, func(a, b Symbol) bool { return a.Name == b.Name })
}

// preferred orders symbols of one name: global before weak before local
// (a local function of that name may be one of several), then sized
// before unsized (.symtab and .dynsym list the same function; the first
// is kept).
func preferred(a, b Symbol) int {
	if c := cmp.Compare(bindRank(b.Bind), bindRank(a.Bind)); c != 0 {
		return c
	}
	return cmp.Compare(sized(b), sized(a))
}

func sized(s Symbol) int {
	if s.Size != 0 {
		return 1
	}
	return 0
}

func bindRank(b elf.SymBind) int {
	switch b {
	case elf.STB_GLOBAL, 10: // STB_GNU_UNIQUE
		return 2
	case elf.STB_WEAK:
		return 1
	}
	return 0
}

// Functions returns the file's defined functions, sorted by name, one
// symbol per name.
func (b *Binary) Functions() []Symbol { return b.funcs }

// Function finds a defined function by its exact name.
func (b *Binary) Function(name string) (Symbol, bool) {
	return find(b.funcs, name)
}

// Symbol finds a defined symbol (a function or data) by its exact name.
func (b *Binary) Symbol(name string) (Symbol, bool) {
	return find(b.syms, name)
}

func find(syms []Symbol, name string) (Symbol, bool) {
	i, ok := slices.BinarySearchFunc(syms, name, func(s Symbol, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return Symbol{}, false
	}
	return syms[i], true
}

// FunctionAt returns the function that covers virtual address vaddr and
// vaddr's offset into it. A function without a size covers only its first
// byte.
func (b *Binary) FunctionAt(vaddr uint64) (Symbol, uint64, bool) {
	var best Symbol
	found := false
	for _, s := range b.funcs {
		if vaddr < s.Value || vaddr-s.Value >= max(s.Size, 1) {
			continue
		}
		if !found || bindRank(s.Bind) > bindRank(best.Bind) || (bindRank(s.Bind) == bindRank(best.Bind) && leadingUnderscores(s.Name) < leadingUnderscores(best.Name)) {
			best, found = s, true
		}
	}
	return best, vaddr - best.Value, found
}

func leadingUnderscores(s string) int { return len(s) - len(strings.TrimLeft(s, "_")) }

// FileOffset converts a virtual address of executable code to the offset
// in the file that holds it, which is where the kernel places uprobes.
func (b *Binary) FileOffset(vaddr uint64) (uint64, error) {
	for _, s := range b.loads {
		if s.exec && vaddr >= s.vaddr && vaddr-s.vaddr < s.filesz {
			return vaddr - s.vaddr + s.off, nil
		}
	}
	return 0, fmt.Errorf("address 0x%x is not in an executable segment of %s", vaddr, b.Path)
}

// PIE reports whether the file is loaded at an address chosen when it is
// run (a shared library or a position-independent executable), so that
// the addresses it gives are relative to that place.
func (b *Binary) PIE() bool { return b.Type == elf.ET_DYN }

// Code returns n bytes of the file's code at virtual address vaddr (fewer
// at the end of the segment).
func (b *Binary) Code(vaddr, n uint64) ([]byte, error) {
	for _, s := range b.loads {
		if !s.exec || vaddr < s.vaddr || vaddr-s.vaddr >= s.filesz {
			continue
		}
		n = min(n, s.filesz-(vaddr-s.vaddr))
		f, err := os.Open(b.Path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, int64(vaddr-s.vaddr+s.off)); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return nil, fmt.Errorf("address 0x%x is not in an executable segment of %s", vaddr, b.Path)
}
