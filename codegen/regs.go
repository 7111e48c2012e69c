package codegen

import "github.com/cilium/ebpf/asm"

// A tmp is an intermediate integer value of an expression. Tmps live in the
// callee-saved registers R6..R9, which helper calls preserve; when all four
// are taken, the least recently used tmp is spilled to a stack slot and
// reloaded when needed again. Tmps are immutable once computed, so a
// spilled copy stays valid and reloading never needs a store.
//
// Control flow inside an expression (?:, &&, ||) is made safe by evicting
// every tmp to its slot before the branch (flushAll): both paths then start
// and end with all registers free, so they agree at the join.
type tmp struct {
	reg     asm.Register
	inReg   bool
	slot    int16 // frame offset of the spilled copy, valid when hasSlot
	hasSlot bool
	pinned  int
	lastUse int
}

// numValueRegs is how many registers tmps are allocated in: R6..R9, the
// callee-saved ones.
const numValueRegs = 4

func valueReg(i int) asm.Register { return asm.R6 + asm.Register(i) }

type regFile struct {
	owner [numValueRegs]*tmp
	clock int
}

// newTmp allocates a tmp in a register, spilling another tmp if needed. The
// register's content is undefined until the caller writes it.
func (g *gen) newTmp() *tmp {
	t := &tmp{}
	g.assignReg(t)
	return t
}

func (g *gen) assignReg(t *tmp) {
	rf := &g.regs
	idx := -1
	for i, o := range rf.owner {
		if o == nil {
			idx = i
			break
		}
	}
	if idx < 0 {
		// Spill the least recently used unpinned tmp.
		for i, o := range rf.owner {
			if o.pinned == 0 && (idx < 0 || o.lastUse < rf.owner[idx].lastUse) {
				idx = i
			}
		}
		if idx < 0 {
			panic("codegen: every register is pinned")
		}
		g.spill(rf.owner[idx])
	}
	rf.owner[idx] = t
	t.reg = valueReg(idx)
	t.inReg = true
	rf.clock++
	t.lastUse = rf.clock
}

// spill moves t out of its register into its stack slot.
func (g *gen) spill(t *tmp) {
	if !t.inReg {
		return
	}
	if !t.hasSlot {
		t.slot = g.frame.alloc(8)
		t.hasSlot = true
		g.emit(asm.StoreMem(asm.RFP, t.slot, t.reg, asm.DWord))
	}
	g.regs.owner[regIndex(t.reg)] = nil
	t.inReg = false
}

func regIndex(r asm.Register) int { return int(r - asm.R6) }

// reg returns the register holding t, reloading it if it was spilled.
func (g *gen) reg(t *tmp) asm.Register {
	if !t.inReg {
		t.pinned++ // t itself must not be chosen as the victim
		g.assignReg(t)
		t.pinned--
		g.emit(asm.LoadMem(t.reg, asm.RFP, t.slot, asm.DWord))
	}
	g.regs.clock++
	t.lastUse = g.regs.clock
	return t.reg
}

// reg2 returns registers for two tmps at once, keeping the first in place
// while the second is reloaded.
func (g *gen) reg2(a, b *tmp) (asm.Register, asm.Register) {
	ra := g.reg(a)
	a.pinned++
	rb := g.reg(b)
	a.pinned--
	return ra, rb
}

// free releases t's register.
func (g *gen) free(t *tmp) {
	if t != nil && t.inReg {
		g.regs.owner[regIndex(t.reg)] = nil
		t.inReg = false
	}
}

// flushAll evicts every tmp to its stack slot (see the tmp doc comment).
func (g *gen) flushAll() {
	for _, o := range g.regs.owner {
		if o != nil {
			g.spill(o)
		}
	}
}

// slotOf flushes t and returns its stack slot, for code that loads it
// directly into an argument register.
func (g *gen) slotOf(t *tmp) int16 {
	g.spill(t)
	if !t.hasSlot {
		panic("codegen: tmp was never computed")
	}
	return t.slot
}

// loadTmp copies t into an argument register without changing allocation.
func (g *gen) loadTmp(dst asm.Register, t *tmp) {
	if t.inReg {
		g.emit(asm.Mov.Reg(dst, t.reg))
		return
	}
	g.emit(asm.LoadMem(dst, asm.RFP, t.slot, asm.DWord))
}
