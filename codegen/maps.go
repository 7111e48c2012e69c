package codegen

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// BPF_NOEXIST and BPF_ANY flags of map updates.
const (
	updateAny     = 0
	updateNoExist = 1
)

// declareMaps creates a map spec for every script map. Aggregations use
// per-CPU maps; other maps are ordinary hashes. Aggregations without keys
// are elements of one per-CPU array for each value size, so that the hot
// path never inserts and ten counters are one map to create, not ten.
func (c *compiler) declareMaps() {
	for i, mi := range c.info.Maps {
		if mi.Value == nil {
			continue
		}
		m := &Map{Name: mi.Name, Ref: "map" + strconv.Itoa(i), Key: mi.Key, Value: mi.Value, Index: len(c.out.Maps)}
		if mi.Value.Kind == types.Agg {
			f, _ := c.lib.Func(string(mi.Value.Agg))
			m.Agg = f.Agg
		}
		spec := &ebpf.MapSpec{Name: mapName(mi.Name), MaxEntries: c.opts.MaxMapKeys}
		valueSize := mi.Value.StorageSize()
		if m.Agg != nil {
			valueSize = m.Agg.ValueSize
		}
		spec.ValueSize = uint32((valueSize + 7) &^ 7)
		switch {
		case m.Keyless():
			m.KeySize = 4
			m.Ref = keylessRef(spec.ValueSize)
			if shared := c.out.Specs[m.Ref]; shared != nil {
				m.Slot = shared.MaxEntries
				shared.MaxEntries++
				spec = shared
				break
			}
			spec.Name = "gt_scalars" + strconv.Itoa(int(spec.ValueSize))
			spec.Type = ebpf.PerCPUArray
			spec.KeySize = 4
			spec.MaxEntries = 1
		default:
			spec.Type = ebpf.Hash
			if m.Agg != nil {
				spec.Type = ebpf.PerCPUHash
			}
			m.KeySize = 8
			if m.Key != nil {
				m.KeySize = (m.Key.StorageSize() + 7) &^ 7
			}
			if m.Bucketed() {
				if m.Key == nil {
					m.KeySize = 0
				}
				m.KeySize += 8
			}
			spec.KeySize = uint32(m.KeySize)
		}
		m.Spec = spec
		c.maps[mi.Name] = m
		c.out.Maps = append(c.out.Maps, m)
		c.out.Specs[m.Ref] = spec
	}
	c.out.Specs[FullMap] = &ebpf.MapSpec{
		Name:       "gt_full",
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: uint32(max(len(c.out.Maps), 1)),
	}
}

// keylessRef is the reference name of the per-CPU array that holds the
// keyless aggregations whose values are valueSize bytes.
func keylessRef(valueSize uint32) string { return "scalars" + strconv.Itoa(int(valueSize)) }

// countIfFull follows a map update: when it failed for want of room
// (anything but success or EEXIST, which only means another CPU inserted
// the key first), it counts the loss so that the runtime can warn instead
// of dropping updates silently. The result is compared as the int it is:
// the verifier turns the helper call into a direct call of the map's
// update function, which older kernels declare as returning int (6.1
// does; later ones, long), so that there R0's upper half is not the
// sign: -E2BIG arrives as 0xfffffff9.
func (g *gen) countIfFull(m *Map) {
	ok, full := g.newLabel(), g.newLabel()
	g.emit(
		asm.JSGE.Imm32(asm.R0, 0, ok),
		asm.JNE.Imm32(asm.R0, -int32(unix.EEXIST), full),
		asm.Ja.Label(ok),
	)
	g.label(full)
	g.incrementCounter(FullMap, m.Index)
	g.label(ok)
}

// mapName turns "@name" into a kernel-visible map name.
func mapName(name string) string {
	n := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return -1
	}, strings.TrimPrefix(name, "@"))
	n = "gt_" + n
	if len(n) > 15 {
		n = n[:15]
	}
	return n
}

func (g *gen) mapOf(m *ast.MapRef) *Map {
	mm := g.c.maps[m.Name]
	if mm == nil {
		panic("undeclared map " + m.Name)
	}
	return mm
}

