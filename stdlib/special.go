package stdlib

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/format"
)

// A Formatter renders a types.Special value in user space: the kernel side
// only moves an integer (or, for Specials wider than 8 bytes, a few bytes),
// and the text is made when it is printed.
type Formatter struct {
	Name string
	// Format renders an integer Special.
	Format func(l *Library, v uint64, param string) string
	// FormatBytes renders a Special wider than 8 bytes (buf, inet), or
	// the stored frames a stack's ID names (kstack, ustack: see
	// stackid.go); it may return a []byte, which printf's %r family
	// renders.
	FormatBytes func(l *Library, b []byte, param string) format.Value
}

func formatters() []*Formatter {
	return []*Formatter{
		{Name: "ksym", Format: func(l *Library, v uint64, _ string) string {
			if s := l.machine.symbolAt(v); s != "" {
				return s
			}
			return fmt.Sprintf("0x%x", v)
		}},
		{Name: "username", Format: func(l *Library, v uint64, _ string) string {
			return l.machine.userName(uint32(v))
		}},
		{Name: "strerror", Format: func(_ *Library, v uint64, _ string) string {
			// C's wording starts with a capital letter; Go's does not.
			s := syscall.Errno(v).Error()
			if s == "" {
				return s
			}
			return strings.ToUpper(s[:1]) + s[1:]
		}},
		{Name: "macaddr", Format: func(_ *Library, v uint64, _ string) string {
			return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40))
		}},
		{Name: "buf", FormatBytes: func(_ *Library, b []byte, _ string) format.Value {
			n := min(int(binary.LittleEndian.Uint64(b)), len(b)-8)
			return append([]byte(nil), b[8:8+n]...)
		}},
		{Name: "inet", FormatBytes: func(_ *Library, b []byte, _ string) format.Value {
			if binary.LittleEndian.Uint64(b) == unix.AF_INET6 {
				// netip, unlike net.IP, keeps an IPv4-mapped address in
				// IPv6 form (::ffff:1.2.3.4), as inet_ntop does.
				return netip.AddrFrom16([16]byte(b[8:24])).String()
			}
			// netip rather than net: net brings in cgo, and a binary
			// linked against libc starts about 1.5 ms later.
			return netip.AddrFrom4([4]byte(b[8:12])).String()
		}},
		{Name: "strftime", Format: func(l *Library, v uint64, layout string) string {
			return format.Strftime(layout, l.machine.wallTime(v))
		}},
		cgroupPathFormatter(),
		syscallNameFormatter(),
	}
}

// FormatSpecial renders a value of a Special type from its stored bytes.
func (l *Library) FormatSpecial(t *types.Type, raw []byte) format.Value {
	f := l.formatters[t.Name]
	if s, ok := stackLayoutOf(t); ok && f != nil && len(raw) >= 8 {
		// A stack's value is its ID: the frames are in the run's store.
		id := binary.LittleEndian.Uint64(raw)
		b, ok := l.stacks.stack(s, id)
		if !ok {
			return lostStack(id, t.Param)
		}
		return f.FormatBytes(l, b, t.Param)
	}
	switch {
	case f != nil && f.FormatBytes != nil:
		return f.FormatBytes(l, raw[:min(len(raw), t.Size)], t.Param)
	case f != nil && len(raw) >= 8:
		return f.Format(l, binary.LittleEndian.Uint64(raw), t.Param)
	}
	return fmt.Sprint(raw)
}

// passValue is the Emit of functions whose value is their first argument,
// unchanged: only its type (and so how it prints) differs.
func passValue(e Emitter, _ *Args) { e.Emit(asm.Mov.Reg(asm.R0, asm.R2)) }

