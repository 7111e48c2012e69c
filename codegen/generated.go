package codegen

import (
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
)

// generatedCall emits the functions the code generator implements itself
// (stdlib.Generated). Each leaves 0 or 1 in a fresh tmp.
func (g *gen) generatedCall(e *ast.Call) *tmp {
	switch e.Name {
	case "has_key":
		m := e.Args[0].(*ast.MapRef)
		keys := ast.KeyExprs(e.Args[1])
		mm := g.mapOf(m)
		key := g.buildKey(mm, keys, nil)
		g.flushAll()
		res := g.newTmp()
		absent := g.newLabel()
		g.lookup(mm, key)
		g.emit(
			asm.Mov.Imm(res.reg, 0),
			asm.JEq.Imm(asm.R0, 0, absent),
			asm.Mov.Imm(res.reg, 1),
		)
		g.label(absent)
		return res
	case "strncmp":
		if g.c.info.Consts[e.Args[2]] == 0 {
			return g.constTmp(0) // nothing to compare: equal
		}
		return g.zeroOneUnless(func(no string) {
			g.jumpIfStringsDiffer(e.Args[0], e.Args[1], int(g.c.info.Consts[e.Args[2]]), no)
		}, 0, 1)
	case "len":
		return g.mapLen(g.mapOf(e.Args[0].(*ast.MapRef)))
	case "strlen":
		return g.strlen(e.Args[0])
	case "strcontains":
		if g.c.info.Strings[e.Args[1]] == "" {
			return g.constTmp(1) // every string contains ""
		}
		return g.zeroOneUnless(func(no string) { g.strcontains(e.Args[0], g.c.info.Strings[e.Args[1]], no) }, 1, 0)
	case "strstr":
		return g.strstr(e.Args[0], g.c.info.Strings[e.Args[1]])
	}
	panic("unknown generated function " + e.Name)
}

// zeroOneUnless runs test, which falls through or jumps to its argument
// label, and returns yes for the fall-through and no for the jump. Both
// must be possible: the verifier rejects unreachable code.
func (g *gen) zeroOneUnless(test func(no string), yes, no int64) *tmp {
	res := g.resultSlot()
	noLabel, end := g.newLabel(), g.newLabel()
	test(noLabel)
	g.emit(storeImm64(asm.RFP, res.slot, yes), asm.Ja.Label(end))
	g.label(noLabel)
	g.emit(storeImm64(asm.RFP, res.slot, no))
	g.label(end)
	return res
}

// strcontains falls through when haystack contains needle and jumps to
// absent otherwise, trying every start position before the haystack's NUL
// (unrolled: the haystack's size is known).
func (g *gen) strcontains(haystack ast.Expr, needle string, absent string) {
	buf, size := g.strTemp(haystack)
	g.flushAll()
	base, off := g.memRef(buf, asm.R2)
	found := g.newLabel()
	for i := 0; i+len(needle) <= size; i++ {
		next := g.newLabel()
		g.emit(
			asm.LoadMem(asm.R0, base, off+int16(i), asm.Byte),
			asm.JEq.Imm(asm.R0, 0, absent),
		)
		for j := 0; j < len(needle); j++ {
			g.emit(
				asm.LoadMem(asm.R0, base, off+int16(i+j), asm.Byte),
				asm.JNE.Imm(asm.R0, int32(needle[j]), next),
			)
		}
		g.emit(asm.Ja.Label(found))
		g.label(next)
	}
	g.emit(asm.Ja.Label(absent))
	g.label(found)
}

// strstr returns the index of needle's first occurrence in haystack, or
// -1, trying every start position before the haystack's NUL (unrolled, as
// in strcontains). The empty needle is found at 0.
func (g *gen) strstr(haystack ast.Expr, needle string) *tmp {
	buf, size := g.strTemp(haystack)
	g.flushAll()
	res := g.resultSlot()
	end := g.newLabel()
	g.emit(storeImm64(asm.RFP, res.slot, -1))
	base, off := g.memRef(buf, asm.R2)
	for i := 0; i+len(needle) <= size; i++ {
		next := g.newLabel()
		if len(needle) > 0 {
			g.emit(
				asm.LoadMem(asm.R0, base, off+int16(i), asm.Byte),
				asm.JEq.Imm(asm.R0, 0, end),
			)
		}
		for j := 0; j < len(needle); j++ {
			g.emit(
				asm.LoadMem(asm.R0, base, off+int16(i+j), asm.Byte),
				asm.JNE.Imm(asm.R0, int32(needle[j]), next),
			)
		}
		g.emit(storeImm64(asm.RFP, res.slot, int64(i)), asm.Ja.Label(end))
		g.label(next)
	}
	g.label(end)
	return res
}

// strlen counts the bytes before the string's NUL, at most its buffer
// size, with one test per byte (unrolled: the size is known).
func (g *gen) strlen(s ast.Expr) *tmp {
	buf, size := g.strTemp(s)
	g.flushAll()
	res := g.resultSlot()
	end := g.newLabel()
	g.emit(storeImm64(asm.RFP, res.slot, int64(size)))
	base, off := g.memRef(buf, asm.R2)
	for i := 0; i < size; i++ {
		next := g.newLabel()
		g.emit(
			asm.LoadMem(asm.R0, base, off+int16(i), asm.Byte),
			asm.JNE.Imm(asm.R0, 0, next),
			storeImm64(asm.RFP, res.slot, int64(i)),
			asm.Ja.Label(end),
		)
		g.label(next)
	}
	g.label(end)
	return res
}
