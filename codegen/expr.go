package codegen

import (
	"math"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// intExpr generates an integer expression and returns a fresh tmp holding
// its 64-bit value (sign- or zero-extended from its type's width). The caller
// owns the tmp: it may change it in place (after g.clobber) and must free it.
func (g *gen) intExpr(e ast.Expr) *tmp {
	if v, ok := g.c.info.Consts[e]; ok {
		return g.constTmp(v)
	}
	switch e := e.(type) {
	case *ast.Paren:
		return g.intExpr(e.X)
	case *ast.BlockExpr:
		var t *tmp
		g.inBlock(e, func() { t = g.intExpr(e.Value) })
		return t
	case *ast.Ident:
		return g.builtinInt(e)
	case *ast.Var:
		t := g.newTmp()
		base, off := g.memRef(g.varPlace(e), t.reg)
		g.emit(asm.LoadMem(t.reg, base, off, asm.DWord))
		return t
	case *ast.MapRef:
		return g.mapReadInt(e)
	case *ast.Call:
		return g.callInt(e)
	case *ast.Unary:
		return g.unary(e)
	case *ast.Binary:
		return g.binary(e)
	case *ast.Ternary:
		return g.ternaryInt(e)
	case *ast.Cast:
		return g.cast(e)
	case *ast.FieldAccess:
		if g.typeOf(e.X).Kind == types.Tuple {
			return g.tupleElemInt(e)
		}
		if g.isMemory(e) {
			return g.memReadInt(e)
		}
		return g.argsFieldInt(e)
	case *ast.Index:
		if g.isMemory(e) {
			return g.memReadInt(e)
		}
		return g.argsIndexInt(e)
	}
	panic("unexpected integer expression")
}

func (g *gen) constTmp(v int64) *tmp {
	t := g.newTmp()
	if v >= -1<<31 && v < 1<<31 {
		g.emit(asm.Mov.Imm(t.reg, int32(v)))
	} else {
		g.emit(asm.LoadImm(t.reg, v, asm.DWord))
	}
	return t
}

// clobber marks t's stack copy stale before t is changed in place.
func (g *gen) clobber(t *tmp) asm.Register {
	r := g.reg(t)
	t.hasSlot = false
	return r
}

func (g *gen) builtinInt(e *ast.Ident) *tmp {
	v := g.c.info.Vars[e]
	if g.typeOf(e).Kind == types.Probe {
		return g.probeValue()
	}
	v.Emit(g)
	t := g.newTmp()
	g.emit(asm.Mov.Reg(t.reg, asm.R0))
	return t
}

// callInt generates a value function with an integer result.
func (g *gen) callInt(e *ast.Call) *tmp {
	f := g.c.info.Funcs[e]
	if f.Kind == stdlib.Generated {
		return g.generatedCall(e)
	}
	g.callArgsTo(e, f, nil)
	t := g.newTmp()
	g.emit(asm.Mov.Reg(t.reg, asm.R0))
	return t
}

// callArgsTo evaluates a value function's arguments into R2.. (strings as
// the address of a buffer holding them), loads the destination address
// into R1 when dst is non-nil, and emits f.
func (g *gen) callArgsTo(e *ast.Call, f *stdlib.Func, dst *place) {
	a := &stdlib.Args{
		Lib:     g.c.lib,
		Targets: []*probes.Target{g.target},
		Types:   make([]*types.Type, len(e.Args)),
		Ints:    make([]*int64, len(e.Args)),
		Strs:    make([]*string, len(e.Args)),
		Bytes:   make([][]byte, len(e.Args)),
	}
	tmps := make([]*tmp, len(e.Args))
	bufs := make([]*place, len(e.Args))
	for i, arg := range e.Args {
		a.Types[i] = g.typeOf(arg)
		if v, ok := g.c.info.Consts[arg]; ok {
			a.Ints[i] = &v
		}
		if s, ok := g.c.info.Strings[arg]; ok {
			a.Strs[i] = &s
		}
		a.Bytes[i] = g.c.info.Bytes[arg]
		switch t := a.Types[i]; {
		case a.Bytes[i] != nil:
			// A constant array (pton()) exists only as a.Bytes.
		case t.IsString():
			p, _ := g.strTemp(arg)
			bufs[i] = &p
		case t.Kind == types.Array || t.Kind == types.Struct:
			// Arrays and structs in memory are passed by address.
			tmps[i] = g.memAddr(arg)
		default:
			tmps[i] = g.intExpr(arg)
		}
	}
	for i := range e.Args {
		r := asm.R2 + asm.Register(i)
		if bufs[i] != nil {
			g.addrOf(r, *bufs[i])
			continue
		}
		if tmps[i] == nil {
			continue
		}
		g.loadTmp(r, tmps[i])
		g.free(tmps[i])
	}
	if dst != nil {
		g.addrOf(asm.R1, *dst)
	}
	g.callPos = e.Pos()
	f.Emit(g, a)
}

func (g *gen) unary(e *ast.Unary) *tmp {
	switch e.Op {
	case "*":
		return g.memReadInt(e)
	case "&":
		return g.memAddr(e.X)
	}
	x := g.intExpr(e.X)
	r := g.clobber(x)
	switch e.Op {
	case "-":
		g.emit(asm.Neg.Imm(r, 0))
	case "~":
		g.emit(asm.Xor.Imm(r, -1))
	case "!":
		g.boolify(r, asm.JEq)
	}
	return x
}

// boolify sets r to 1 when `r op 0` holds, else 0.
func (g *gen) boolify(r asm.Register, op asm.JumpOp) {
	yes, end := g.newLabel(), g.newLabel()
	g.emit(op.Imm(r, 0, yes), asm.Mov.Imm(r, 0), asm.Ja.Label(end))
	g.label(yes)
	g.emit(asm.Mov.Imm(r, 1))
	g.label(end)
}

// immediate returns the value of e when it is a constant that operator op
// can take as a 32-bit immediate, sign-extended to 64 bits as the CPU does.
// Division by a constant 0 and shifts outside 0..63 keep the register
// form: the verifier rejects them as immediates, while the register form
// has defined results (x / 0 is 0).
func (g *gen) immediate(e ast.Expr, op string) (int32, bool) {
	c, ok := g.c.info.Consts[e]
	if !ok || c < math.MinInt32 || c > math.MaxInt32 {
		return 0, false
	}
	switch op {
	case "/", "%":
		if c == 0 {
			return 0, false
		}
	case "<<", ">>":
		if c < 0 || c > 63 {
			return 0, false
		}
	}
	return int32(c), true
}

// signedOp reports whether an operation on x and y is signed, after C's
// usual arithmetic conversions in 64 bits (see check.promote).
func signedOp(x, y *types.Type) bool {
	unsigned := func(t *types.Type) bool { return t.Kind == types.Pointer || (!t.Signed && t.Size == 8) }
	return !unsigned(x) && !unsigned(y)
}

// arithOp returns the ALU operation of a binary arithmetic operator.
func arithOp(op string) (asm.ALUOp, bool) {
	switch op {
	case "+":
		return asm.Add, true
	case "-":
		return asm.Sub, true
	case "*":
		return asm.Mul, true
	case "/":
		return asm.Div, true
	case "%":
		return asm.Mod, true
	case "&":
		return asm.And, true
	case "|":
		return asm.Or, true
	case "^":
		return asm.Xor, true
	case "<<":
		return asm.LSh, true
	case ">>":
		return asm.RSh, true
	}
	return asm.InvalidALUOp, false
}

func (g *gen) binary(e *ast.Binary) *tmp {
	switch e.Op {
	case "&&", "||":
		return g.logical(e)
	}
	xt, yt := g.typeOf(e.X), g.typeOf(e.Y)
	if xt.IsString() {
		return g.stringCompare(e)
	}
	if xt.Kind == types.Array {
		return g.arrayCompare(e)
	}
	signed := signedOp(xt, yt)
	op, isArith := arithOp(e.Op)
	if isArith && signed {
		switch op {
		case asm.Div:
			op = asm.SDiv
		case asm.Mod:
			op = asm.SMod
		case asm.RSh:
			op = asm.ArSh
		}
	}
	x := g.intExpr(e.X)
	if op == asm.SDiv || op == asm.SMod {
		g.signedDivMod(x, g.intExpr(e.Y), op == asm.SMod)
		return x
	}
	if c, ok := g.immediate(e.Y, e.Op); ok {
		// A constant right operand goes into the instruction: one
		// register less, and the verifier knows the value exactly.
		rx := g.clobber(x)
		if isArith {
			g.emit(op.Imm(rx, c))
			return x
		}
		yes, end := g.newLabel(), g.newLabel()
		g.emit(compareOp(e.Op, signed).Imm(rx, c, yes), asm.Mov.Imm(rx, 0), asm.Ja.Label(end))
		g.label(yes)
		g.emit(asm.Mov.Imm(rx, 1))
		g.label(end)
		return x
	}
	y := g.intExpr(e.Y)
	rx, ry := g.reg2(x, y)
	g.clobber(x)
	if isArith {
		g.emit(op.Reg(rx, ry))
		g.free(y)
		return x
	}
	jop := compareOp(e.Op, signed)
	yes, end := g.newLabel(), g.newLabel()
	g.emit(jop.Reg(rx, ry, yes), asm.Mov.Imm(rx, 0), asm.Ja.Label(end))
	g.label(yes)
	g.emit(asm.Mov.Imm(rx, 1))
	g.label(end)
	g.free(y)
	return x
}

// signedDivMod computes x = x / y, or x % y, on signed values (see
// signedDivModInsns), and frees y.
func (g *gen) signedDivMod(x, y *tmp, mod bool) {
	g.reg2(x, y)
	x.pinned++
	y.pinned++
	s1 := g.newTmp()
	s1.pinned++
	s2 := g.newTmp()
	s1.pinned--
	y.pinned--
	x.pinned--
	g.emit(signedDivModInsns(g.clobber(x), g.clobber(y), s1.reg, s2.reg, mod)...)
	g.free(s2)
	g.free(s1)
	g.free(y)
}

// signedDivModInsns computes dst = dst / src, or dst % src (mod), on
// signed 64-bit values with the unsigned instructions every kernel has:
// the signed ones (BPF_DIV and BPF_MOD with offset 1) are ISA v4, Linux
// 6.6, and older verifiers reject them ("BPF_ALU uses reserved fields").
// As with those instructions and in C, the quotient is truncated toward
// zero and the remainder has the dividend's sign; dividing by zero gives
// what they give, a quotient of 0 and the dividend as the remainder; and
// the minimum value divided by -1 is itself. src, s1 and s2 are
// overwritten.
func signedDivModInsns(dst, src, s1, s2 asm.Register, mod bool) asm.Instructions {
	insns := asm.Instructions{
		// s1 = dst < 0 ? -1 : 0, then dst = |dst|: x ^ -1 - -1 is -x.
		asm.Mov.Reg(s1, dst),
		asm.ArSh.Imm(s1, 63),
		asm.Xor.Reg(dst, s1),
		asm.Sub.Reg(dst, s1),
		// The same for src, with its sign in s2.
		asm.Mov.Reg(s2, src),
		asm.ArSh.Imm(s2, 63),
		asm.Xor.Reg(src, s2),
		asm.Sub.Reg(src, s2),
	}
	if mod {
		// The remainder takes the dividend's sign, s1.
		insns = append(insns, asm.Mod.Reg(dst, src))
	} else {
		// The quotient is negative when the signs differ.
		insns = append(insns, asm.Div.Reg(dst, src), asm.Xor.Reg(s1, s2))
	}
	// Negate dst when s1 is -1.
	return append(insns, asm.Xor.Reg(dst, s1), asm.Sub.Reg(dst, s1))
}

func compareOp(op string, signed bool) asm.JumpOp {
	switch op {
	case "==":
		return asm.JEq
	case "!=":
		return asm.JNE
	}
	if signed {
		return map[string]asm.JumpOp{"<": asm.JSLT, "<=": asm.JSLE, ">": asm.JSGT, ">=": asm.JSGE}[op]
	}
	return map[string]asm.JumpOp{"<": asm.JLT, "<=": asm.JLE, ">": asm.JGT, ">=": asm.JGE}[op]
}

// resultSlot returns a tmp that lives only in a fresh stack slot; branches
// store their result there so that they agree at the join.
func (g *gen) resultSlot() *tmp {
	return &tmp{hasSlot: true, slot: g.frame.alloc(8)}
}

// branchIf jumps to label when `t op 0` holds (op is JEq or JNE), after
// evicting every tmp so that the state at the label matches the
// fall-through path's. It frees t.
func (g *gen) branchIf(t *tmp, op asm.JumpOp, label string) {
	r := g.reg(t)
	g.free(t)
	g.flushAll()
	g.emit(op.Imm(r, 0, label))
}

// logical generates short-circuit && and ||.
func (g *gen) logical(e *ast.Binary) *tmp {
	res := g.resultSlot()
	short, end := g.newLabel(), g.newLabel()
	shortOn, shortVal := asm.JEq, int32(0) // &&: stop at the first false
	if e.Op == "||" {
		shortOn, shortVal = asm.JNE, 1
	}
	g.branchIf(g.intExpr(e.X), shortOn, short)
	g.branchIf(g.intExpr(e.Y), shortOn, short)
	g.emit(storeImm64(asm.RFP, res.slot, int64(1-shortVal)), asm.Ja.Label(end))
	g.label(short)
	g.emit(storeImm64(asm.RFP, res.slot, int64(shortVal)))
	g.label(end)
	return res
}

func (g *gen) ternaryInt(e *ast.Ternary) *tmp {
	res := g.resultSlot()
	els, end := g.newLabel(), g.newLabel()
	g.branchIf(g.intExpr(e.Cond), asm.JEq, els)
	g.storeResult(res, g.intExpr(e.Then))
	g.emit(asm.Ja.Label(end))
	g.label(els)
	g.storeResult(res, g.intExpr(e.Else))
	g.label(end)
	return res
}

func (g *gen) storeResult(res, v *tmp) {
	g.emit(asm.StoreMem(asm.RFP, res.slot, g.reg(v), asm.DWord))
	g.free(v)
	g.flushAll()
}

// cast truncates to the target width with C semantics.
func (g *gen) cast(e *ast.Cast) *tmp {
	t := g.typeOf(e)
	if t.Kind == types.Pointer {
		return g.intExpr(e.X) // a pointer cast changes the type, not the value
	}
	x := g.intExpr(e.X)
	r := g.clobber(x)
	if t == types.Bool {
		g.boolify(r, asm.JNE)
		return x
	}
	g.extend(r, t)
	return x
}

// extend sign- or zero-extends the low t.Size bytes of r to 64 bits.
func (g *gen) extend(r asm.Register, t *types.Type) {
	if t.Size >= 8 {
		return
	}
	shift := int32(64 - 8*t.Size)
	if t.Signed {
		g.emit(asm.LSh.Imm(r, shift), asm.ArSh.Imm(r, shift))
	} else if t.Size == 4 {
		g.emit(asm.Mov.Reg32(r, r))
	} else {
		g.emit(asm.And.Imm(r, int32(1)<<(8*t.Size)-1))
	}
}

// argsField finds the args field accessed by e.
func (g *gen) argsField(e *ast.FieldAccess) types.Field {
	f, ok := g.target.Args.Field(e.Name)
	if !ok {
		panic("args field vanished: " + e.Name)
	}
	return f
}

// sizeOf is the load/store width of an n-byte value.
func sizeOf(n int) asm.Size {
	switch n {
	case 1:
		return asm.Byte
	case 2:
		return asm.Half
	case 4:
		return asm.Word
	}
	return asm.DWord
}

// argsFieldInt loads an integer or pointer field of a tracepoint record
// directly from the context.
func (g *gen) argsFieldInt(e *ast.FieldAccess) *tmp {
	f := g.argsField(e)
	if g.target.Provider.Access == probes.TracingArgs {
		g.tracingSlot(f.Offset, f.Type, asm.R0)
		x := g.newTmp()
		g.emit(asm.Mov.Reg(x.reg, asm.R0))
		return x
	}
	return g.ctxLoad(f.Offset, f.Type)
}

func (g *gen) ctxLoad(off int, t *types.Type) *tmp {
	x := g.newTmp()
	g.emit(
		asm.LoadMem(x.reg, asm.RFP, g.ctxSlot, asm.DWord),
		asm.LoadMem(x.reg, x.reg, int16(off), sizeOf(t.Size)),
	)
	if t.Kind == types.Int && t.Signed {
		g.extend(x.reg, t)
	}
	return x
}

// argsIndexInt loads args.array[constant].
func (g *gen) argsIndexInt(e *ast.Index) *tmp {
	fa, ok := e.X.(*ast.FieldAccess)
	if !ok {
		panic("index of a non-field")
	}
	f := g.argsField(fa)
	i := g.c.info.Consts[e.Index]
	elem := f.Type.Elem
	return g.ctxLoad(f.Offset+int(i)*elem.Size, elem)
}
