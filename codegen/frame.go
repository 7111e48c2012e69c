package codegen

// maxStack is the kernel's limit on a BPF program's stack.
const maxStack = 512

// frame hands out stack memory below the frame pointer R10. Scratch
// variables are allocated once per program; everything else (map keys,
// string buffers, spill slots) is statement-scoped: a statement takes a mark
// and resets to it at its end, so later statements reuse the space.
type frame struct {
	used int // bytes in use
	max  int // high-water mark
}

// alloc returns the offset from R10 of size bytes, 8-byte aligned.
func (f *frame) alloc(size int) int16 {
	size = (size + 7) &^ 7
	f.used += size
	if f.used > f.max {
		f.max = f.used
	}
	return int16(-f.used)
}

func (f *frame) mark() int      { return f.used }
func (f *frame) reset(mark int) { f.used = mark }
func (f *frame) overflow() bool { return f.max > maxStack }

// scratchThreshold is the smallest buffer placed in the scratch map once a
// program has run out of stack.
const scratchThreshold = 16

// buffer returns size bytes of statement-scoped memory: on the stack, or,
// for programs whose stack would overflow (see compiler.program), in this
// CPU's slot of the scratch map.
func (g *gen) buffer(size int) place {
	if g.scratch != nil && size >= scratchThreshold {
		size = (size + 7) &^ 7
		off := g.scratchUsed
		g.scratchUsed += size
		if g.scratchUsed > g.scratchMax {
			g.scratchMax = g.scratchUsed
		}
		return place{base: g.scratch, off: int16(off)}
	}
	return stackPlace(g.frame.alloc(size))
}