// specialFuncs are the functions whose values print as text.
func specialFuncs() []*Func {
	intArgTo := func(name, help string) *Func {
		return &Func{
			Name: name, Help: help, Kind: Value, MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				if !a.Types[0].IsIntLike() {
					return nil, argErr(0, "%s() takes an integer, not %s", name, a.Types[0])
				}
				return types.NewSpecial(name, ""), nil
			},
			Emit: passValue,
		}
	}
	addrSpace := func(name string, as types.AddrSpace, help string) *Func {
		return &Func{
			Name: name, Help: help, Kind: Value, MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				t := a.Types[0]
				switch {
				case t.Kind == types.Pointer:
					return types.NewPointer(t.Elem, as), nil
				case t.IsInt():
					return types.NewPointer(types.Uint8, as), nil
				}
				return nil, argErr(0, "%s() takes a pointer or an address, not %s", name, t)
			},
			Emit: passValue,
		}
	}
	return []*Func{
		ptonFunc(),
		cgroupPathFunc(),
		syscallNameFunc(),
		addrSpace("kptr", types.Kernel, "kptr(p): p, read from kernel memory"),
		addrSpace("uptr", types.User, "uptr(p): p, read from user memory"),
		intArgTo("ksym", "ksym(addr): the kernel symbol containing addr"),
		intArgTo("strerror", "strerror(errno): the error's description"),
		{
			Name: "strftime", Help: "strftime(fmt, nsecs): nsecs (a CLOCK_MONOTONIC time) as wall-clock text", Kind: Value,
			MinArgs: 2, MaxArgs: 2,
			Check: func(a *Args) (*types.Type, error) {
				if a.Strs[0] == nil {
					return nil, argErr(0, "strftime()'s format must be a string literal")
				}
				if !a.Types[1].IsInt() {
					return nil, argErr(1, "strftime() takes a time in nanoseconds, not %s", a.Types[1])
				}
				return types.NewSpecial("strftime", *a.Strs[0]), nil
			},
			Emit: func(e Emitter, _ *Args) { e.Emit(asm.Mov.Reg(asm.R0, asm.R3)) },
		},
		{
			Name: "cgroupid", Help: `cgroupid("/sys/fs/cgroup/..."): the ID of a cgroup (v2), to compare with cgroup`, Kind: Value,
			MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				if a.Strs[0] == nil {
					return nil, argErr(0, "cgroupid() takes a cgroup's path as a string literal")
				}
				if _, err := cgroupID(*a.Strs[0]); err != nil {
					return nil, argErr(0, "cgroupid(): %v", err)
				}
				return types.Uint64, nil
			},
			Emit: func(e Emitter, a *Args) {
				id, _ := cgroupID(*a.Strs[0])
				e.Emit(asm.LoadImm(asm.R0, int64(id), asm.DWord))
			},
		},
		{
			Name: "macaddr", Help: "macaddr(p): the 6-byte MAC address at p, printed as XX:XX:XX:XX:XX:XX", Kind: Value,
			MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				if !a.Types[0].IsIntLike() {
					return nil, argErr(0, "macaddr() takes a pointer to 6 bytes, not %s", a.Types[0])
				}
				return types.NewSpecial("macaddr", ""), nil
			},
			Emit: func(e Emitter, a *Args) {
				read := asm.FnProbeReadKernel
				if userMemory(e, a.Types[0]) {
					read = asm.FnProbeReadUser
				}
				slot := e.TempSlot()
				e.Emit(
					asm.Mov.Imm(asm.R0, 0),
					asm.StoreMem(asm.RFP, slot, asm.R0, asm.DWord),
					asm.Mov.Reg(asm.R3, asm.R2),
					asm.Mov.Reg(asm.R1, asm.RFP),
					asm.Add.Imm(asm.R1, int32(slot)),
					asm.Mov.Imm(asm.R2, 6),
					read.Call(),
					asm.LoadMem(asm.R0, asm.RFP, slot, asm.DWord),
				)
			},
		},
		{
			Name: "buf", Help: "buf(p, n): n bytes (at most 64) at p, printed by printf's %r, %rx and %rh", Kind: Value,
			MinArgs: 2, MaxArgs: 2,
			Check: func(a *Args) (*types.Type, error) {
				if !a.Types[0].IsIntLike() && !a.Types[0].IsString() {
					return nil, argErr(0, "buf() takes a pointer or a string, not %s", a.Types[0])
				}
				if !a.Types[1].IsInt() {
					return nil, argErr(1, "buf()'s length must be an integer, not %s", a.Types[1])
				}
				return &types.Type{Kind: types.Special, Name: "buf", Size: 8 + bufMax}, nil
			},
			Emit: func(e Emitter, a *Args) {
				read := asm.FnProbeReadKernel
				if userMemory(e, a.Types[0]) {
					read = asm.FnProbeReadUser
				}
				ok := e.Label()
				e.Emit(
					// n = min(len, bufMax), stored first; the bytes follow.
					asm.JLE.Imm(asm.R3, bufMax, ok),
					asm.Mov.Imm(asm.R3, bufMax),
					asm.StoreMem(asm.R1, 0, asm.R3, asm.DWord).WithSymbol(ok),
					asm.Add.Imm(asm.R1, 8),
					asm.Mov.Reg(asm.R4, asm.R2),
					asm.Mov.Reg(asm.R2, asm.R3),
					asm.Mov.Reg(asm.R3, asm.R4),
					read.Call(),
				)
			},
		},
		{
			Name: "ntop", Help: "ntop([af,] addr): an IPv4 or IPv6 address as text", Kind: Value,
			MinArgs: 1, MaxArgs: 2,
			Check: func(a *Args) (*types.Type, error) {
				addr := a.Types[len(a.Types)-1]
				if len(a.Types) == 2 && !a.Types[0].IsInt() {
					return nil, argErr(0, "ntop()'s address family must be an integer (AF_INET 2, AF_INET6 10)")
				}
				switch {
				case addr.IsInt():
				case addr.Kind == types.Array && (addr.Size == 4 || addr.Size == 16):
				case addr.Kind == types.Pointer && len(a.Types) == 2 && a.Ints[0] != nil:
				default:
					return nil, argErr(len(a.Types)-1, "ntop() takes an IPv4 address as an integer, a 4- or 16-byte array, or a pointer with a constant family")
				}
				return &types.Type{Kind: types.Special, Name: "inet", Size: 24}, nil
			},
			Emit: emitNtop,
		},
		{
			Name: "kaddr", Help: `kaddr("symbol"): the address of a kernel symbol`, Kind: Value,
			MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				if a.Strs[0] == nil {
					return nil, argErr(0, "kaddr() takes a symbol name as a string literal")
				}
				if _, ok := a.Lib.machine.symbolAddr(*a.Strs[0]); !ok {
					return nil, argErr(0, "no kernel symbol %q in /proc/kallsyms", *a.Strs[0])
				}
				return types.Uint64, nil
			},
			Emit: func(e Emitter, a *Args) {
				addr, _ := a.Lib.machine.symbolAddr(*a.Strs[0])
				e.Emit(asm.LoadImm(asm.R0, int64(addr), asm.DWord))
			},
		},
	}
}

