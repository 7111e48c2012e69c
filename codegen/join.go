package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// join() reads up to JoinMax strings of up to JoinStrSize bytes each, as
// bpftrace does, from an array of pointers ending with NULL.
const (
	JoinMax     = 16
	JoinStrSize = 64
)

// join emits a record holding the count and the strings; user space joins
// and prints them. The array is read with unrolled code: a pointer per
// element, then its string, stopping at the first NULL.
func (g *gen) join(e *ast.Call) {
	sep := " "
	if len(e.Args) == 2 {
		sep = g.c.info.Strings[e.Args[1]]
	}
	ev := g.addEvent(&Event{Kind: JoinEvent, Separator: sep})
	readPtr, readStr := asm.FnProbeReadKernel, asm.FnProbeReadKernelStr
	if t := g.typeOf(e.Args[0]); t.Kind != types.Pointer || t.AddrSpace == types.User {
		// Arrays of strings (argv, envp) are in user memory unless a
		// kernel pointer type says otherwise.
		readPtr, readStr = asm.FnProbeReadUser, asm.FnProbeReadUserStr
	}
	arr := g.intExpr(e.Args[0])
	arrSlot := g.slotOf(arr)
	ptrSlot := g.frame.alloc(8)
	rec := g.reserve(ev, 16+JoinMax*JoinStrSize)
	g.emit(storeImm64(rec.ptr.reg, 8, 0))
	// The loop below calls helpers and addresses the record through its
	// stack slot.
	g.spill(rec.ptr)
	recSlot := rec.ptr.slot
	filled := g.newLabel()
	for i := 0; i < JoinMax; i++ {
		off := int32(16 + i*JoinStrSize)
		g.emit(
			// ptr = arr[i]
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, int32(ptrSlot)),
			asm.Mov.Imm(asm.R2, 8),
			asm.LoadMem(asm.R3, asm.RFP, arrSlot, asm.DWord),
			asm.Add.Imm(asm.R3, int32(8*i)),
			readPtr.Call(),
			asm.JNE.Imm(asm.R0, 0, filled),
			asm.LoadMem(asm.R3, asm.RFP, ptrSlot, asm.DWord),
			asm.JEq.Imm(asm.R3, 0, filled),
			// the string, into the record
			asm.LoadMem(asm.R1, asm.RFP, recSlot, asm.DWord),
			asm.Add.Imm(asm.R1, off),
			asm.Mov.Imm(asm.R2, JoinStrSize),
			readStr.Call(),
			asm.LoadMem(asm.R1, asm.RFP, recSlot, asm.DWord),
			asm.Mov.Imm(asm.R2, int32(i+1)),
			asm.StoreMem(asm.R1, 8, asm.R2, asm.DWord),
		)
	}
	g.label(filled)
	g.submit(rec)
	g.free(arr)
}
