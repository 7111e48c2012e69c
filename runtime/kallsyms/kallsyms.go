// Package kallsyms reads the kernel's symbol table, /proc/kallsyms: the
// address, type and name of every kernel symbol, module symbols included.
// gotrace uses it to name kernel addresses (ksym(), kstack frames), to find
// a kernel symbol's address (kaddr()) and to check kprobe offsets against
// the size of the function they point into.
package kallsyms

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Path is where the running kernel shows its symbols.
const Path = "/proc/kallsyms"

// Symbol is one line of /proc/kallsyms.
type Symbol struct {
	Addr uint64
	// Type is nm's type letter: 't'/'T' for code, 'd'/'D' for data, ...;
	// lower case for local symbols.
	Type byte
	Name string
	// Module is the module the symbol belongs to, "" for the kernel
	// image itself.
	Module string
}

// IsText reports whether the symbol names code (a function).
func (s Symbol) IsText() bool {
	return s.Type == 't' || s.Type == 'T' || s.Type == 'w' || s.Type == 'W'
}

// Table is a kernel symbol table sorted by address.
type Table struct {
	syms   []Symbol
	byName map[string][]int // indexes into syms, built on first use
}

// Read reads the running kernel's symbol table. Without root (or with
// kernel.kptr_restrict set) the kernel shows every address as zero; such
// symbols are dropped, so the table is then empty rather than wrong.
func Read() (*Table, error) {
	f, err := os.Open(Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f)
}

// Parse reads a symbol table in /proc/kallsyms format:
//
//	ffffffff81000000 T _text
//	ffffffffc0a01000 t ext4_fill_super	[ext4]
//
// The text is read whole, in large reads (the kernel formats
// /proc/kallsyms anew for every read: large reads make the difference
// between 80 ms and 200), and the names are substrings of it: a machine
// has a hundred thousand lines and more, and a string for each was most of
// the memory a script that prints stacks used.
func Parse(r io.Reader) (*Table, error) {
	var sb strings.Builder
	sb.Grow(8 << 20)
	if _, err := io.CopyBuffer(&sb, r, make([]byte, 1<<20)); err != nil {
		return nil, fmt.Errorf("kallsyms: %w", err)
	}
	text := sb.String()
	t := &Table{syms: make([]Symbol, 0, strings.Count(text, "\n")+1)}
	for len(text) > 0 {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		// "ADDR T NAME" or "ADDR T NAME\t[MODULE]", split by hand.
		addrText, rest, ok1 := strings.Cut(line, " ")
		typ, rest, ok2 := strings.Cut(rest, " ")
		if !ok1 || !ok2 || len(typ) != 1 {
			continue
		}
		name, module, _ := strings.Cut(rest, "\t")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		addr, err := strconv.ParseUint(addrText, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("kallsyms: bad address in %q", line)
		}
		if addr == 0 {
			continue // hidden by kptr_restrict, or an absolute symbol
		}
		t.syms = append(t.syms, Symbol{Addr: addr, Type: typ[0], Name: name, Module: strings.Trim(strings.TrimSpace(module), "[]")})
	}
	slices.SortStableFunc(t.syms, func(a, b Symbol) int { return cmp.Compare(a.Addr, b.Addr) })
	return t, nil
}

// Len is the number of symbols.
func (t *Table) Len() int { return len(t.syms) }

// Symbols returns the symbols in address order. The caller must not change
// them.
func (t *Table) Symbols() []Symbol { return t.syms }

// At returns the symbol containing addr, the last one at or below it, and
// addr's offset from its start. ok is false when addr lies below every
// symbol.
func (t *Table) At(addr uint64) (s Symbol, off uint64, ok bool) {
	if t == nil {
		return Symbol{}, 0, false
	}
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Addr > addr })
	if i == 0 {
		return Symbol{}, 0, false
	}
	s = t.syms[i-1]
	return s, addr - s.Addr, true
}

// Lookup returns the symbols called name, in address order: several static
// functions may share a name, in the kernel or in different modules.
func (t *Table) Lookup(name string) []Symbol {
	if t == nil {
		return nil
	}
	if t.byName == nil {
		t.byName = make(map[string][]int, len(t.syms))
		for i, s := range t.syms {
			t.byName[s.Name] = append(t.byName[s.Name], i)
		}
	}
	var out []Symbol
	for _, i := range t.byName[name] {
		out = append(out, t.syms[i])
	}
	return out
}

// Size estimates the size of s: the distance to the next symbol at a
// higher address (the kernel does not record sizes). It is 0 for the last
// symbol.
func (t *Table) Size(s Symbol) uint64 {
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Addr > s.Addr })
	if i == len(t.syms) {
		return 0
	}
	return t.syms[i].Addr - s.Addr
}