// cgroupID is the ID the kernel gives a cgroup v2 directory: its inode
// number in cgroupfs.
func cgroupID(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// bufMax is the most bytes buf() keeps.
const bufMax = 64

// emitNtop writes an inet value {u64 family; 16 address bytes} to R1. The
// address is an integer (IPv4), bytes known at compile time (pton()), or
// the address of an array or the pointer given (read from memory).
func emitNtop(e Emitter, a *Args) {
	if b := a.Bytes[len(a.Types)-1]; b != nil {
		emitConstInet(e, a, b)
		return
	}
	addr := a.Types[len(a.Types)-1]
	addrReg := asm.R2
	if len(a.Types) == 2 {
		addrReg = asm.R3
		e.Emit(asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord))
	} else {
		size := int32(unix.AF_INET)
		if addr.Kind == types.Array && addr.Size == 16 {
			size = unix.AF_INET6
		}
		e.Emit(asm.Mov.Imm(asm.R0, size), asm.StoreMem(asm.R1, 0, asm.R0, asm.DWord))
	}
	if addr.IsInt() {
		e.Emit(asm.StoreMem(asm.R1, 8, addrReg, asm.Word))
		return
	}
	size := int32(addr.Size)
	if addr.Kind == types.Pointer {
		size = 4
		if *a.Ints[0] == unix.AF_INET6 {
			size = 16
		}
	}
	read := asm.FnProbeReadKernel
	if addr.AddrSpace == types.User {
		read = asm.FnProbeReadUser
	}
	e.Emit(
		asm.Add.Imm(asm.R1, 8),
		asm.Mov.Reg(asm.R3, addrReg), // before R2, which may be addrReg, is set
		asm.Mov.Imm(asm.R2, size),
		read.Call(),
	)
}
