package codegen

import (
	"fmt"
	"strconv"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// gen generates one program. It implements stdlib.Emitter so that table
// entries can emit their own instructions.
type gen struct {
	c      *compiler
	target *probes.Target
	probe  *check.ProbeInfo

	insns   asm.Instructions
	pending string  // label to put on the next instruction
	labels  *int    // label counter, shared with the callbacks of map loops
	pos     ast.Pos // source position being compiled, for annotations
	// src is the annotation for pos's line, made once per line; lastSrc
	// is the annotation in effect at the end of insns.
	src, lastSrc *srcLine
	// callPos is the position of the call whose table entry is emitting
	// code, for the reports of CheckHelper.
	callPos ast.Pos

	regs  regFile
	frame frame
	// ctxSlot holds the context pointer (R1 at entry).
	ctxSlot int16
	// scratch, when set, is the pointer to this CPU's slot of the scratch
	// map (a tmp that lives in its stack slot), used for buffers once the
	// stack is full; scratchUsed and scratchMax measure it.
	scratch                 *tmp
	scratchUsed, scratchMax int
	// vars maps scratch variables to their offsets: in the stack frame, or
	// in the scratch map when varsInScratch.
	vars          map[*check.Variable]int16
	varsInScratch bool
	// subprogs are the callbacks of map loops, placed after the program.
	subprogs asm.Instructions
	// stopOff is the scratch-map offset of the flag a map loop's callback
	// sets when its body calls exit() or return: the probe then ends.
	stopOff int16
	// loops are the enclosing loops, innermost last, for break/continue.
	loops     []loopLabels
	exitLabel string
}

// srcLine annotates instructions with the script line they came from,
// "file:line: text"; -d and verifier errors show it. It is formatted once
// for all the instructions of a line (see gen.srcLineAt): cilium/ebpf asks
// annotated instructions for their line when it loads a program.
type srcLine struct {
	line int
	s    string
}

func (s *srcLine) String() string { return s.s }

// srcLineAt returns the annotation for the line being compiled, or nil
// when there is none.
func (g *gen) srcLineAt() *srcLine {
	if !g.pos.IsValid() {
		return nil
	}
	if g.src == nil || g.src.line != g.pos.Line {
		g.src = &srcLine{g.pos.Line, fmt.Sprintf("%s:%d: %s", g.c.src.Name, g.pos.Line, g.c.src.Line(g.pos.Line))}
	}
	return g.src
}

// SourceOf returns the script line instruction i of insns came from: the
// annotation of the nearest instruction at or before it that has one. The
// code generator annotates only the first instruction of each line's run.
func SourceOf(insns asm.Instructions, i int) fmt.Stringer {
	for ; i >= 0 && i < len(insns); i-- {
		if src := insns[i].Source(); src != nil {
			return src
		}
	}
	return nil
}

// at sets the source position for the instructions that follow.
func (g *gen) at(p ast.Pos) {
	if p.IsValid() {
		g.pos = p
	}
}

// emit appends instructions, attaching a pending label to the first and the
// current source line to each.
func (g *gen) emit(insns ...asm.Instruction) {
	for _, ins := range insns {
		if g.pending != "" {
			if ins.Symbol() != "" {
				// Two labels on one spot: the first gets a no-op jump.
				g.insns = append(g.insns, nopJump().WithSymbol(g.pending))
			} else {
				ins = ins.WithSymbol(g.pending)
			}
			g.pending = ""
		}
		if ins.Source() == nil {
			// Only the first instruction of a line's run carries the
			// line: annotating each one cost a quarter of the code
			// generator's time on large scripts. Readers take an
			// instruction's line from the nearest annotated one before
			// it (see SourceOf).
			if src := g.srcLineAt(); src != nil && src != g.lastSrc {
				ins = ins.WithSource(src)
				g.lastSrc = src
			}
		} else {
			g.lastSrc = nil
		}
		g.insns = append(g.insns, ins)
	}
}

// Emit implements stdlib.Emitter.
func (g *gen) Emit(insns ...asm.Instruction) {
	for _, ins := range insns {
		// Table entries put labels directly on instructions; route them
		// through label() so they can coincide with pending ones.
		if sym := ins.Symbol(); sym != "" {
			g.label(sym)
			ins = ins.WithSymbol("")
		}
		g.emit(ins)
	}
}

// newLabel returns a fresh label name.
func (g *gen) newLabel() string {
	*g.labels++
	return "L" + strconv.Itoa(*g.labels)
}

// Label implements stdlib.Emitter.
func (g *gen) Label() string { return g.newLabel() }

// label places name on the next emitted instruction.
func (g *gen) label(name string) {
	if g.pending != "" {
		g.insns = append(g.insns, nopJump().WithSymbol(g.pending))
	}
	g.pending = name
}

// nopJump is a jump to the next instruction, used to carry a label.
func nopJump() asm.Instruction {
	return asm.Instruction{OpCode: asm.Ja.Op(asm.ImmSource)}
}

// Target implements stdlib.Emitter.
func (g *gen) Target() *probes.Target { return g.target }

// LoadArg implements stdlib.Emitter: probe argument n into dst.
func (g *gen) LoadArg(n int, dst asm.Register) {
	g.emit(asm.LoadMem(dst, asm.RFP, g.ctxSlot, asm.DWord))
	switch g.target.Provider.Access {
	case probes.RawArgs:
		g.emit(asm.LoadMem(dst, dst, int16(8*n), asm.DWord))
	case probes.RegsArgs:
		// The register the calling convention passes argument n in, as
		// the kprobe saw it in pt_regs.
		g.emit(asm.LoadMem(dst, dst, int16(g.target.Regs.Args[n]), asm.DWord))
	case probes.USDTArgs:
		g.usdtArg(n, dst)
	default:
		panic("argN on a probe without raw arguments")
	}
}

// LoadRetval implements stdlib.Emitter: the return value into dst.
func (g *gen) LoadRetval(dst asm.Register) {
	t := g.target
	switch t.Provider.Access {
	case probes.RegsArgs:
		g.emit(
			asm.LoadMem(dst, asm.RFP, g.ctxSlot, asm.DWord),
			asm.LoadMem(dst, dst, int16(t.RetvalOffset), asm.DWord),
		)
	case probes.TracingArgs:
		g.tracingSlot(t.RetvalOffset, t.Retval, dst)
	default:
		panic("retval on a probe without one")
	}
}

// tracingSlot loads the value of type typ in the tracing context's slot at
// off into dst. It may clobber R0..R5.
//
// The verifier types a pointer argument loaded from a tracing program's
// context as a pointer to its BTF type, and then refuses what scripts do
// with plain numbers: bitwise operations, multiplication, storing it where
// the verifier wants a scalar. Pointers are therefore copied out with
// bpf_probe_read_kernel, which makes them plain numbers; struct access
// through them reads memory with the helpers anyway.
func (g *gen) tracingSlot(off int, typ *types.Type, dst asm.Register) {
	if typ.Kind == types.Pointer {
		slot := g.frame.alloc(8)
		g.emit(
			asm.Mov.Reg(asm.R1, asm.RFP),
			asm.Add.Imm(asm.R1, int32(slot)),
			asm.Mov.Imm(asm.R2, 8),
			asm.LoadMem(asm.R3, asm.RFP, g.ctxSlot, asm.DWord),
			asm.Add.Imm(asm.R3, int32(off)),
			asm.FnProbeReadKernel.Call(),
			asm.LoadMem(dst, asm.RFP, slot, asm.DWord),
		)
		return
	}
	// The trampoline stores each argument as a whole u64 slot, with
	// whatever the register held above a narrower type: load the slot
	// and extend the type's width.
	g.emit(
		asm.LoadMem(dst, asm.RFP, g.ctxSlot, asm.DWord),
		asm.LoadMem(dst, dst, int16(off), asm.DWord),
	)
	g.extend(dst, typ)
}

// LoadContext implements stdlib.Emitter.
func (g *gen) LoadContext(dst asm.Register) {
	g.emit(asm.LoadMem(dst, asm.RFP, g.ctxSlot, asm.DWord))
}

// probeValue is the value of `probe` and `func`: the index of the target
// in the probe table. Providers whose targets share programs pass it as
// the attach cookie; others have it as a constant.
func (g *gen) probeValue() *tmp {
	if !g.target.Provider.Cookie {
		return g.constTmp(g.c.probeIndex(g.target))
	}
	g.emit(asm.LoadMem(asm.R1, asm.RFP, g.ctxSlot, asm.DWord), asm.FnGetAttachCookie.Call())
	t := g.newTmp()
	g.emit(asm.Mov.Reg(t.reg, asm.R0))
	return t
}

// LoadStartTime implements stdlib.Emitter. The constant is patched by the
// runtime just before loading (see StartTimeSymbol).
func (g *gen) LoadStartTime(dst asm.Register) {
	g.emit(asm.LoadImm(dst, 0, asm.DWord).WithReference(StartTimeSymbol))
}

// StartTimeSymbol marks the LoadImm instructions whose constant the runtime
// replaces with the boot-clock time at which tracing started.
const StartTimeSymbol = "gotrace_start_time"

// prologue saves the context pointer and zeroes the scratch variables
// (bpftrace gives unassigned variables the zero value, and the verifier
// rejects reads of uninitialized stack).
func (g *gen) prologue() {
	g.exitLabel = g.newLabel()
	if !g.target.Provider.RunOnce {
		// After exit(), only END runs (see StateMap): a direct load of
		// the flag, without a helper call.
		g.emit(
			asm.LoadMapValue(asm.R0, 0, 0).WithReference(StateMap),
			asm.LoadMem(asm.R0, asm.R0, 0, asm.DWord),
			asm.JNE.Imm(asm.R0, 0, g.exitLabel),
		)
	}
	g.ctxSlot = g.frame.alloc(8)
	g.emit(asm.StoreMem(asm.RFP, g.ctxSlot, asm.R1, asm.DWord))
	if g.scratch != nil {
		// Look up this CPU's scratch buffer once; the pointer stays in its
		// stack slot and is reloaded where needed.
		key := g.frame.alloc(8)
		g.emit(
			asm.StoreImm(asm.RFP, key, 0, asm.Word),
			asm.LoadMapPtr(asm.R1, 0).WithReference(ScratchMap),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, int32(key)),
			asm.FnMapLookupElem.Call(),
			asm.JEq.Imm(asm.R0, 0, g.exitLabel),
		)
		g.scratch.slot = g.frame.alloc(8)
		g.emit(asm.StoreMem(asm.RFP, g.scratch.slot, asm.R0, asm.DWord))
	}
	if g.varsInScratch {
		// Map loop callbacks share the variables, so they live in the
		// scratch map, allocated once for the whole program.
		g.stopOff = int16(g.scratchUsed)
		g.scratchUsed += 8
		g.scratchMax = max(g.scratchMax, g.scratchUsed)
		g.zeroAt(place{base: g.scratch, off: g.stopOff}, 8)
	}
	for _, v := range g.probe.Vars {
		if v.Type == nil {
			continue // declared, never given a value: never read either
		}
		size := (v.Type.StorageSize() + 7) &^ 7
		var off int16
		if g.varsInScratch {
			off = int16(g.scratchUsed)
			g.scratchUsed += size
			g.scratchMax = max(g.scratchMax, g.scratchUsed)
		} else {
			off = g.frame.alloc(size)
		}
		g.vars[v] = off
		g.zeroAt(g.placeOfVar(off), size)
	}
}

