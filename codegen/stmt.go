package codegen

import (
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib"
)

func (g *gen) block(b *ast.Block) {
	for _, s := range b.Stmts {
		g.stmt(s)
	}
}

// stmt generates one statement. Temporary stack memory is released at the
// end of each statement, and no tmp outlives it.
func (g *gen) stmt(s ast.Stmt) {
	g.at(s.Pos())
	mark, scratchMark := g.frame.mark(), g.scratchUsed
	defer func() { g.frame.reset(mark); g.scratchUsed = scratchMark }()
	switch s := s.(type) {
	case *ast.Block:
		g.block(s)
	case *ast.ExprStmt:
		g.exprStmt(s.X)
	case *ast.AssignStmt:
		g.assign(s)
	case *ast.IfStmt:
		g.ifStmt(s)
	case *ast.LetStmt:
		if s.Value != nil {
			g.assignVar(s.Var, s.Value)
		}
	case *ast.WhileStmt:
		g.whileStmt(s)
	case *ast.ForStmt:
		if s.Map != nil {
			g.mapLoop(s)
		} else {
			g.forRange(s)
		}
	case *ast.UnrollStmt:
		for i := int64(0); i < g.c.info.Consts[s.Count]; i++ {
			g.block(s.Body)
		}
	case *ast.JumpStmt:
		g.jump(s)
	default:
		panic("unexpected statement")
	}
	g.flushAll()
}

func (g *gen) ifStmt(s *ast.IfStmt) {
	els, end := g.newLabel(), g.newLabel()
	g.jumpUnless(s.Cond, els)
	g.block(s.Then)
	if s.Else == nil {
		g.label(els)
		return
	}
	g.emit(asm.Ja.Label(end))
	g.label(els)
	g.stmt(s.Else)
	g.label(end)
}

func (g *gen) exprStmt(x ast.Expr) {
	switch x := x.(type) {
	case *ast.Call:
		g.callStmt(x)
	case *ast.Unary: // ++x, --x
		g.incDec(x.X, x.Op)
	case *ast.Postfix:
		g.incDec(x.X, x.Op)
	case *ast.BlockExpr:
		g.inBlock(x, func() { g.exprStmt(x.Value) })
	case *ast.Paren:
		// Parentheses change nothing; a block without a value inside
		// them must still run.
		g.exprStmt(x.X)
	default:
		// An expression evaluated for nothing: still evaluate it, it may
		// have side effects in calls and, inside a block expression, in
		// statements, which must run whatever the value's type.
		switch t := g.typeOf(x); {
		case t.IsIntLike():
			g.free(g.intExpr(x))
		case !runsStatements(x):
			// Nothing that has an effect.
		case t.Kind == types.Struct || t.Kind == types.Array:
			g.free(g.memAddr(x))
		case t.Kind != types.Void:
			g.valueInto(x, t, g.buffer(t.StorageSize()), false)
		}
	}
}

func (g *gen) incDec(target ast.Expr, op string) {
	switch t := target.(type) {
	case *ast.Var:
		alu := asm.Add
		if op == "--" {
			alu = asm.Sub
		}
		base, off := g.memRef(g.varPlace(t), asm.R1)
		g.emit(
			asm.LoadMem(asm.R0, base, off, asm.DWord),
			alu.Imm(asm.R0, 1),
		)
		g.toDeclared(t, asm.R0)
		g.emit(asm.StoreMem(base, off, asm.R0, asm.DWord))
	case *ast.MapRef:
		g.mapModify(t, op, nil)
	}
}

