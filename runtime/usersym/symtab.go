package usersym

import (
	"cmp"
	"debug/elf"
	"slices"
	"strings"
)

// symbolTable is the function symbols of one file, sorted by address for
// binary search, in parallel slices (the search reads starts only). Symbol
// i covers the virtual addresses [starts[i], ends[i]); no two share a
// start.
type symbolTable struct {
	starts, ends []uint64
	names        []string
}

// find returns the symbol covering vaddr and vaddr's offset into it.
func (t *symbolTable) find(vaddr uint64) (name string, off uint64, ok bool) {
	// The first symbol that starts after vaddr; the one before it is the
	// only candidate.
	lo, hi := 0, len(t.starts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if t.starts[mid] <= vaddr {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	i := lo - 1
	if i < 0 || vaddr >= t.ends[i] {
		return "", 0, false
	}
	return t.names[i], vaddr - t.starts[i], true
}

// tableBuilder collects function symbols from a file's symbol tables.
type tableBuilder struct {
	cands []candidate
}

type candidate struct {
	start, size uint64
	name        string
	bind        elf.SymBind
	order       int // position among all the symbols added, for stable ties
}

// add keeps the defined functions among syms.
func (b *tableBuilder) add(syms []elf.Symbol) {
	for _, s := range syms {
		switch elf.ST_TYPE(s.Info) {
		case elf.STT_FUNC, elf.STT_GNU_IFUNC:
		default:
			continue
		}
		// Undefined symbols are imports, defined elsewhere; absolute and
		// common ones are not code of this file.
		if s.Value == 0 || s.Name == "" || s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE {
			continue
		}
		b.cands = append(b.cands, candidate{start: s.Value, size: s.Size, name: s.Name, bind: elf.ST_BIND(s.Info), order: len(b.cands)})
	}
}

// build sorts the symbols and chooses one name per address. Several
// symbols often share an address (libc's getpid and __getpid, a function
// listed in both .symtab and .dynsym); the name kept is the one that
// callers most likely know:
//
//  1. global before weak before local symbols (exported names first);
//  2. then fewer leading underscores (write before __write);
//  3. then the first one in the file (.symtab before .dynsym).
//
// The aliases' largest size is kept. A function without a size (written
// in assembly, say) is taken to extend to the next symbol, or to the end
// of the segment that loads it; loads are the file's PT_LOAD segments.
func (b *tableBuilder) build(loads []segment) symbolTable {
	c := b.cands
	slices.SortFunc(c, func(x, y candidate) int {
		if n := cmp.Compare(x.start, y.start); n != 0 {
			return n
		}
		if n := cmp.Compare(bindRank(y.bind), bindRank(x.bind)); n != 0 {
			return n
		}
		if n := cmp.Compare(leadingUnderscores(x.name), leadingUnderscores(y.name)); n != 0 {
			return n
		}
		return cmp.Compare(x.order, y.order)
	})
	var t symbolTable
	var sizes []uint64
	for i := 0; i < len(c); {
		j, size := i, uint64(0)
		for ; j < len(c) && c[j].start == c[i].start; j++ {
			size = max(size, c[j].size)
		}
		t.starts = append(t.starts, c[i].start)
		t.names = append(t.names, c[i].name)
		sizes = append(sizes, size)
		i = j
	}
	t.ends = make([]uint64, len(t.starts))
	for i, start := range t.starts {
		switch {
		case sizes[i] > 0:
			t.ends[i] = start + sizes[i]
		default:
			end := segmentEnd(loads, start)
			if i+1 < len(t.starts) {
				end = min(end, t.starts[i+1])
			}
			t.ends[i] = end
		}
	}
	b.cands = nil
	return t
}

// bindRank orders symbol bindings by how public a name is.
func bindRank(b elf.SymBind) int {
	switch b {
	case elf.STB_GLOBAL, stbGNUUnique:
		return 2
	case elf.STB_WEAK:
		return 1
	}
	return 0
}

func leadingUnderscores(s string) int { return len(s) - len(strings.TrimLeft(s, "_")) }

// segmentEnd is the end of the loaded segment that holds vaddr, or just
// past vaddr if none does (so that a symbol outside every segment covers
// only its own address).
func segmentEnd(loads []segment, vaddr uint64) uint64 {
	for _, s := range loads {
		if vaddr >= s.vaddr && vaddr-s.vaddr < s.size {
			return s.vaddr + s.size
		}
	}
	return vaddr + 1
}

// stbGNUUnique is STB_GNU_UNIQUE, a GNU binding for global symbols that
// must be unique in a process; debug/elf does not name it.
const stbGNUUnique elf.SymBind = 10