// placeOfVar is the place of the variable stored at off.
func (g *gen) placeOfVar(off int16) place {
	if g.varsInScratch {
		return place{base: g.scratch, off: off}
	}
	return stackPlace(off)
}

// zero clears n bytes at base+off (n a multiple of 8 after rounding).
func (g *gen) zero(base asm.Register, off int16, n int) {
	for i := 0; i < n; i += 8 {
		g.emit(storeImm64(base, off+int16(i), 0))
	}
}

// varPlace returns where the variable e refers to is stored: its stack
// slot, or its place in the scratch map for probes whose loop bodies run in
// callbacks (see mapLoop), which must share variables with the probe.
func (g *gen) varPlace(e *ast.Var) place {
	off, ok := g.vars[g.c.info.Uses[e]]
	if !ok {
		panic("unresolved variable " + e.Name)
	}
	return g.placeOfVar(off)
}

// typeOf returns the checker's type for e.
func (g *gen) typeOf(e ast.Expr) *types.Type {
	t := g.c.info.Types[e]
	if t == nil {
		panic(fmt.Sprintf("no type recorded for %T at %v", e, e.Pos()))
	}
	return t
}

// errorf reports a code generation error at pos.
func (g *gen) errorf(pos ast.Pos, format string, args ...any) {
	g.c.errs.Add(pos, format, args...)
}

// storeImm64 stores a sign-extended 32-bit immediate as a u64. cilium/ebpf's
// asm.StoreImm refuses DWord for fear of the sign extension, which is
// exactly what we want here.
func storeImm64(dst asm.Register, off int16, v int64) asm.Instruction {
	if v < -1<<31 || v >= 1<<31 {
		panic("storeImm64: immediate out of range")
	}
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: dst, Offset: off, Constant: v}
}

// Library implements stdlib.Emitter.
func (g *gen) Library() *stdlib.Library { return g.c.lib }

// TempSlot implements stdlib.Emitter: 8 bytes of statement-scoped stack.
func (g *gen) TempSlot() int16 { return g.frame.alloc(8) }
