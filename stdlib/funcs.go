package stdlib

import (
	"encoding/binary"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
)

// DefaultStrSize is the buffer size of strings read with str(), as in
// bpftrace; a script's config block may change it (max_strlen).
const DefaultStrSize = 64

// MaxStrSize bounds max_strlen: a string must fit a ring buffer record
// and the scratch map.
const MaxStrSize = 1024

// statement declares a function the code generator implements itself; the
// table supplies its arity and documentation, the checker its typing.
func statement(name, help string, min, max int) *Func {
	return &Func{Name: name, Help: help, Kind: Statement, MinArgs: min, MaxArgs: max}
}

func builtinFuncs() []*Func {
	return []*Func{
		statement("printf", "printf(fmt, ...): formatted output, rendered in user space", 1, -1),
		statement("print", "print(@map[, top[, div]]) or print(value): print a map or a value now", 1, 3),
		statement("exit", "exit([code]): stop tracing; END probes run and maps print", 0, 1),
		statement("delete", "delete(@map[key]) or delete(@map, key): remove one entry", 1, 2),
		statement("clear", "clear(@map): remove every entry", 1, 1),
		statement("zero", "zero(@map): set every value to zero", 1, 1),
		statement("cat", "cat(fmt, ...): print the contents of the file named by a printf-style format", 1, -1),
		{Name: "system", Help: "system(fmt, ...): run a shell command named by a printf-style format (--unsafe)",
			Kind: Statement, MinArgs: 1, MaxArgs: -1, Unsafe: true},
		{Name: "errorf", Help: "errorf(fmt, ...): print an error message on stderr", Kind: Statement, MinArgs: 1, MaxArgs: -1},
		{Name: "warnf", Help: "warnf(fmt, ...): print a warning on stderr", Kind: Statement, MinArgs: 1, MaxArgs: -1},
		{Name: "has_key", Help: "has_key(@map, key): whether the map holds key", Kind: Generated, MinArgs: 2, MaxArgs: 2},
		{Name: "strncmp", Help: "strncmp(a, b, n): 0 when the first n characters of a and b are equal", Kind: Generated, MinArgs: 3, MaxArgs: 3},
		{Name: "len", Help: "len(@map): the number of entries in a map", Kind: Generated, MinArgs: 1, MaxArgs: 1},
		{Name: "strlen", Help: "strlen(s): the length of string s", Kind: Generated, MinArgs: 1, MaxArgs: 1},
		{Name: "strcontains", Help: `strcontains(s, "needle"): whether s contains the literal needle`, Kind: Generated, MinArgs: 2, MaxArgs: 2},
		{Name: "strstr", Help: `strstr(s, "needle"): the index of the literal needle's first occurrence in s, or -1`, Kind: Generated, MinArgs: 2, MaxArgs: 2},
		statement("join", `join(argv[, sep]): print a NULL-terminated array of strings (such as execve's argv), joined by sep (" ")`, 1, 2),
		statement("time", `time([fmt]): print the current time, by default as "%H:%M:%S\n"`, 0, 1),
		{
			Name: "str", Help: "str(ptr[, len]): the NUL-terminated string at ptr", Kind: Value,
			MinArgs: 1, MaxArgs: 2,
			Check: func(a *Args) (*types.Type, error) {
				args := a.Types
				if !args[0].IsIntLike() && !args[0].IsString() {
					return nil, argErr(0, "str() takes a pointer or an integer address, not %s", args[0])
				}
				if len(args) == 2 && !args[1].IsInt() {
					return nil, argErr(1, "str()'s length must be an integer, not %s", args[1])
				}
				if args[0].IsString() {
					return args[0], nil
				}
				return types.NewString(a.Lib.StrSize()), nil
			},
			Emit: emitStr,
		},
		{
			Name: "bswap", Help: "bswap(n): n with its bytes reversed (in its own width)", Kind: Value,
			MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				if !a.Types[0].IsInt() {
					return nil, argErr(0, "bswap() takes an integer, not %s", a.Types[0])
				}
				return types.NewInt(a.Types[0].Size, false), nil
			},
			Emit: func(e Emitter, a *Args) {
				e.Emit(asm.Mov.Reg(asm.R0, asm.R2))
				switch a.Types[0].Size {
				case 2:
					e.Emit(byteSwap(asm.R0, asm.Half))
				case 4:
					e.Emit(byteSwap(asm.R0, asm.Word))
				case 8:
					e.Emit(byteSwap(asm.R0, asm.DWord))
				}
			},
		},
		{
			Name: "signal", Help: "signal(SIG): send a signal to the current process (--unsafe)", Kind: Value,
			MinArgs: 1, MaxArgs: 1, Unsafe: true,
			Check: func(a *Args) (*types.Type, error) {
				if _, err := signalNumber(a); err != nil {
					return nil, err
				}
				return types.VoidType, nil
			},
			Emit: func(e Emitter, a *Args) {
				n, _ := signalNumber(a)
				if n > 0 {
					e.Emit(asm.Mov.Imm(asm.R1, int32(n)))
				} else {
					e.Emit(asm.Mov.Reg(asm.R1, asm.R2))
				}
				e.Emit(asm.FnSendSignal.Call())
			},
		},
	}
}

