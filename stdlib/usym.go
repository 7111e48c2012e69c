package stdlib

import (
	"encoding/binary"
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/usersym"
	"github.com/gotrace/gotrace/stdlib/format"
)

// usymSize is the size of a usym value: the address, then the ID of the
// process (tgid) whose address it is, both u64. The name is only made in
// user space, which needs the process to know what was mapped there.
const usymSize = 16

// userSymbols is the library's state for naming user-space addresses.
type userSymbols struct {
	resolver *usersym.Resolver // made on first use
	// used says that the script calls usym(), so that ProbesAttached
	// snapshots the running processes.
	used bool
}

func (u *userSymbols) get() *usersym.Resolver {
	if u.resolver == nil {
		u.resolver = usersym.NewResolver()
	}
	return u.resolver
}

// ProcessSeen is called by the runtime when a program reports a process
// it saw for the first time (see Emitter.NoteProcess): its mappings are
// recorded now, while it most likely still runs, so that its addresses
// can be named when they are printed, perhaps after it has exited.
func (l *Library) ProcessSeen(pid int) {
	// A process that is already gone stays unnamed (see package
	// usersym): not a reason to stop tracing.
	_ = l.userSyms.get().Snapshot(pid)
}

// ProbesAttached is called by the runtime once a script's probes are
// attached and before events are handled. If the script names user-space
// addresses, the mappings of every running process are recorded now, so
// that an address can be named even when it is printed after its process
// has exited (see package usersym for what remains out of reach). If it
// takes kernel stacks, the kernel's symbol table is read now: the frames
// of fentry and fexit stacks include the BPF program and the trampoline
// that calls it, whose symbols exist only while they are loaded and
// attached, and maps print after the probes are detached.
func (l *Library) ProbesAttached() {
	if l.userSyms.used {
		// A process that cannot be read is only named while it runs,
		// and /proc that cannot be listed leaves every process so: it is
		// not a reason to stop tracing.
		_ = l.userSyms.get().SnapshotAll()
	}
	if l.kernelStacks {
		l.machine.rereadKallsyms()
	}
}

func userSymbolFuncs() []*Func {
	return []*Func{
		{
			Name: "usym", Help: "usym(addr): the function at user-space address addr of the current process",
			Kind: Value, MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				if !a.Types[0].IsIntLike() {
					return nil, argErr(0, "usym() takes an address (an integer or a pointer), not %s", a.Types[0])
				}
				a.Lib.userSyms.used = true
				return &types.Type{Kind: types.Special, Name: "usym", Size: usymSize}, nil
			},
			Emit: emitUsym,
		},
		{
			Name: "uaddr", Help: `uaddr("symbol"): the address of a symbol of the file a uprobe or usdt probe is in`,
			Kind: Value, MinArgs: 1, MaxArgs: 1,
			Check: checkUaddr,
			Emit:  emitUaddr,
		},
	}
}

// checkUaddr types uaddr("name"): a pointer into user memory, to an
// unsigned integer of the symbol's size when that is 1, 2, 4 or 8 bytes
// (ELF symbols have sizes, not types), else to a uint64. The symbol is
// looked up, when the script is compiled, in the file each of the
// block's probes is in.
func checkUaddr(a *Args) (*types.Type, error) {
	if a.Strs[0] == nil {
		return nil, argErr(0, "uaddr() takes a symbol name as a string literal")
	}
	name := *a.Strs[0]
	var size uint64
	for i, t := range a.Targets {
		if t.User == nil {
			return nil, fmt.Errorf("uaddr() is only valid in uprobe, uretprobe and usdt probes, which name the file to find the symbol in; not in %s probes", t.Provider.Name)
		}
		sym, ok := t.User.Binary.Symbol(name)
		if !ok {
			return nil, argErr(0, "%s has no symbol %q", t.User.Path, name)
		}
		if i == 0 {
			size = sym.Size
		} else if sym.Size != size {
			return nil, argErr(0, "%q is %d bytes in %s but %d in %s", name, size, a.Targets[0].User.Path, sym.Size, t.User.Path)
		}
		if t.User.PIE && t.Retval != nil {
			// The load address is found from the probed instruction's
			// address, which a return probe does not know.
			return nil, fmt.Errorf("uaddr() needs to know where %s is loaded, which gotrace finds from the probed instruction: in a uprobe or usdt probe on it, not in a uretprobe; save the address in a uprobe on the function (@a[tid] = uaddr(%q))", t.User.Path, name)
		}
	}
	elem := types.Uint64
	switch size {
	case 1, 2, 4:
		elem = types.NewInt(int(size), false)
	}
	return types.NewPointer(elem, types.User), nil
}

// emitUaddr computes uaddr()'s address: the symbol's address in the file,
// which is where it is for an executable loaded at fixed addresses. A
// library or PIE executable is loaded elsewhere, by as much as the probed
// instruction moved, which the instruction pointer tells (a uprobe sees
// the address of the instruction it is placed at).
func emitUaddr(e Emitter, a *Args) {
	t := a.Targets[0]
	sym, _ := t.User.Binary.Symbol(*a.Strs[0])
	if !t.User.PIE {
		e.Emit(asm.LoadImm(asm.R0, int64(sym.Value), asm.DWord))
		return
	}
	e.LoadContext(asm.R0)
	e.Emit(
		asm.LoadMem(asm.R0, asm.R0, int16(t.Regs.IP), asm.DWord),
		asm.LoadImm(asm.R1, int64(sym.Value-t.User.Vaddr), asm.DWord),
		asm.Add.Reg(asm.R0, asm.R1),
	)
}

// emitUsym writes {addr, tgid} to the buffer at R1; the address is in R2.
// The process is reported to user space the first time (NoteProcess), so
// that the address can be named after it exits.
func emitUsym(e Emitter, _ *Args) {
	slot := e.TempSlot()
	e.Emit(
		asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord),
		// Helper calls clobber R1: keep the buffer's address.
		asm.StoreMem(asm.RFP, slot, asm.R1, asm.DWord),
	)
	e.NoteProcess()
	e.Emit(
		asm.FnGetCurrentPidTgid.Call(),
		asm.LoadMem(asm.R1, asm.RFP, slot, asm.DWord),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.R1, 8, asm.R0, asm.DWord),
	)
}

func userSymbolFormatters() []*Formatter {
	return []*Formatter{
		// As bpftrace prints usym: the function's name alone, or the
		// address in hex when it names nothing.
		{Name: "usym", FormatBytes: func(l *Library, b []byte, _ string) format.Value {
			if len(b) < usymSize {
				return fmt.Sprintf("<usym: %d bytes>", len(b))
			}
			addr := binary.LittleEndian.Uint64(b)
			pid := binary.LittleEndian.Uint64(b[8:])
			if s, ok := l.userSyms.get().Lookup(int(pid), addr); ok {
				return l.demangle(s.Name)
			}
			return fmt.Sprintf("0x%x", addr)
		}},
	}
}
