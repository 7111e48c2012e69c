package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// place is a location in BPF memory: the stack (base nil, offset from R10)
// or memory behind a pointer held in a tmp (a ring buffer record).
type place struct {
	base *tmp
	off  int16
}

func stackPlace(off int16) place { return place{off: off} }

// plus returns the place off bytes further.
func (p place) plus(off int) place { return place{base: p.base, off: p.off + int16(off)} }

// baseReg returns a register holding the place's base address.
func (g *gen) baseReg(p place) asm.Register {
	if p.base == nil {
		return asm.RFP
	}
	return g.reg(p.base)
}

// memRef returns a base register and offset for direct loads from p,
// loading a pointer base into scratch (an argument register) when needed.
func (g *gen) memRef(p place, scratch asm.Register) (asm.Register, int16) {
	if p.base == nil {
		return asm.RFP, p.off
	}
	g.loadTmp(scratch, p.base)
	return scratch, p.off
}

// addrOf loads the address of p into dst (an argument register).
func (g *gen) addrOf(dst asm.Register, p place) {
	if p.base == nil {
		g.emit(asm.Mov.Reg(dst, asm.RFP))
	} else {
		g.loadTmp(dst, p.base)
	}
	g.emit(asm.Add.Imm(dst, int32(p.off)))
}

// storeInt writes t's value (size bytes) at p.
func (g *gen) storeInt(p place, t *tmp, size int) {
	if p.base == nil {
		g.emit(asm.StoreMem(asm.RFP, p.off, g.reg(t), sizeOf(size)))
		return
	}
	rb, rt := g.reg2(p.base, t)
	g.emit(asm.StoreMem(rb, p.off, rt, sizeOf(size)))
}

// zeroAt clears n bytes (a multiple of 8) at p.
func (g *gen) zeroAt(p place, n int) {
	g.zero(g.baseReg(p), p.off, n)
}

// strInto writes the string e into the size-byte buffer at p. With pad set
// the bytes after the string are zero too, which map keys need (they are
// compared whole).
func (g *gen) strInto(e ast.Expr, p place, size int, pad bool) {
	if s, ok := g.c.info.Strings[e]; ok {
		g.constStrInto(s, p, size)
		return
	}
	switch e := e.(type) {
	case *ast.Paren:
		g.strInto(e.X, p, size, pad)
	case *ast.BlockExpr:
		g.inBlock(e, func() { g.strInto(e.Value, p, size, pad) })
	case *ast.Ident:
		v := g.c.info.Vars[e]
		if size > g.typeOf(e).Size || (pad && !v.Fills) {
			g.zeroAt(p, size)
		}
		g.addrOf(asm.R1, p)
		v.Emit(g)
	case *ast.Call:
		f := g.c.info.Funcs[e]
		if at := g.typeOf(e.Args[0]); at.IsString() && e.Name == "str" {
			g.strInto(e.Args[0], p, size, pad)
			return
		}
		if pad && (!f.Fills || size > g.typeOf(e).StorageSize()) {
			g.zeroAt(p, size)
		}
		g.callArgsTo(e, f, &p)
	case *ast.Var:
		g.copyMem(p, g.varPlace(e), min(size, g.typeOf(e).StorageSize()))
		if rest := size - g.typeOf(e).StorageSize(); rest > 0 {
			g.zeroAt(p.plus(g.typeOf(e).StorageSize()), rest)
		}
	case *ast.MapRef:
		g.mapReadInto(e, p, size)
	case *ast.Index, *ast.Unary:
		g.memStringInto(e, p, size, pad)
	case *ast.FieldAccess:
		if g.typeOf(e.X).Kind == types.Tuple {
			src, t := g.tupleElemPlace(e)
			g.copyMem(p, src, min(size, t.StorageSize()))
			if rest := size - t.StorageSize(); rest > 0 {
				g.zeroAt(p.plus(t.StorageSize()), rest)
			}
			return
		}
		if g.isMemory(e) {
			g.memStringInto(e, p, size, pad)
			return
		}
		g.argsStringInto(e, p, size, pad)
	case *ast.Ternary:
		els, end := g.newLabel(), g.newLabel()
		g.branchIf(g.intExpr(e.Cond), asm.JEq, els)
		g.strInto(e.Then, p, size, pad)
		g.flushAll()
		g.emit(asm.Ja.Label(end))
		g.label(els)
		g.strInto(e.Else, p, size, pad)
		g.flushAll()
		g.label(end)
	default:
		panic("unexpected string expression")
	}
}

// constStrInto stores a constant string, NUL-padded to size, 4 bytes per
// instruction (BPF immediates are 32 bits).
func (g *gen) constStrInto(s string, p place, size int) {
	b := make([]byte, (size+7)&^7)
	copy(b, s)
	if len(s) >= size {
		b[size-1] = 0
	}
	base := g.baseReg(p)
	for i := 0; i < len(b); i += 4 {
		v := int32(uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24)
		g.emit(asm.StoreImm(base, p.off+int16(i), int64(v), asm.Word))
	}
}

// copyMem copies n bytes (rounded up to 8) from src to dst.
func (g *gen) copyMem(dst, src place, n int) {
	n = (n + 7) &^ 7
	for i := 0; i < n; i += 8 {
		g.emit(asm.LoadMem(asm.R0, g.baseReg(src), src.off+int16(i), asm.DWord))
		g.emit(asm.StoreMem(g.baseReg(dst), dst.off+int16(i), asm.R0, asm.DWord))
	}
}

