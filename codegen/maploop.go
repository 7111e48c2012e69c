package codegen

import (
	"fmt"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/ast"
)

// `for ($kv : @map) { body }` runs body once per entry with
// bpf_for_each_map_elem, whose callback is a BPF subprogram (callback.go).

// mapLoop generates the call and the callback.
func (g *gen) mapLoop(s *ast.ForStmt) {
	m := g.mapOf(s.Map)
	fn := funcPrefix + g.newLabel()
	g.callbackFor(s, m, fn)
	g.forEachMapElem(m, fn)
	g.stopIfCallbackExited()
}

// callbackFor generates the loop body as the subprogram fn:
// long fn(struct bpf_map *map, void *key, void *value, void *ctx).
func (g *gen) callbackFor(s *ast.ForStmt, m *Map, fn string) {
	var key, value int16
	cb := g.beginCallback(s.At, fn, asm.R4, func(cb *gen) {
		key, value = cb.frame.alloc(8), cb.frame.alloc(8)
		cb.emit(
			asm.StoreMem(asm.RFP, key, asm.R2, asm.DWord),
			asm.StoreMem(asm.RFP, value, asm.R3, asm.DWord),
		)
	})
	// $kv = (key, value), copied from the map's memory.
	kv := g.c.info.Uses[s.Var]
	offs := kv.Type.Offsets()
	dst := cb.placeOfVar(g.vars[kv])
	cb.copyFrom(key, dst.plus(offs[0]), kv.Type.Elems[0].StorageSize())
	if m.Agg != nil {
		total := cb.aggTotal(m, func(dst asm.Register) { cb.emit(asm.LoadMem(dst, asm.RFP, key, asm.DWord)) })
		cb.storeInt(dst.plus(offs[1]), total, 8)
		cb.free(total)
	} else {
		cb.copyFrom(value, dst.plus(offs[1]), kv.Type.Elems[1].StorageSize())
	}

	g.endCallback(cb, s.At, s.Body, fn, 4)
}

// copyFrom copies n bytes (a multiple of 8) from the memory whose address
// is in the stack slot ptrSlot to dst.
func (g *gen) copyFrom(ptrSlot int16, dst place, n int) {
	for i := 0; i < n; i += 8 {
		g.emit(
			asm.LoadMem(asm.R1, asm.RFP, ptrSlot, asm.DWord),
			asm.LoadMem(asm.R0, asm.R1, int16(i), asm.DWord),
		)
		base, off := g.memRef(dst.plus(i), asm.R1)
		g.emit(asm.StoreMem(base, off, asm.R0, asm.DWord))
	}
}

// funcInfo describes a function to the kernel (BTF func_info), which it
// requires of programs with subprograms. The types only need to be
// plausible C: a main function taking a context pointer and callbacks with
// bpf_for_each_map_elem's four pointer arguments, all returning long.
func funcInfo(name string, params int, main bool) *btf.Func {
	long := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	ptr := &btf.Pointer{Target: &btf.Void{}}
	proto := &btf.FuncProto{Return: long}
	for i := 0; i < params; i++ {
		proto.Params = append(proto.Params, btf.FuncParam{Name: fmt.Sprintf("a%d", i), Type: ptr})
	}
	linkage := btf.StaticFunc
	if main {
		linkage = btf.GlobalFunc
	}
	return &btf.Func{Name: name, Type: proto, Linkage: linkage}
}

// mapLen counts a map's entries: bpf_for_each_map_elem returns how many
// entries it visited, and a callback that always answers "go on" visits
// them all.
func (g *gen) mapLen(m *Map) *tmp {
	fn := funcPrefix + g.newLabel()
	ret := asm.Mov.Imm(asm.R0, 0).WithSymbol(fn)
	if g.pos.IsValid() {
		ret = ret.WithSource(g.source())
	}
	g.subprogs = append(g.subprogs, btf.WithFuncMetadata(ret, funcInfo(fn, 4, false)), asm.Return())
	g.forEachMapElem(m, fn)
	res := g.newTmp()
	g.emit(asm.Mov.Reg(res.reg, asm.R0))
	return res
}

// forEachMapElem calls bpf_for_each_map_elem(m, fn, &ctx, 0), where ctx
// is this frame's saved context pointer; R0 then holds the number of
// entries visited.
func (g *gen) forEachMapElem(m *Map, fn string) {
	g.flushAll()
	// Constant -1 asks cilium/ebpf to resolve the reference to fn.
	fnPtr := asm.LoadImm(asm.R2, -1, asm.DWord).WithReference(fn)
	fnPtr.Src = asm.PseudoFunc
	g.emit(
		asm.LoadMapPtr(asm.R1, 0).WithReference(m.Ref),
		fnPtr,
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, int32(g.ctxSlot)),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnForEachMapElem.Call(),
	)
}
