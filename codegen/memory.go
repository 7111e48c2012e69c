package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/types"
)

// Values behind pointers (struct fields, array elements, *p) are read with
// bpf_probe_read_kernel or bpf_probe_read_user, chosen by the address space
// the checker recorded. Their addresses are plain integers computed in tmps,
// so any offset or index is fine: the helper, not the verifier, checks the
// memory.

// isMemory reports whether e reads memory rather than the probe context or
// a tuple.
func (g *gen) isMemory(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.FieldAccess:
		_, ok := g.c.info.Fields[e]
		return ok
	case *ast.Index:
		return !check.FromArgs(e)
	case *ast.Unary:
		return e.Op == "*"
	}
	return false
}

// memAddr returns a tmp holding the address of the memory that e reads.
func (g *gen) memAddr(e ast.Expr) *tmp {
	switch e := e.(type) {
	case *ast.Paren:
		return g.memAddr(e.X)
	case *ast.BlockExpr:
		var t *tmp
		g.inBlock(e, func() { t = g.memAddr(e.Value) })
		return t
	case *ast.Unary: // *p
		return g.intExpr(e.X)
	case *ast.FieldAccess:
		base := g.baseAddr(e.X)
		if off := g.c.info.Fields[e].Offset; off != 0 {
			g.emit(asm.Add.Imm(g.clobber(base), int32(off)))
		}
		return base
	case *ast.Index:
		base := g.baseAddr(e.X)
		xt := g.typeOf(e.X)
		elem := xt.Elem
		if xt.Kind == types.Pointer {
			elem = g.typeOf(e)
		}
		idx := g.intExpr(e.Index)
		rb, ri := g.reg2(base, idx)
		g.clobber(base)
		if size := elem.Size; size != 1 {
			g.clobber(idx)
			g.emit(asm.Mul.Imm(ri, int32(size)))
		}
		g.emit(asm.Add.Reg(rb, ri))
		g.free(idx)
		return base
	}
	panic("not a memory expression")
}

// baseAddr is the address a field access or index starts from: the value
// of a pointer, or the address of a struct or array in memory.
func (g *gen) baseAddr(x ast.Expr) *tmp {
	if g.typeOf(x).Kind == types.Pointer {
		return g.intExpr(x)
	}
	return g.memAddr(x)
}

// readFns returns the probe_read helpers for memory in space as.
func readFns(as types.AddrSpace) (read, readStr asm.BuiltinFunc) {
	if as == types.User {
		return asm.FnProbeReadUser, asm.FnProbeReadUserStr
	}
	return asm.FnProbeReadKernel, asm.FnProbeReadKernelStr
}

// spaceOf is the address space the memory read by e is in.
func (g *gen) spaceOf(e ast.Expr) types.AddrSpace {
	switch e := e.(type) {
	case *ast.Paren:
		return g.spaceOf(e.X)
	case *ast.FieldAccess:
		return g.typeOf(e.X).AddrSpace
	case *ast.Index:
		return g.typeOf(e.X).AddrSpace
	case *ast.Unary:
		return g.typeOf(e.X).AddrSpace
	}
	return types.Kernel
}

// memReadInt reads an integer or pointer from memory, bitfields included.
func (g *gen) memReadInt(e ast.Expr) *tmp {
	t := g.typeOf(e)
	var field types.Field
	if fa, ok := e.(*ast.FieldAccess); ok {
		field = g.c.info.Fields[fa]
	}
	size := t.Size
	if t.Kind == types.Pointer {
		size = 8
	}
	addr := g.memAddr(e)
	slot := g.frame.alloc(8)
	read, _ := readFns(g.spaceOf(e))
	g.emit(
		storeImm64(asm.RFP, slot, 0),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, int32(slot)),
		asm.Mov.Imm(asm.R2, int32(size)),
	)
	g.loadTmp(asm.R3, addr)
	g.emit(read.Call())
	g.checkHelper(read, e.Pos())
	r := g.clobber(addr)
	g.emit(asm.LoadMem(r, asm.RFP, slot, sizeOf(size)))
	switch {
	case field.BitSize > 0:
		// Move the field to the top, then back down, extending its sign
		// when it has one.
		g.emit(asm.LSh.Imm(r, int32(64-field.BitOffset-field.BitSize)))
		if t.Signed {
			g.emit(asm.ArSh.Imm(r, int32(64-field.BitSize)))
		} else {
			g.emit(asm.RSh.Imm(r, int32(64-field.BitSize)))
		}
	case t.Kind == types.Int && t.Signed:
		g.extend(r, t)
	}
	return addr
}

// memStringInto reads a char array from memory into the size-byte buffer
// at p, as a NUL-terminated string.
func (g *gen) memStringInto(e ast.Expr, p place, size int, pad bool) {
	t := g.typeOf(e)
	if pad || size > t.Size {
		g.zeroAt(p, size)
	}
	addr := g.memAddr(e)
	_, readStr := readFns(g.spaceOf(e))
	g.addrOf(asm.R1, p)
	g.emit(asm.Mov.Imm(asm.R2, int32(min(size, t.Size))))
	g.loadTmp(asm.R3, addr)
	g.emit(readStr.Call())
	g.checkHelper(readStr, e.Pos())
	g.free(addr)
}
