package codegen

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/gotrace/gotrace/lang/types"
)

// Reading an aggregation as a value (`$x = @count`, `if (@avg > 5)`, the
// value of `for ($kv : @sums)`) gives its total over every CPU, as in
// bpftrace: the value is kept per CPU so that updates need no atomics, and
// the rare read pays instead, with one bpf_map_lookup_percpu_elem per CPU.
// The loop over CPUs is a plain bounded loop; its counter and partial
// results live in stack slots, so helper calls do not disturb them.

// possibleCPUs is the number of per-CPU slots a per-CPU map has.
func possibleCPUs() int {
	n, err := ebpf.PossibleCPU()
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// aggTotal reads m's value for the key whose address loadKey puts in a
// register, merged over all CPUs: the sum for count and sum, the extreme
// for min and max (0 when no CPU has a value), the truncated average for
// avg. An absent key reads as 0.
func (g *gen) aggTotal(m *Map, loadKey func(dst asm.Register)) *tmp {
	g.flushAll()
	cpu, acc, acc2 := g.frame.alloc(8), g.frame.alloc(8), g.frame.alloc(8)
	g.emit(
		storeImm64(asm.RFP, cpu, 0),
		storeImm64(asm.RFP, acc, 0),
		storeImm64(asm.RFP, acc2, 0), // avg: count; min/max: whether acc is set
	)
	loop, next := g.newLabel(), g.newLabel()
	g.label(loop)
	g.emit(asm.LoadMapPtr(asm.R1, 0).WithReference(m.Ref))
	loadKey(asm.R2)
	g.emit(
		asm.LoadMem(asm.R3, asm.RFP, cpu, asm.DWord),
		asm.FnMapLookupPercpuElem.Call(),
		asm.JEq.Imm(asm.R0, 0, next),
	)
	switch m.Agg.Kind {
	case types.Count, types.Sum:
		g.emit(
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.LoadMem(asm.R2, asm.RFP, acc, asm.DWord),
			asm.Add.Reg(asm.R2, asm.R1),
			asm.StoreMem(asm.RFP, acc, asm.R2, asm.DWord),
		)
	case types.Avg:
		// Layout: u64 count, s64 sum.
		g.emit(
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.LoadMem(asm.R2, asm.RFP, acc2, asm.DWord),
			asm.Add.Reg(asm.R2, asm.R1),
			asm.StoreMem(asm.RFP, acc2, asm.R2, asm.DWord),
			asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord),
			asm.LoadMem(asm.R2, asm.RFP, acc, asm.DWord),
			asm.Add.Reg(asm.R2, asm.R1),
			asm.StoreMem(asm.RFP, acc, asm.R2, asm.DWord),
		)
	case types.Min, types.Max:
		// Layout: s64 value, u64 set. Take this CPU's value when it has
		// one and it wins, or when nothing is taken yet.
		keep := asm.JSGE // min: keep acc when value >= acc
		if m.Agg.Kind == types.Max {
			keep = asm.JSLE
		}
		take := g.newLabel()
		g.emit(
			asm.LoadMem(asm.R1, asm.R0, 8, asm.DWord),
			asm.JEq.Imm(asm.R1, 0, next),
			asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
			asm.LoadMem(asm.R2, asm.RFP, acc2, asm.DWord),
			asm.JEq.Imm(asm.R2, 0, take),
			asm.LoadMem(asm.R2, asm.RFP, acc, asm.DWord),
			keep.Reg(asm.R1, asm.R2, next),
		)
		g.label(take)
		g.emit(
			asm.StoreMem(asm.RFP, acc, asm.R1, asm.DWord),
			storeImm64(asm.RFP, acc2, 1),
		)
	default:
		panic("codegen: " + string(m.Agg.Kind) + " has no single value")
	}
	g.label(next)
	g.emit(
		asm.LoadMem(asm.R1, asm.RFP, cpu, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.RFP, cpu, asm.R1, asm.DWord),
		asm.JLT.Imm(asm.R1, int32(possibleCPUs()), loop),
	)
	res := g.newTmp()
	g.emit(asm.LoadMem(res.reg, asm.RFP, acc, asm.DWord))
	if m.Agg.Kind == types.Avg {
		done := g.newLabel()
		g.emit(
			asm.LoadMem(asm.R1, asm.RFP, acc2, asm.DWord),
			asm.JEq.Imm(asm.R1, 0, done),
		)
		// The sum is signed: its average too.
		g.emit(signedDivModInsns(res.reg, asm.R1, asm.R2, asm.R3, false)...)
		g.label(done)
	}
	return res
}
