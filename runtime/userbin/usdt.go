package userbin

import (
	"debug/elf"
	"fmt"
	"strconv"
	"strings"
)

// Note is one USDT probe of a file: an entry of its .note.stapsdt section,
// as <sys/sdt.h> (SystemTap's) writes them.
type Note struct {
	Provider, Name string
	// PC is the virtual address of the probe's instruction (a nop).
	PC uint64
	// Semaphore is the virtual address of the probe's semaphore, a
	// 16-bit counter that the program reads to know whether the probe is
	// traced (0: the probe has none).
	Semaphore uint64
	// SemaphoreOffset is where the semaphore is in the file, which is how
	// the kernel is told to count it (uprobe's ref_ctr_offset).
	SemaphoreOffset uint64
	// Args are the probe's arguments, decoded; ArgText is how the note
	// spells them ("-4@%edi 8@-16(%rbp)").
	Args    []Arg
	ArgText string
	// Err, if set, says why the probe's arguments or semaphore could not
	// be decoded: the probe cannot be used (other probes of the file can).
	Err error
}

// ArgKind says where a USDT argument's value is.
type ArgKind int

// USDT argument kinds.
const (
	// ArgConst: the value is Disp itself ("4@$5").
	ArgConst ArgKind = iota
	// ArgReg: the value is in register Base ("-4@%edi").
	ArgReg
	// ArgMem: the value is in memory at Base + Index*Scale + Disp
	// ("-4@-20(%rbp)", "8@(%rax,%rdx,8)").
	ArgMem
	// ArgMemPC: the value is in memory at the address that the file gives
	// as Disp, moved by as much as the file was moved when it was loaded
	// (a global variable: "-4@counter(%rip)").
	ArgMemPC
)

// Arg is a USDT argument.
type Arg struct {
	// Size is the value's size in bytes (1, 2, 4 or 8); Signed says that
	// it is a signed integer.
	Size   int
	Signed bool
	Kind   ArgKind
	// Base and Index name registers as struct pt_regs does on the file's
	// architecture ("bp", "di", "r8" on x86-64; "x0", "sp" on arm64):
	// the register holding the value (ArgReg) or the address (ArgMem).
	// Index is "" without an index register.
	Base, Index string
	Scale       int64
	Disp        int64
	// Sym is the symbol an ArgMemPC operand names; Disp is then its
	// address plus the operand's offset (Open resolves it).
	Sym string
	// Text is the argument as the note spells it ("-4@%edi"), for
	// listings (-lv) and messages.
	Text string
}

// Notes returns the file's USDT probes, in the order of the file.
func (b *Binary) Notes() []Note { return b.notes }

// ntStapsdt is the type of SystemTap's notes.
const ntStapsdt = 3

// readNotes decodes the .note.stapsdt section: each note's descriptor
// holds the probe's address, the address the file gave .stapsdt.base when
// the note was written, and the semaphore's address (three words of the
// file's class), then the provider, the name and the arguments as
// NUL-terminated strings. A file moved since (prelink) has .stapsdt.base
// elsewhere: the addresses move by as much.
func readNotes(f *elf.File) ([]Note, error) {
	sec := f.Section(".note.stapsdt")
	if sec == nil {
		return nil, nil
	}
	data, err := sec.Data()
	if err != nil {
		return nil, err
	}
	var base uint64
	hasBase := false
	if s := f.Section(".stapsdt.base"); s != nil {
		base, hasBase = s.Addr, true
	}
	word := 8
	if f.Class == elf.ELFCLASS32 {
		word = 4
	}
	order := f.ByteOrder
	readWord := func(b []byte) uint64 {
		if word == 4 {
			return uint64(order.Uint32(b))
		}
		return order.Uint64(b)
	}
	var notes []Note
	for len(data) >= 12 {
		nameSize, descSize, typ := order.Uint32(data), order.Uint32(data[4:]), order.Uint32(data[8:])
		nameEnd := 12 + align4(uint64(nameSize))
		descEnd := nameEnd + align4(uint64(descSize))
		if descEnd > uint64(len(data)) {
			return nil, fmt.Errorf("a note runs past the end of .note.stapsdt")
		}
		name := strings.TrimRight(string(data[12:12+nameSize]), "\x00")
		desc := data[nameEnd : nameEnd+uint64(descSize)]
		data = data[descEnd:]
		if name != "stapsdt" || typ != ntStapsdt {
			continue
		}
		if len(desc) < 3*word {
			return nil, fmt.Errorf("short stapsdt note")
		}
		n := Note{PC: readWord(desc), Semaphore: readWord(desc[2*word:])}
		if written := readWord(desc[word:]); hasBase && written != 0 {
			n.PC += base - written
			if n.Semaphore != 0 {
				n.Semaphore += base - written
			}
		}
		strs := strings.Split(string(desc[3*word:]), "\x00")
		if len(strs) < 3 {
			return nil, fmt.Errorf("stapsdt note without provider, name and arguments")
		}
		n.Provider, n.Name, n.ArgText = strs[0], strs[1], strs[2]
		if n.Semaphore != 0 {
			off, ok := fileOffsetOfData(f, n.Semaphore)
			if !ok {
				n.Err = fmt.Errorf("its semaphore at 0x%x is in no loaded part of the file", n.Semaphore)
			}
			n.SemaphoreOffset = off
		}
		args, err := ParseArgs(n.ArgText, f.Machine)
		if err != nil && n.Err == nil {
			n.Err = err
		}
		n.Args = args
		notes = append(notes, n)
	}
	return notes, nil
}

