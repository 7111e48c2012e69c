package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// addEvent registers an event description and returns it with its ID.
func (g *gen) addEvent(ev *Event) *Event {
	ev.ID = len(g.c.out.Events)
	g.c.out.Events = append(g.c.out.Events, ev)
	return ev
}

// recordLayout assigns each value an 8-byte aligned offset after the
// record's u64 event ID.
func recordLayout(ts []*types.Type) ([]Field, int) {
	fields := make([]Field, len(ts))
	off := 8
	for i, t := range ts {
		fields[i] = Field{Offset: off, Type: t}
		off += (t.StorageSize() + 7) &^ 7
	}
	return fields, off
}

// output emits one ring buffer record: reserve, write the event ID and the
// values straight into the reserved space, submit. When the buffer is full
// the record is dropped and counted in the lost map, which the runtime
// reports. The values are computed while the reservation is held, so no
// stack copy is needed.
func (g *gen) output(ev *Event, values []ast.Expr) {
	size := 8
	if len(ev.Args) > 0 {
		last := ev.Args[len(ev.Args)-1]
		size = last.Offset + ((last.Type.StorageSize() + 7) &^ 7)
	}
	// A value whose computation runs statements (a block expression, a
	// macro) is computed before the reservation, into the stack: those
	// statements may leave the program (exit(), return), which the
	// verifier forbids while a reservation is held. The values before it
	// are computed first too, to keep the order of evaluation.
	early := 0
	for i, v := range values {
		if runsStatements(v) {
			early = i + 1
		}
	}
	computed := make([]place, early)
	for i, v := range values[:early] {
		f := ev.Args[i]
		n := (f.Type.StorageSize() + 7) &^ 7
		computed[i] = g.buffer(n)
		g.zeroAt(computed[i], n) // all of it is copied below
		g.valueInto(v, f.Type, computed[i], true)
	}
	rec := g.reserve(ev, size)
	rec.exit = ev.Kind == ExitEvent
	for i, v := range values {
		f := ev.Args[i]
		dst := place{base: rec.ptr, off: int16(f.Offset)}
		if i < early {
			g.copyMem(dst, computed[i], f.Type.StorageSize())
			continue
		}
		g.valueInto(v, f.Type, dst, false)
	}
	g.submit(rec)
}

// record is a ring buffer reservation being filled.
type record struct {
	ptr        *tmp // the reserved memory, its event ID already written
	lost, done string
	// exit marks an exit() record, whose loss is also counted at
	// LostExits.
	exit bool
}

// reserve reserves size bytes of the ring buffer for an ev record and
// writes its ID. The code that follows runs only when the reservation
// succeeded; submit closes it.
func (g *gen) reserve(ev *Event, size int) *record {
	g.flushAll()
	g.emit(
		asm.LoadMapPtr(asm.R1, 0).WithReference(EventsMap),
		asm.Mov.Imm(asm.R2, int32(size)),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnRingbufReserve.Call(),
	)
	rec := &record{lost: g.newLabel(), done: g.newLabel()}
	g.emit(asm.JEq.Imm(asm.R0, 0, rec.lost))
	rec.ptr = g.newTmp()
	g.emit(
		asm.Mov.Reg(rec.ptr.reg, asm.R0),
		storeImm64(rec.ptr.reg, 0, int64(ev.ID)),
	)
	return rec
}

// submit hands a filled record to user space; the path where reserve
// failed counts a lost record instead.
func (g *gen) submit(rec *record) {
	g.loadTmp(asm.R1, rec.ptr)
	g.emit(asm.Mov.Imm(asm.R2, 0), asm.FnRingbufSubmit.Call())
	g.free(rec.ptr)
	g.flushAll()
	g.emit(asm.Ja.Label(rec.done))
	g.label(rec.lost)
	g.incrementCounter(LostMap, LostRecords)
	if rec.exit {
		g.incrementCounter(LostMap, LostExits)
	}
	g.label(rec.done)
}

// outputFrom copies the record of size bytes at frame offset slot to the ring
// buffer with bpf_ringbuf_output, for records built on the stack; R0 is
// then 0, or negative when the buffer had no room (the caller counts the
// loss). It clobbers R0..R5.
func (g *gen) outputFrom(slot int16, size int) {
	g.emit(
		asm.LoadMapPtr(asm.R1, 0).WithReference(EventsMap),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(slot)),
		asm.Mov.Imm(asm.R3, int32(size)),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnRingbufOutput.Call(),
	)
}

// incrementCounter adds one to this CPU's slot index of a per-CPU array
// of counters (lost records, updates lost to full maps).
func (g *gen) incrementCounter(ref string, index int) {
	key := g.frame.alloc(8)
	skip := g.newLabel()
	g.emit(
		asm.StoreImm(asm.RFP, key, int64(index), asm.Word),
		asm.LoadMapPtr(asm.R1, 0).WithReference(ref),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(key)),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, skip),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
	)
	g.label(skip)
}

// printf sends the arguments of printf and its relatives (cat, system,
// errorf, warnf: kind says which); the runtime formats them.
func (g *gen) printf(e *ast.Call, kind EventKind) {
	args := e.Args[1:]
	ts := make([]*types.Type, len(args))
	for i, a := range args {
		ts[i] = g.typeOf(a)
	}
	fields, _ := recordLayout(ts)
	ev := g.addEvent(&Event{Kind: kind, Printf: g.c.info.Printf[e], Args: fields, Pos: e.Pos()})
	g.output(ev, args)
}

// exit sends an exit record and ends this run of the program.
func (g *gen) exit(e *ast.Call) {
	ev := &Event{Kind: ExitEvent}
	var values []ast.Expr
	if len(e.Args) == 1 {
		ev.Args, _ = recordLayout([]*types.Type{types.Int64})
		values = e.Args
	}
	g.output(g.addEvent(ev), values)
	g.emit(
		asm.LoadMapValue(asm.R1, 0, 0).WithReference(StateMap),
		storeImm64(asm.R1, 0, 1),
		asm.Ja.Label(g.exitLabel),
	)
}

// mapEvent asks the runtime to print, clear or zero a map.
func (g *gen) mapEvent(kind EventKind, e *ast.Call) {
	m := g.mapOf(e.Args[0].(*ast.MapRef))
	ev := &Event{Kind: kind, Map: m}
	if kind == PrintMapEvent {
		if len(e.Args) > 1 {
			ev.Top = g.c.info.Consts[e.Args[1]]
		}
		if len(e.Args) > 2 {
			ev.Div = g.c.info.Consts[e.Args[2]]
		}
	}
	g.output(g.addEvent(ev), nil)
}

// printValue sends print(value).
func (g *gen) printValue(e *ast.Call) {
	fields, _ := recordLayout([]*types.Type{g.typeOf(e.Args[0])})
	g.output(g.addEvent(&Event{Kind: PrintValueEvent, Args: fields}), e.Args)
}