// argsStringInto reads a string field of a tracepoint record: a char
// array inline in the record, or a __data_loc string stored after it.
func (g *gen) argsStringInto(e *ast.FieldAccess, p place, size int, pad bool) {
	f := g.argsField(e)
	if pad || f.DataLoc {
		g.zeroAt(p, size)
	}
	g.emit(asm.LoadMem(asm.R3, asm.RFP, g.ctxSlot, asm.DWord))
	if f.DataLoc {
		// The u32 at the field holds (length << 16 | offset).
		g.emit(
			asm.LoadMem(asm.R4, asm.R3, int16(f.Offset), asm.Word),
			asm.And.Imm(asm.R4, 0xffff),
			asm.Add.Reg(asm.R3, asm.R4),
		)
		g.addrOf(asm.R1, p)
		g.emit(asm.Mov.Imm(asm.R2, int32(min(size, f.Type.Size))), asm.FnProbeReadKernelStr.Call())
		g.checkHelper(asm.FnProbeReadKernelStr, e.Pos())
		return
	}
	g.emit(asm.Add.Imm(asm.R3, int32(f.Offset)))
	g.addrOf(asm.R1, p)
	g.emit(asm.Mov.Imm(asm.R2, int32(min(size, f.Type.Size))), asm.FnProbeReadKernel.Call())
	g.checkHelper(asm.FnProbeReadKernel, e.Pos())
}

// strTemp materializes a string expression in a new stack buffer.
func (g *gen) strTemp(e ast.Expr) (place, int) {
	t := g.typeOf(e)
	size := (t.Size + 7) &^ 7
	p := g.buffer(size)
	g.strInto(e, p, size, true)
	return p, t.Size
}

// stringCompare generates == and != on strings as a 0/1 value.
func (g *gen) stringCompare(e *ast.Binary) *tmp {
	res := g.resultSlot()
	differ, end := g.newLabel(), g.newLabel()
	g.jumpIfStringsDiffer(e.X, e.Y, 0, differ)
	eq, ne := int64(1), int64(0)
	if e.Op == "!=" {
		eq, ne = 0, 1
	}
	g.emit(storeImm64(asm.RFP, res.slot, eq), asm.Ja.Label(end))
	g.label(differ)
	g.emit(storeImm64(asm.RFP, res.slot, ne))
	g.label(end)
	return res
}

// stringCompareJump jumps to label when the string comparison e (== or !=)
// is false (whenFalse) or true.
func (g *gen) stringCompareJump(e *ast.Binary, label string, whenFalse bool) {
	if (e.Op == "==") == whenFalse {
		g.jumpIfStringsDiffer(e.X, e.Y, 0, label)
		return
	}
	differ := g.newLabel()
	g.jumpIfStringsDiffer(e.X, e.Y, 0, differ)
	g.emit(asm.Ja.Label(label))
	g.label(differ)
}

// jumpIfStringsDiffer compares strings x and y and jumps to differ when
// they are not equal (their bytes differ before the first NUL, or within
// the first limit bytes when limit > 0), falling through when they are.
// Comparisons with a literal test the known bytes against immediates.
func (g *gen) jumpIfStringsDiffer(x, y ast.Expr, limit int, differ string) {
	lit, other := y, x
	if _, ok := g.c.info.Strings[x]; ok {
		lit, other = x, y
	}
	if s, ok := g.c.info.Strings[lit]; ok {
		buf, size := g.strTemp(other)
		g.flushAll()
		base, off := g.memRef(buf, asm.R2)
		// Compare len(s)+1 bytes (the NUL included), at most the buffer.
		want := append([]byte(s), 0)
		if len(want) > size {
			want = want[:size]
		}
		if limit > 0 && len(want) > limit {
			want = want[:limit]
		}
		g.compareBytes(base, off, want, differ)
		return
	}
	a, asize := g.strTemp(x)
	b, bsize := g.strTemp(y)
	g.flushAll()
	abase, aoff := g.memRef(a, asm.R2)
	bbase, boff := g.memRef(b, asm.R3)
	same := g.newLabel()
	n := min(asize, bsize)
	if limit > 0 {
		n = min(n, limit)
	}
	for i := 0; i < n; i++ {
		g.emit(
			asm.LoadMem(asm.R0, abase, aoff+int16(i), asm.Byte),
			asm.LoadMem(asm.R1, bbase, boff+int16(i), asm.Byte),
			asm.JNE.Reg(asm.R0, asm.R1, differ),
			asm.JEq.Imm(asm.R0, 0, same),
		)
	}
	g.label(same)
}

// compareBytes jumps to differ unless the memory at base+off holds want.
// It compares whole words, the widest first (comm == "nginx" is one 4-byte
// and one 2-byte test), at offsets that stay aligned because buffers start
// on 8 bytes.
func (g *gen) compareBytes(base asm.Register, off int16, want []byte, differ string) {
	for i := 0; i < len(want); {
		n := 8
		for n > len(want)-i {
			n /= 2
		}
		var v uint64
		for j := n - 1; j >= 0; j-- {
			v = v<<8 | uint64(want[i+j])
		}
		at := off + int16(i)
		switch n {
		case 8:
			g.emit(
				asm.LoadMem(asm.R0, base, at, asm.DWord),
				asm.LoadImm(asm.R1, int64(v), asm.DWord),
				asm.JNE.Reg(asm.R0, asm.R1, differ),
			)
		default:
			// Narrow loads zero-extend; a 32-bit compare avoids the sign
			// extension of the immediate.
			g.emit(
				asm.LoadMem(asm.R0, base, at, sizeOf(n)),
				asm.JNE.Imm32(asm.R0, int32(uint32(v)), differ),
			)
		}
		i += n
	}
}