func align4(n uint64) uint64 { return (n + 3) &^ 3 }

// fileOffsetOfData converts the virtual address of data to its file offset.
func fileOffsetOfData(f *elf.File, vaddr uint64) (uint64, bool) {
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && vaddr >= p.Vaddr && vaddr-p.Vaddr < p.Filesz {
			return vaddr - p.Vaddr + p.Off, true
		}
	}
	return 0, false
}

// ParseArgs decodes a USDT note's argument string: arguments separated by
// spaces, each SIZE@OPERAND, where SIZE is the size in bytes, negative for
// signed values, and OPERAND is written in the architecture's assembler
// syntax (AT&T on x86: %reg, $constant, disp(%base,%index,scale); on
// arm64: xN, #constant or a bare number, [xN], [xN, #disp]).
func ParseArgs(text string, machine elf.Machine) ([]Arg, error) {
	var args []Arg
	for _, a := range splitArgs(text) {
		arg, err := parseArg(a, machine)
		if err != nil {
			return nil, fmt.Errorf("argument %d (%q): %w", len(args), a, err)
		}
		args = append(args, arg)
	}
	return args, nil
}

// splitArgs splits an argument string at the spaces outside brackets
// (arm64's memory operands have a space: "8@[sp, 16]").
func splitArgs(text string) []string {
	var out []string
	depth, start := 0, -1
	for i, c := range text {
		switch {
		case c == '[' || c == '(':
			depth++
		case c == ']' || c == ')':
			depth--
		case c == ' ' || c == '\t':
			if depth == 0 && start >= 0 {
				out = append(out, text[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, text[start:])
	}
	return out
}

func parseArg(text string, machine elf.Machine) (Arg, error) {
	arg := Arg{Text: text}
	size, op, ok := strings.Cut(text, "@")
	if !ok {
		// Old notes have no size: a long.
		size, op = "8", text
	}
	n, err := strconv.Atoi(size)
	if err != nil || n == 0 {
		return arg, fmt.Errorf("bad size %q", size)
	}
	if n < 0 {
		arg.Signed, n = true, -n
	}
	switch n {
	case 1, 2, 4, 8:
	default:
		return arg, fmt.Errorf("unsupported size %d", n)
	}
	arg.Size = n
	switch machine {
	case elf.EM_X86_64:
		err = parseX86Operand(&arg, op)
	case elf.EM_AARCH64:
		err = parseArm64Operand(&arg, op)
	default:
		err = fmt.Errorf("USDT arguments on %s are not supported yet", machine)
	}
	return arg, err
}

// parseX86Operand decodes an AT&T operand: %reg, $imm, or
// [disp](%base[,%index[,scale]]) where disp is a number or a symbol
// (rip-relative: a global variable).
func parseX86Operand(arg *Arg, op string) error {
	switch {
	case strings.HasPrefix(op, "$"):
		v, err := strconv.ParseInt(op[1:], 0, 64)
		if err != nil {
			return fmt.Errorf("bad constant %q", op)
		}
		arg.Kind, arg.Disp = ArgConst, v
		return nil
	case strings.HasPrefix(op, "%"):
		r, ok := x86Reg(op[1:])
		if !ok {
			return fmt.Errorf("unknown register %q", op)
		}
		arg.Kind, arg.Base = ArgReg, r
		return nil
	}
	open := strings.IndexByte(op, '(')
	if open < 0 || !strings.HasSuffix(op, ")") {
		return fmt.Errorf("unsupported operand %q", op)
	}
	disp, inner := op[:open], op[open+1:len(op)-1]
	parts := strings.Split(inner, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if len(parts) > 3 || !strings.HasPrefix(parts[0], "%") {
		return fmt.Errorf("unsupported operand %q", op)
	}
	base, ok := x86Reg(parts[0][1:])
	if !ok {
		return fmt.Errorf("unknown register %q", parts[0])
	}
	arg.Kind, arg.Base = ArgMem, base
	if len(parts) > 1 {
		if arg.Index, ok = x86Reg(strings.TrimPrefix(parts[1], "%")); !ok {
			return fmt.Errorf("unknown register %q", parts[1])
		}
		arg.Scale = 1
		if len(parts) == 3 {
			s, err := strconv.ParseInt(parts[2], 0, 64)
			if err != nil {
				return fmt.Errorf("bad scale %q", parts[2])
			}
			arg.Scale = s
		}
	}
	if disp == "" {
		return nil
	}
	if v, err := strconv.ParseInt(disp, 0, 64); err == nil {
		arg.Disp = v
		if base == "ip" {
			return fmt.Errorf("a numeric displacement from %%rip is not supported")
		}
		return nil
	}
	if base != "ip" || arg.Index != "" {
		return fmt.Errorf("a symbol as displacement is only supported from %%rip: %q", op)
	}
	// sym, sym+N or sym-N: the offset is kept in Disp until the symbol
	// is resolved.
	arg.Kind, arg.Base, arg.Sym = ArgMemPC, "", disp
	if i := strings.LastIndexAny(disp, "+-"); i > 0 {
		if v, err := strconv.ParseInt(disp[i:], 0, 64); err == nil {
			arg.Sym, arg.Disp = disp[:i], v
		}
	}
	return nil
}

// x86Reg names an x86-64 register, in any width, as struct pt_regs does.
func x86Reg(name string) (string, bool) {
	switch name {
	case "rax", "eax", "ax", "al", "ah":
		return "ax", true
	case "rbx", "ebx", "bx", "bl", "bh":
		return "bx", true
	case "rcx", "ecx", "cx", "cl", "ch":
		return "cx", true
	case "rdx", "edx", "dx", "dl", "dh":
		return "dx", true
	case "rsi", "esi", "si", "sil":
		return "si", true
	case "rdi", "edi", "di", "dil":
		return "di", true
	case "rbp", "ebp", "bp", "bpl":
		return "bp", true
	case "rsp", "esp", "sp", "spl":
		return "sp", true
	case "rip":
		return "ip", true
	}
	if strings.HasPrefix(name, "r") {
		num := strings.TrimRight(name[1:], "dwb")
		if n, err := strconv.Atoi(num); err == nil && n >= 8 && n <= 15 {
			return "r" + num, true
		}
	}
	return "", false
}

// parseArm64Operand decodes an arm64 operand: xN/wN, sp, #imm or a bare
// number, [xN], [xN, #disp], [xN, disp].
func parseArm64Operand(arg *Arg, op string) error {
	if strings.HasPrefix(op, "[") && strings.HasSuffix(op, "]") {
		parts := strings.Split(op[1:len(op)-1], ",")
		r, ok := arm64Reg(strings.TrimSpace(parts[0]))
		if !ok || len(parts) > 2 {
			return fmt.Errorf("unsupported operand %q", op)
		}
		arg.Kind, arg.Base = ArgMem, r
		if len(parts) == 2 {
			v, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(parts[1]), "#"), 0, 64)
			if err != nil {
				return fmt.Errorf("bad displacement in %q", op)
			}
			arg.Disp = v
		}
		return nil
	}
	if r, ok := arm64Reg(op); ok {
		arg.Kind, arg.Base = ArgReg, r
		return nil
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(op, "#"), 0, 64)
	if err != nil {
		return fmt.Errorf("unsupported operand %q", op)
	}
	arg.Kind, arg.Disp = ArgConst, v
	return nil
}

// arm64Reg names an arm64 register as gotrace's pt_regs table does: xN
// (wN is its low half), sp.
func arm64Reg(name string) (string, bool) {
	if name == "sp" || name == "wsp" {
		return "sp", true
	}
	if len(name) > 1 && (name[0] == 'x' || name[0] == 'w') {
		if n, err := strconv.Atoi(name[1:]); err == nil && n >= 0 && n <= 30 {
			return "x" + name[1:], true
		}
	}
	return "", false
}