// emitStr reads a string: R1 is the destination buffer, R2 the source
// address, R3 the optional length limit (in characters, like bpftrace).
func emitStr(e Emitter, a *Args) {
	args := a.Types
	size := int32(a.Lib.StrSize())
	read := asm.FnProbeReadKernelStr
	if userMemory(e, args[0]) {
		read = asm.FnProbeReadUserStr
	}
	if len(args) == 2 {
		// size = min(len + 1, the string size), the +1 making room for the NUL.
		ok := e.Label()
		e.Emit(
			asm.Add.Imm(asm.R3, 1),
			asm.JLE.Imm(asm.R3, size, ok),
			asm.Mov.Imm(asm.R3, size),
			asm.Mov.Reg(asm.R4, asm.R3).WithSymbol(ok),
			asm.Mov.Reg(asm.R3, asm.R2),
			asm.Mov.Reg(asm.R2, asm.R4),
		)
	} else {
		e.Emit(asm.Mov.Reg(asm.R3, asm.R2), asm.Mov.Imm(asm.R2, size))
	}
	e.Emit(read.Call())
	e.CheckHelper(read)
}

// userMemory reports whether the address a value gives is in user
// memory: a pointer says where it points; an integer is an address in the
// probe's address space (user memory in probes on user-space programs, as
// in bpftrace); a string argument is already in the program's memory.
func userMemory(e Emitter, t *types.Type) bool {
	switch {
	case t.Kind == types.Pointer:
		return t.AddrSpace == types.User
	case t.IsString():
		return false
	}
	return e.Target() != nil && e.Target().Space == types.User
}

// intArg checks that argument i is an integer.
func intArg(name string, args []*types.Type, i int) error {
	if !args[i].IsIntLike() {
		return argErr(i, "%s() takes an integer, not %s", name, args[i])
	}
	return nil
}

// constArg returns the compile-time value of argument i or an error.
func constArg(name string, literal []*int64, i int, what string) (int64, error) {
	if i >= len(literal) || literal[i] == nil {
		return 0, argErr(i, "%s()'s %s must be an integer constant", name, what)
	}
	return *literal[i], nil
}

// signalNumber resolves signal()'s argument: a constant number, a name
// ("KILL", "SIGKILL"), or 0 with no error for a number computed at run time.
func signalNumber(a *Args) (int, error) {
	switch {
	case a.Strs[0] != nil:
		name := strings.ToUpper(*a.Strs[0])
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		if n := unix.SignalNum(name); n != 0 {
			return int(n), nil
		}
		return 0, argErr(0, "unknown signal %q", *a.Strs[0])
	case a.Ints[0] != nil:
		if n := *a.Ints[0]; n < 1 || n > 64 {
			return 0, argErr(0, "signal %d is out of range (1..64)", n)
		}
		return int(*a.Ints[0]), nil
	case a.Types[0].IsInt():
		return 0, nil
	}
	return 0, argErr(0, "signal() takes a signal name or number, not %s", a.Types[0])
}

// byteSwap reverses the bytes of the low size bytes of dst and clears the
// rest, as a conversion from the host's byte order to the other one: the
// BPF_ALU END instruction every kernel has. (BPF_ALU64 END, the
// unconditional bswap, is ISA v4, Linux 6.6: older verifiers reject it as
// "unknown opcode d7".)
func byteSwap(dst asm.Register, size asm.Size) asm.Instruction {
	if hostLittleEndian {
		return asm.HostTo(asm.BE, dst, size)
	}
	return asm.HostTo(asm.LE, dst, size)
}

// hostLittleEndian reports the host's byte order, which is the kernel's.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
