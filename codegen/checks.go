package codegen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Checks that options add to programs: the process filter of -p and the
// helper error reports of -k.

// needsPIDFilter reports whether the programs of provider p must check
// the current process themselves under Options.FilterPID: perf events are
// opened for the process instead, and BEGIN and END (and interval
// probes, which are perf events too) are not tied to any process, as in
// bpftrace.
func needsPIDFilter(p *probes.Provider) bool {
	return !p.RunOnce && p.ProgType != ebpf.PerfEvent
}

// filterPID ends the program unless the current process is
// Options.FilterPID (see needsPIDFilter).
func (g *gen) filterPID() {
	if g.c.opts.FilterPID == 0 || !needsPIDFilter(g.target.Provider) {
		return
	}
	g.emit(
		asm.FnGetCurrentPidTgid.Call(),
		asm.RSh.Imm(asm.R0, 32),
		asm.JNE.Imm(asm.R0, int32(g.c.opts.FilterPID), g.exitLabel),
	)
}

// CheckHelper implements stdlib.Emitter: it checks the value the helper
// call just emitted returned in R0, for the call the entry is emitting.
func (g *gen) CheckHelper(fn asm.BuiltinFunc) { g.checkHelper(fn, g.callPos) }

// checkHelper follows a call of helper fn made for the script's code at
// pos: with Options.HelperErrors, a negative return value in R0 sends a
// HelperErrorEvent record (with bpf_ringbuf_output, from 16 bytes of
// stack: the event ID, then R0). R0 is preserved; R1..R5 are not, as after
// any helper call. Without the option it emits nothing.
func (g *gen) checkHelper(fn asm.BuiltinFunc, pos ast.Pos) {
	if !g.c.opts.HelperErrors {
		return
	}
	fields, size := recordLayout([]*types.Type{types.Int64})
	ev := g.addEvent(&Event{Kind: HelperErrorEvent, Helper: fn, Pos: pos, Args: fields})
	slot := g.frame.alloc(size)
	ok, sent := g.newLabel(), g.newLabel()
	g.emit(
		asm.JSGE.Imm(asm.R0, 0, ok),
		asm.StoreMem(asm.RFP, slot+8, asm.R0, asm.DWord),
		storeImm64(asm.RFP, slot, int64(ev.ID)),
	)
	g.outputFrom(slot, size)
	g.emit(asm.JEq.Imm(asm.R0, 0, sent))
	g.incrementCounter(LostMap, LostRecords)
	g.label(sent)
	g.emit(asm.LoadMem(asm.R0, asm.RFP, slot+8, asm.DWord))
	g.label(ok)
}
