package stdlib

import (
	"fmt"
	"strings"
	"syscall"

	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/format"
)

// A Formatter renders a types.Special value in user space: the kernel side
// only moves an integer, and the text is made when it is printed.
type Formatter struct {
	Name   string
	Format func(l *Library, v uint64, param string) string
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
		{Name: "strftime", Format: func(l *Library, v uint64, layout string) string {
			return format.Strftime(layout, l.machine.wallTime(v))
		}},
	}
}

// FormatSpecial renders a value of a Special type.
func (l *Library) FormatSpecial(t *types.Type, v uint64) string {
	if f := l.formatters[t.Name]; f != nil {
		return f.Format(l, v, t.Param)
	}
	return fmt.Sprint(v)
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
				if t := a.Types[0]; t.Kind == types.Pointer && t.AddrSpace == types.User {
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
