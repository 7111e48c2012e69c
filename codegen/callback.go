package codegen

import (
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/ast"
)

// Loop bodies that run as callbacks of a helper (bpf_for_each_map_elem for
// `for ($kv : @map)`, bpf_loop for long `for ($i : a..b)` ranges) are
// generated as BPF subprograms: each has its own stack frame and
// registers, and reaches the probe's variables through the scratch map
// (gen.varsInScratch). The helper's callback context argument points at
// the caller's saved context pointer, so args and arg0..argN work in the
// body. A callback answers 0 to go on and 1 to stop; exit() and return
// also set a flag (stopOff) that ends the probe once the helper returns.

// beginCallback starts the subprogram fn. ctxArg is the argument register
// holding the callback context (see above); save runs first and stores
// the other arguments the callback needs, since helper calls clobber
// R1..R5. The callback's labels are in cb.loops[0].
func (g *gen) beginCallback(at ast.Pos, fn string, ctxArg asm.Register, save func(cb *gen)) *gen {
	cb := &gen{
		c:             g.c,
		target:        g.target,
		probe:         g.probe,
		vars:          g.vars,
		varsInScratch: true,
		labels:        g.labels,
		scratch:       &tmp{hasSlot: true},
		scratchUsed:   g.scratchUsed, // after everything the probe has live
		stopOff:       g.stopOff,
	}
	cb.at(at)
	cb.pending = fn
	stop, next := cb.newLabel(), cb.newLabel()
	cb.exitLabel = cb.newLabel()
	cb.loops = []loopLabels{{brk: stop, cont: next}}
	cb.ctxSlot = cb.frame.alloc(8)
	cb.emit(
		asm.LoadMem(asm.R0, ctxArg, 0, asm.DWord),
		asm.StoreMem(asm.RFP, cb.ctxSlot, asm.R0, asm.DWord),
	)
	save(cb)
	scratchKey := cb.frame.alloc(8)
	cb.scratch.slot = cb.frame.alloc(8)
	cb.emit(
		asm.StoreImm(asm.RFP, scratchKey, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference(ScratchMap),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(scratchKey)),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, stop),
		asm.StoreMem(asm.RFP, cb.scratch.slot, asm.R0, asm.DWord),
	)
	return cb
}

// endCallback generates body and the callback's exits, and appends the
// subprogram (with its BTF function info, params arguments) to g's.
func (g *gen) endCallback(cb *gen, at ast.Pos, body *ast.Block, fn string, params int) {
	labels := cb.loops[0]
	cb.block(body)
	cb.flushAll()
	cb.label(labels.cont)
	cb.emit(asm.Mov.Imm(asm.R0, 0), asm.Return())
	cb.label(cb.exitLabel)
	base, off := cb.memRef(place{base: cb.scratch, off: cb.stopOff}, asm.R1)
	cb.emit(asm.Mov.Imm(asm.R0, 1), asm.StoreMem(base, off, asm.R0, asm.DWord))
	cb.label(labels.brk)
	cb.emit(asm.Mov.Imm(asm.R0, 1), asm.Return())

	if g.frame.max+cb.frame.max > maxStack {
		g.errorf(at, "this loop's body and its probe need %d bytes of stack together; the kernel allows %d", g.frame.max+cb.frame.max, maxStack)
	}
	g.scratchMax = max(g.scratchMax, cb.scratchMax)
	cb.insns[0] = btf.WithFuncMetadata(cb.insns[0], funcInfo(fn, params, false))
	g.subprogs = append(g.subprogs, cb.insns...)
	g.subprogs = append(g.subprogs, cb.subprogs...)
}

// stopIfCallbackExited ends the probe when a callback's body called exit()
// or return (it set the stop flag).
func (g *gen) stopIfCallbackExited() {
	after := g.newLabel()
	base, off := g.memRef(place{base: g.scratch, off: g.stopOff}, asm.R1)
	g.emit(
		asm.LoadMem(asm.R0, base, off, asm.DWord),
		asm.JEq.Imm(asm.R0, 0, after),
		asm.Ja.Label(g.exitLabel),
	)
	g.label(after)
}
