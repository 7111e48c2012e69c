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
			Name: "uaddr", Help: `uaddr("symbol"): the address of a symbol of the binary a uprobe is attached to`,
			Kind: Value, MinArgs: 1, MaxArgs: 1,
			Check: func(a *Args) (*types.Type, error) {
				// The symbol is looked up in the probed binary, which only
				// uprobe and usdt probes have.
				return nil, fmt.Errorf("uaddr() needs a uprobe or usdt probe, which names the binary to find the symbol in; gotrace does not support those probes yet")
			},
		},
	}
}

// emitUsym writes {addr, tgid} to the buffer at R1; the address is in R2.
func emitUsym(e Emitter, _ *Args) {
	slot := e.TempSlot()
	e.Emit(
		asm.StoreMem(asm.R1, 0, asm.R2, asm.DWord),
		// The helper call clobbers R1: keep the buffer's address.
		asm.StoreMem(asm.RFP, slot, asm.R1, asm.DWord),
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
				return s.Name
			}
			return fmt.Sprintf("0x%x", addr)
		}},
	}
}
