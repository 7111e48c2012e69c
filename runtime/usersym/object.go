package usersym

import (
	"debug/elf"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// object is what is kept of one ELF file: where its parts load, and its
// function symbols.
type object struct {
	loads   []segment
	symbols symbolTable
}

// segment is a PT_LOAD program header: the file bytes [off, off+size) are
// loaded at the virtual address vaddr (relative to wherever the loader put
// the file, for PIE executables and shared libraries).
type segment struct {
	off, vaddr, size uint64
}

// vaddr converts an offset in the file to the virtual address the ELF file
// gives it.
func (o *object) vaddr(fileOff uint64) (uint64, bool) {
	for _, s := range o.loads {
		if fileOff >= s.off && fileOff-s.off < s.size {
			return fileOff - s.off + s.vaddr, true
		}
	}
	return 0, false
}

// readObject reads an ELF file's load segments and function symbols. The
// symbols come from .symtab and .dynsym; if there is no .symtab, from the
// detached debug file that debugDir holds for the file's build ID too.
func readObject(r io.ReaderAt, debugDir string) (*object, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	o := &object{}
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			o.loads = append(o.loads, segment{off: p.Off, vaddr: p.Vaddr, size: p.Filesz})
		}
	}
	var b tableBuilder
	symtab, err := f.Symbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, err
	}
	b.add(symtab)
	dynsym, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, err
	}
	b.add(dynsym)
	if len(symtab) == 0 && debugDir != "" {
		// A stripped file: its full symbol table may be in a debug
		// file. One that is missing or unreadable just adds nothing.
		if syms, err := debugSymbols(f, debugDir); err == nil {
			b.add(syms)
		}
	}
	o.symbols = b.build(o.loads)
	return o, nil
}

// debugSymbols reads the .symtab of the detached debug file of f, found by
// f's GNU build ID as debugDir/.build-id/xx/yyyy.debug.
func debugSymbols(f *elf.File, debugDir string) ([]elf.Symbol, error) {
	id, err := buildID(f)
	if err != nil {
		return nil, err
	}
	s := hex.EncodeToString(id)
	df, err := os.Open(filepath.Join(debugDir, ".build-id", s[:2], s[2:]+".debug"))
	if err != nil {
		return nil, err
	}
	defer df.Close()
	d, err := elf.NewFile(df)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Symbols()
}

// buildID returns the GNU build ID note of f.
func buildID(f *elf.File) ([]byte, error) {
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		return nil, errors.New("no build ID")
	}
	b, err := s.Data()
	if err != nil {
		return nil, err
	}
	// An ELF note: namesz, descsz, type (4 bytes each), the name "GNU\0"
	// padded to 4 bytes, then the descriptor, which is the ID.
	if len(b) < 16 {
		return nil, errors.New("short build ID note")
	}
	order := f.ByteOrder
	nameSize, descSize := order.Uint32(b), order.Uint32(b[4:])
	if order.Uint32(b[8:]) != 3 /* NT_GNU_BUILD_ID */ || nameSize != 4 || string(b[12:16]) != "GNU\x00" {
		return nil, errors.New("not a GNU build ID note")
	}
	if uint64(len(b)) < 16+uint64(descSize) || descSize < 2 {
		return nil, errors.New("short build ID note")
	}
	return b[16 : 16+descSize], nil
}