// buildKey writes a map key into a new stack buffer and returns it. extra,
// when non-nil, is appended as a u64 (a histogram bucket).
func (g *gen) buildKey(m *Map, keys []ast.Expr, extra *tmp) place {
	p := g.buffer(m.KeySize)
	if m.Keyless() {
		g.emit(asm.StoreImm(g.baseReg(p), p.off, int64(m.Slot), sizeOf(m.KeySize)))
		return p
	}
	if m.Key == nil && extra == nil {
		g.emit(storeImm64(g.baseReg(p), p.off, 0))
		return p
	}
	if m.Key != nil {
		elems := []*types.Type{m.Key}
		offs := []int{0}
		if m.Key.Kind == types.Tuple {
			elems, offs = m.Key.Elems, m.Key.Offsets()
			// Padding between tuple elements must be zero: keys compare whole.
			g.zeroAt(p, m.Key.StorageSize())
		}
		for i, k := range keys {
			g.valueInto(k, elems[i], p.plus(offs[i]), true)
		}
	}
	if extra != nil {
		g.storeInt(p.plus(m.KeySize-8), extra, 8)
	}
	return p
}

// valueInto stores expression e, converted to type t, at p.
func (g *gen) valueInto(e ast.Expr, t *types.Type, p place, pad bool) {
	switch t.Kind {
	case types.String:
		g.strInto(e, p, (t.Size+7)&^7, pad)
	case types.Special:
		if t.Size > 8 {
			// Byte values (buf, inet) are written like strings.
			g.strInto(e, p, (t.Size+7)&^7, true)
			return
		}
		v := g.intExpr(e)
		g.storeInt(p, v, 8)
		g.free(v)
	case types.Tuple:
		g.tupleInto(e, t, p)
	default:
		v := g.intExpr(e)
		g.storeInt(p, v, t.StorageSize())
		g.free(v)
	}
}

// lookup emits map_lookup_elem(m, key); R0 holds the result.
func (g *gen) lookup(m *Map, key place) {
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(m.Ref))
	g.addrOf(asm.R2, key)
	g.emit(asm.FnMapLookupElem.Call())
}

// update emits map_update_elem(m, key, value, flags).
func (g *gen) update(m *Map, key, value place, flags int32) {
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(m.Ref))
	g.addrOf(asm.R2, key)
	g.addrOf(asm.R3, value)
	g.emit(asm.Mov.Imm(asm.R4, flags), asm.FnMapUpdateElem.Call())
}

// lookupOrInsert emits a lookup of the key at frame offset key in the map
// ref that jumps to found when the key is there, and otherwise inserts it
// with BPF_NOEXIST (so that a key another CPU has just inserted is left
// as it is), the value's address put in R3 by value (R2 holds the key's);
// R0 then holds the update's result. The lookup takes no lock, so that a
// key seen before, the common case, costs one lookup. It clobbers R0..R5.
func (g *gen) lookupOrInsert(ref string, key int16, found string, value func()) {
	g.emit(
		asm.LoadMapPtr(asm.R1, 0).WithReference(ref),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(key)),
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, found),
		asm.LoadMapPtr(asm.R1, 0).WithReference(ref),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(key)),
	)
	value()
	g.emit(
		asm.Mov.Imm(asm.R4, int32(ebpf.UpdateNoExist)),
		asm.FnMapUpdateElem.Call(),
	)
}

// mapReadInt reads an integer map value (0 when the key is absent). An
// aggregation reads as its total over all CPUs (aggread.go).
func (g *gen) mapReadInt(e *ast.MapRef) *tmp {
	m := g.mapOf(e)
	// Spill live values first: their slots must lie below the mark, or
	// the reset below would hand them out again while they are in use.
	g.flushAll()
	mark := g.frame.mark()
	key := g.buildKey(m, e.Keys, nil)
	if m.Agg != nil {
		res := g.aggTotal(m, func(dst asm.Register) { g.addrOf(dst, key) })
		g.frame.reset(mark)
		return res
	}
	g.flushAll()
	res := g.newTmp()
	found := g.newLabel()
	g.lookup(m, key)
	g.emit(
		asm.Mov.Imm(res.reg, 0),
		asm.JEq.Imm(asm.R0, 0, found),
		asm.LoadMem(res.reg, asm.R0, 0, asm.DWord),
	)
	g.label(found)
	g.frame.reset(mark)
	return res
}

// mapReadInto copies a string map value to p (zeros when absent).
func (g *gen) mapReadInto(e *ast.MapRef, p place, size int) {
	m := g.mapOf(e)
	key := g.buildKey(m, e.Keys, nil)
	g.flushAll()
	g.zeroAt(p, size)
	miss := g.newLabel()
	g.lookup(m, key)
	g.emit(asm.JEq.Imm(asm.R0, 0, miss))
	// Address p through R2, not the register allocator: this code runs on
	// one side of a branch only.
	base, off := g.memRef(p, asm.R2)
	n := min(size, (m.Value.StorageSize()+7)&^7)
	for i := 0; i < n; i += 8 {
		g.emit(
			asm.LoadMem(asm.R1, asm.R0, int16(i), asm.DWord),
			asm.StoreMem(base, off+int16(i), asm.R1, asm.DWord),
		)
	}
	g.label(miss)
}