func (g *gen) callStmt(e *ast.Call) {
	f := g.c.info.Funcs[e]
	if f.Kind != stdlib.Statement {
		// A value function called for its effect.
		switch t := g.typeOf(e); {
		case t.IsIntLike():
			g.free(g.callInt(e))
		case t.Kind == types.Void:
			g.callArgsTo(e, f, nil)
		}
		return
	}
	switch e.Name {
	case "printf":
		g.printf(e, PrintfEvent)
	case "cat":
		g.printf(e, CatEvent)
	case "system":
		g.printf(e, SystemEvent)
	case "errorf":
		g.printf(e, ErrorfEvent)
	case "warnf":
		g.printf(e, WarnfEvent)
	case "exit":
		g.exit(e)
	case "print":
		if m, ok := e.Args[0].(*ast.MapRef); ok && m.Keys == nil {
			g.mapEvent(PrintMapEvent, e)
		} else {
			g.printValue(e)
		}
	case "join":
		g.join(e)
	case "time":
		layout := "%H:%M:%S\n"
		if len(e.Args) == 1 {
			layout = g.c.info.Strings[e.Args[0]]
		}
		g.output(g.addEvent(&Event{Kind: TimeEvent, TimeFormat: layout}), nil)
	case "clear":
		g.mapEvent(ClearEvent, e)
	case "zero":
		g.mapEvent(ZeroEvent, e)
	case "delete":
		m := e.Args[0].(*ast.MapRef)
		if len(e.Args) == 2 {
			m = &ast.MapRef{At: m.At, Name: m.Name, Keys: ast.KeyExprs(e.Args[1])}
		}
		if g.mapOf(m).Bucketed() {
			g.errorf(e.At, "delete() on one key of a hist() or lhist() map is not supported yet; use clear()")
			return
		}
		g.mapDelete(m)
	default:
		panic("unknown statement function " + e.Name)
	}
}

func (g *gen) assign(s *ast.AssignStmt) {
	switch t := s.Target.(type) {
	case *ast.Var:
		if s.Op == "=" {
			g.assignVar(t, s.Value)
			return
		}
		vt := g.c.info.Uses[t].Type
		v := g.intExpr(s.Value)
		rv := g.reg(v)
		base, off := g.memRef(g.varPlace(t), asm.R1)
		alu := compoundOp(s.Op, vt)
		g.emit(asm.LoadMem(asm.R0, base, off, asm.DWord))
		if alu == asm.SDiv || alu == asm.SMod {
			// base is R1 or the frame pointer: R2 and R3 are free.
			g.emit(signedDivModInsns(asm.R0, g.clobber(v), asm.R2, asm.R3, alu == asm.SMod)...)
		} else {
			g.emit(alu.Reg(asm.R0, rv))
		}
		g.toDeclared(t, asm.R0)
		g.emit(asm.StoreMem(base, off, asm.R0, asm.DWord))
		g.free(v)
	case *ast.MapRef:
		if call, ok := s.Value.(*ast.Call); ok {
			if f := g.c.info.Funcs[call]; f != nil && f.Agg != nil {
				g.aggregate(t, call)
				return
			}
		}
		if s.Op == "=" {
			g.mapAssign(t, s.Value)
			return
		}
		g.mapModify(t, s.Op, s.Value)
	}
}

func compoundOp(op string, t *types.Type) asm.ALUOp {
	alu, _ := arithOp(strings.TrimSuffix(op, "="))
	if t.Signed {
		switch alu {
		case asm.Div:
			return asm.SDiv
		case asm.Mod:
			return asm.SMod
		case asm.RSh:
			return asm.ArSh
		}
	}
	return alu
}

// assignVar generates `$x = value` (and `let $x = value`).
func (g *gen) assignVar(x *ast.Var, value ast.Expr) {
	v := g.c.info.Uses[x]
	if v.Declared == nil {
		g.valueInto(value, v.Type, g.varPlace(x), true)
		return
	}
	t := g.intExpr(value)
	g.toDeclared(x, g.clobber(t))
	g.storeInt(g.varPlace(x), t, 8)
	g.free(t)
}

// toDeclared converts the value in r to the integer type x was declared
// with (`let $x: uint8`), as C converts on assignment: variables are kept
// 64 bits wide, so a narrower declared type truncates and re-extends.
func (g *gen) toDeclared(x *ast.Var, r asm.Register) {
	if d := g.c.info.Uses[x].Declared; d != nil {
		g.extend(r, d)
	}
}
