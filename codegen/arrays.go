package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
)

// Arrays are compared (== and !=) with a constant array, pton()'s (the
// checker rejects other comparisons and folds those of two constants): the
// array is copied into a buffer, from the tracepoint record or with a
// probe_read helper, and its bytes are tested against immediates.

// arrayCompare generates == and != on arrays as a 0/1 value.
func (g *gen) arrayCompare(e *ast.Binary) *tmp {
	res := g.resultSlot()
	differ, end := g.newLabel(), g.newLabel()
	g.jumpIfArrayDiffers(e, differ)
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

// arrayCompareJump jumps to label when the array comparison e is false
// (whenFalse) or true.
func (g *gen) arrayCompareJump(e *ast.Binary, label string, whenFalse bool) {
	if (e.Op == "==") == whenFalse {
		g.jumpIfArrayDiffers(e, label)
		return
	}
	differ := g.newLabel()
	g.jumpIfArrayDiffers(e, differ)
	g.emit(asm.Ja.Label(label))
	g.label(differ)
}

// jumpIfArrayDiffers jumps to differ unless the operands of e, an array and
// a constant array, hold the same bytes.
func (g *gen) jumpIfArrayDiffers(e *ast.Binary, differ string) {
	arr, want := e.X, g.c.info.Bytes[e.Y]
	if b, ok := g.c.info.Bytes[e.X]; ok {
		arr, want = e.Y, b
	}
	buf := g.buffer(len(want))
	g.arrayInto(arr, buf, len(want))
	g.flushAll()
	base, off := g.memRef(buf, asm.R2)
	g.compareBytes(base, off, want, differ)
}

// arrayInto copies the first size bytes of array e, a field of a tracepoint
// record or an array in memory, to p.
func (g *gen) arrayInto(e ast.Expr, p place, size int) {
	for {
		paren, ok := e.(*ast.Paren)
		if !ok {
			break
		}
		e = paren.X
	}
	if g.isMemory(e) {
		addr := g.memAddr(e)
		read, _ := readFns(g.spaceOf(e))
		g.addrOf(asm.R1, p)
		g.emit(asm.Mov.Imm(asm.R2, int32(size)))
		g.loadTmp(asm.R3, addr)
		g.emit(read.Call())
		g.free(addr)
		return
	}
	// A field of args, read from the context with loads as wide as both
	// offsets' alignment allows: the verifier rejects misaligned context
	// and stack accesses.
	src := g.argsField(e.(*ast.FieldAccess)).Offset
	g.emit(asm.LoadMem(asm.R3, asm.RFP, g.ctxSlot, asm.DWord))
	dst, off := g.memRef(p, asm.R2)
	for i := 0; i < size; {
		n := 8
		for n > size-i || (src+i)%n != 0 || i%n != 0 {
			n /= 2
		}
		g.emit(
			asm.LoadMem(asm.R0, asm.R3, int16(src+i), sizeOf(n)),
			asm.StoreMem(dst, off+int16(i), asm.R0, sizeOf(n)),
		)
		i += n
	}
}