// mapAssign generates `@m[k] = v` for non-aggregation maps.
func (g *gen) mapAssign(target *ast.MapRef, value ast.Expr) {
	m := g.mapOf(target)
	key := g.buildKey(m, target.Keys, nil)
	val := g.buffer(int(g.c.out.Specs[m.Ref].ValueSize))
	g.valueInto(value, m.Value, val, true)
	g.update(m, key, val, updateAny)
	g.countIfFull(m)
}

// mapModify generates `@m[k] op= v`, `@m[k]++` and `@m[k]--` on integer
// maps: read (0 when absent), compute, write back.
func (g *gen) mapModify(target *ast.MapRef, op string, delta ast.Expr) {
	m := g.mapOf(target)
	key := g.buildKey(m, target.Keys, nil)
	var d *tmp
	if delta != nil {
		d = g.intExpr(delta)
	} else {
		d = g.constTmp(1)
	}
	g.flushAll()
	val := stackPlace(g.frame.alloc(8))
	found := g.newLabel()
	g.lookup(m, key)
	g.emit(
		asm.Mov.Imm(asm.R1, 0),
		asm.JEq.Imm(asm.R0, 0, found),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
	)
	g.label(found)
	g.emit(asm.LoadMem(asm.R2, asm.RFP, g.slotOf(d), asm.DWord))
	alu, ok := arithOp(strings.TrimSuffix(op, "="))
	if op == "++" {
		alu, ok = asm.Add, true
	} else if op == "--" {
		alu, ok = asm.Sub, true
	}
	if !ok {
		panic("bad compound operator " + op)
	}
	if m.Value.Signed {
		switch alu {
		case asm.Div:
			alu = asm.SDiv
		case asm.Mod:
			alu = asm.SMod
		case asm.RSh:
			alu = asm.ArSh
		}
	}
	if alu == asm.SDiv || alu == asm.SMod {
		g.emit(signedDivModInsns(asm.R1, asm.R2, asm.R3, asm.R4, alu == asm.SMod)...)
	} else {
		g.emit(alu.Reg(asm.R1, asm.R2))
	}
	g.emit(asm.StoreMem(asm.RFP, val.off, asm.R1, asm.DWord))
	g.update(m, key, val, updateAny)
	g.countIfFull(m)
}

// aggregate generates `@m[k] = f(args)` for an aggregation: find or create
// this CPU's value, then let the table entry update it in place.
func (g *gen) aggregate(target *ast.MapRef, call *ast.Call) {
	m := g.mapOf(target)
	spec := m.Agg
	var arg, bucket *tmp
	if len(call.Args) > 0 {
		arg = g.intExpr(call.Args[0])
	}
	if spec.Bucket != nil {
		g.flushAll()
		g.emit(asm.LoadMem(asm.R1, asm.RFP, g.slotOf(arg), asm.DWord))
		spec.Bucket(g, g.typeOf(call))
		bucket = g.newTmp()
		g.emit(asm.Mov.Reg(bucket.reg, asm.R0))
	}
	key := g.buildKey(m, target.Keys, bucket)
	g.free(bucket)
	g.flushAll()
	have, skip := g.newLabel(), g.newLabel()
	g.lookup(m, key)
	g.emit(asm.JNE.Imm(asm.R0, 0, have))
	if !m.Keyless() {
		zero := g.buffer(spec.ValueSize)
		g.zeroAt(zero, spec.ValueSize)
		g.update(m, key, zero, updateNoExist)
		g.countIfFull(m)
		g.lookup(m, key)
	}
	g.emit(asm.JEq.Imm(asm.R0, 0, skip))
	g.label(have)
	g.emit(asm.Mov.Reg(asm.R1, asm.R0))
	if arg != nil {
		g.emit(asm.LoadMem(asm.R2, asm.RFP, g.slotOf(arg), asm.DWord))
	}
	spec.Update(g)
	g.label(skip)
	g.free(arg)
}

// mapDelete generates delete(@m[k]).
func (g *gen) mapDelete(target *ast.MapRef) {
	m := g.mapOf(target)
	key := g.buildKey(m, target.Keys, nil)
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(m.Ref))
	g.addrOf(asm.R2, key)
	g.emit(asm.FnMapDeleteElem.Call())
}
