package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/types"
)

// Tuples live in memory in C layout (types.Type.Offsets): they are written
// element by element into their destination and read by offset.

// tupleInto writes tuple expression e, converted to type t, at p.
func (g *gen) tupleInto(e ast.Expr, t *types.Type, p place) {
	switch e := e.(type) {
	case *ast.Paren:
		g.tupleInto(e.X, t, p)
	case *ast.BlockExpr:
		g.inBlock(e, func() { g.tupleInto(e.Value, t, p) })
	case *ast.Tuple:
		// Padding between elements must be zero: tuples may be compared
		// or used as keys whole.
		g.zeroAt(p, t.StorageSize())
		offs := t.Offsets()
		for i, el := range e.Elems {
			g.valueInto(el, t.Elems[i], p.plus(offs[i]), true)
		}
	case *ast.Var:
		g.copyMem(p, g.varPlace(e), t.StorageSize())
	case *ast.MapRef:
		g.mapReadInto(e, p, t.StorageSize())
	case *ast.Ternary:
		els, end := g.newLabel(), g.newLabel()
		g.jumpUnless(e.Cond, els)
		g.tupleInto(e.Then, t, p)
		g.flushAll()
		g.emit(asm.Ja.Label(end))
		g.label(els)
		g.tupleInto(e.Else, t, p)
		g.flushAll()
		g.label(end)
	case *ast.FieldAccess:
		// An element of an enclosing tuple that is itself a tuple.
		src, _ := g.tupleElemPlace(e)
		g.copyMem(p, src, t.StorageSize())
	default:
		panic("unexpected tuple expression")
	}
}

// tuplePlace returns where the value of tuple expression e is in memory:
// a variable's own slot, or a temporary buffer it is written to.
func (g *gen) tuplePlace(e ast.Expr) place {
	if v, ok := e.(*ast.Var); ok {
		return g.varPlace(v)
	}
	t := g.typeOf(e)
	p := g.buffer(t.StorageSize())
	g.tupleInto(e, t, p)
	return p
}

// tupleElemPlace returns the place and type of element e of a tuple.
func (g *gen) tupleElemPlace(e *ast.FieldAccess) (place, *types.Type) {
	tt := g.typeOf(e.X)
	i := check.TupleIndex(tt, e.Name)
	return g.tuplePlace(e.X).plus(tt.Offsets()[i]), tt.Elems[i]
}

// tupleElemInt loads an integer element of a tuple.
func (g *gen) tupleElemInt(e *ast.FieldAccess) *tmp {
	p, t := g.tupleElemPlace(e)
	x := g.newTmp()
	base, off := g.memRef(p, asm.R1)
	g.emit(asm.LoadMem(x.reg, base, off, sizeOf(t.StorageSize())))
	if t.Kind == types.Int && t.Signed {
		g.extend(x.reg, t)
	}
	return x
}
