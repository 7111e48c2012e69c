package codegen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
)

// processMapSize is how many processes ProcessMap remembers; the least
// recently seen are forgotten first (and reported again if seen again).
const processMapSize = 8192

// NoteProcess implements stdlib.Emitter: the first time the current
// process runs this code (as far as ProcessMap remembers), a ProcessEvent
// record with its ID goes to user space, which then records the process's
// memory mappings. User-space addresses (ustack frames, usym values) are
// named from those mappings when they are printed, which for map keys is
// at the end of the run, when a short-lived process may be long gone: the
// record gets the mappings read while it most likely still runs. It
// clobbers R0..R5.
func (g *gen) NoteProcess() {
	if g.c.out.Specs[ProcessMap] == nil {
		g.c.out.Specs[ProcessMap] = &ebpf.MapSpec{
			Name:       "gt_processes",
			Type:       ebpf.LRUHash,
			KeySize:    4,
			ValueSize:  4,
			MaxEntries: processMapSize,
		}
	}
	fields, size := recordLayout([]*types.Type{types.Uint64})
	ev := g.addEvent(&Event{Kind: ProcessEvent, Args: fields})
	rec := g.frame.alloc(size)
	pid := rec + int16(fields[0].Offset)
	done := g.newLabel()
	g.emit(
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.StoreMem(asm.RFP, pid, asm.R0, asm.DWord),
		storeImm64(asm.RFP, rec, int64(ev.ID)),
	)
	// A process seen before is found by the lookup: an update of an LRU
	// map takes a free element from its lists before it finds the key
	// there, and gives it back. The key and the value are the pid's low
	// 4 bytes; the update fails for a process another CPU has just added.
	g.lookupOrInsert(ProcessMap, pid, done, func() { g.emit(asm.Mov.Reg(asm.R3, asm.R2)) })
	g.emit(asm.JNE.Imm(asm.R0, 0, done))
	g.outputFrom(rec, size)
	g.emit(
		// A record the full ring buffer dropped is counted lost, and the
		// process is forgotten so that the next time reports it again.
		asm.JEq.Imm(asm.R0, 0, done),
		asm.LoadMapPtr(asm.R1, 0).WithReference(ProcessMap),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(pid)),
		asm.FnMapDeleteElem.Call(),
	)
	g.incrementCounter(LostMap, LostRecords)
	g.label(done)
}
