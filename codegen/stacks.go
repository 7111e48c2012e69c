package codegen

import (
	"math/bits"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/stdlib"
)

// A stack value (kstack, ustack) is an ID: a hash of the stack that
// bpf_get_stack wrote, whose frames are kept once in a side map per stack
// layout (see stdlib/stackid.go). Keying a map by a 1 KiB stack made the
// kernel hash and compare all of it, cache line by cache line, on every
// event; the ID is an 8-byte key, and a stack seen before costs one lookup
// of that key in the side map.

// defaultMaxStacks is the least number of stacks a side map holds when
// Options.MaxStacks is not set. Its elements are allocated as stacks
// arrive (BPF_F_NO_PREALLOC), so an unused capacity costs only the
// kernel's buckets, 16 bytes each.
const defaultMaxStacks = 65536

// Stack hashing: h = seed, then for each word w of the header and of the
// frames, h = (h ^ w) * stackHashMul, and at the end h ^= h >> 32. Each
// step is a bijection of h for a given w and of w for a given h, so two
// stacks of the same length that differ in one word never collide; the
// byte count, hashed first, separates stacks of different lengths. The
// multiplication carries low bits up and the final shift brings high bits
// down, so that kernel addresses, which differ mostly in their low bits,
// spread over all 64.
const (
	stackHashSeed uint64 = 0x2545F4914F6CDD1D
	stackHashMul  uint64 = 0x9E3779B97F4A7C15 // 2^64 / the golden ratio, odd
)

// stackChunk is how many frames the hash loop takes in one iteration,
// unrolled. The verifier walks a loop once for every iteration it could
// make: over the 127 frames one at a time, that took it 4,200
// instructions and 4 ms at load. A stack's frames after the last it wrote
// are zeros, so hashing up to the end of a chunk hashes the same zeros
// for equal stacks, for a few nanoseconds more.
const stackChunk = 32

// stackChunks is the chunk size of layout s and the number of chunks its
// frames fill (the last one may run past them).
func stackChunks(s stdlib.StackLayout) (size, count int) {
	size = min(stackChunk, s.Frames)
	return size, (s.Frames + size - 1) / size
}

// StackMapRef is the reference name of the side map that holds the stacks
// of layout s, keyed by their IDs.
func StackMapRef(s stdlib.StackLayout) string { return "stacks_" + s.Name() }

// maxStacks is the capacity of each side map: Options.MaxStacks, or by
// default enough for every key of a map keyed by stacks alone.
func (c *compiler) maxStacks() uint32 {
	if n := c.opts.MaxStacks; n > 0 {
		return n
	}
	return max(defaultMaxStacks, c.opts.MaxMapKeys)
}

// stackMap declares the side map of layout s, the first time it is used,
// and returns its reference name.
func (c *compiler) stackMap(s stdlib.StackLayout) string {
	ref := StackMapRef(s)
	if c.out.Specs[ref] == nil {
		c.out.Specs[ref] = &ebpf.MapSpec{
			Name:       "gt_" + s.Name(),
			Type:       ebpf.Hash,
			KeySize:    8,
			ValueSize:  uint32(s.Size()),
			MaxEntries: c.maxStacks(),
			Flags:      unix.BPF_F_NO_PREALLOC,
		}
		c.out.Stacks = append(c.out.Stacks, s)
	}
	return ref
}

// StackID implements stdlib.Emitter. The stack is taken into a statement
// buffer, which is in the scratch map when the BPF stack has no room for
// it (see compiler.program); its hash is looked up in the side map, and
// only a stack not found there is inserted, with BPF_NOEXIST so that a
// stack another CPU has just inserted is left as it is. An insertion that
// fails for want of room counts the stack lost: its ID still goes where
// the script puts it, and prints as a lost stack.
func (g *gen) StackID(s stdlib.StackLayout, take func()) {
	ref := g.c.stackMap(s)
	size, count := stackChunks(s)
	pad := size*count - s.Frames // frames the last chunk reads past the stack
	buf := g.buffer(s.Size() + 8*pad)
	key := g.frame.alloc(8)
	done := g.newLabel()
	g.addrOf(asm.R1, buf)
	take()
	g.emit(asm.Mov.Reg(asm.R2, asm.R0)) // the byte count
	for i := range pad {
		g.emit(storeImm64(g.baseReg(buf), buf.off+int16(s.Size()+8*i), 0))
	}
	g.addrOf(asm.R1, buf)
	g.stackHash(s)
	g.emit(asm.StoreMem(asm.RFP, key, asm.R0, asm.DWord))
	g.lookupOrInsert(ref, key, done, func() { g.addrOf(asm.R3, buf) })
	g.emit(
		// Compared as an int: see countIfFull.
		asm.JSGE.Imm32(asm.R0, 0, done),
		asm.JEq.Imm32(asm.R0, -int32(unix.EEXIST), done),
	)
	g.incrementCounter(LostMap, LostStacks)
	g.label(done)
	g.emit(asm.LoadMem(asm.R0, asm.RFP, key, asm.DWord))
}

// stackHash leaves in R0 the ID of the stack of layout s at R1, whose
// byte count is in R2 and which is followed by zeros up to the end of its
// last chunk: the hash of its header's words and of the chunks of frames
// that the kernel wrote frames into, not of the chunks of zeros after
// them. The loop runs at most as many times as the layout has chunks,
// which the verifier sees from the byte count's bounds (bpf_get_stack
// returns at most the size it was given); a layout of one chunk is
// hashed without a loop. It clobbers R0..R5.
func (g *gen) stackHash(s stdlib.StackLayout) {
	size, count := stackChunks(s)
	g.emit(
		asm.LoadImm(asm.R5, bits64(stackHashMul), asm.DWord),
		asm.LoadImm(asm.R4, bits64(stackHashSeed), asm.DWord),
	)
	for off := 0; off < s.Header; off += 8 {
		g.emit(asm.LoadMem(asm.R0, asm.R1, int16(off), asm.DWord))
		g.mixStackWord(asm.R0)
	}
	g.emit(asm.Add.Imm(asm.R1, int32(s.Header)))
	chunk := func() {
		for i := range size {
			g.emit(asm.LoadMem(asm.R0, asm.R1, int16(8*i), asm.DWord))
			g.mixStackWord(asm.R0)
		}
	}
	if count == 1 {
		chunk()
	} else {
		// Chunks to hash: ceil(bytes / (8 * size)); size is stackChunk, a
		// power of two, so that the verifier follows the bounds.
		loop, end := g.newLabel(), g.newLabel()
		g.emit(
			asm.Add.Imm(asm.R2, int32(8*size-1)),
			asm.RSh.Imm(asm.R2, int32(bits.TrailingZeros(uint(8*size)))),
		)
		g.label(loop)
		// "<= 0" rather than "== 0": verifiers before 6.7 learn that R2
		// is at least 1 when the jump is not taken only from the
		// former, and without that bound they cannot see the loop end.
		g.emit(asm.JLE.Imm(asm.R2, 0, end))
		chunk()
		g.emit(
			asm.Add.Imm(asm.R1, int32(8*size)),
			asm.Sub.Imm(asm.R2, 1),
			asm.Ja.Label(loop),
		)
		g.label(end)
	}
	g.emit(
		asm.Mov.Reg(asm.R0, asm.R4),
		asm.RSh.Imm(asm.R0, 32),
		asm.Xor.Reg(asm.R0, asm.R4),
	)
}

// mixStackWord adds the word in w to the hash in R4 (R5 holds
// stackHashMul).
func (g *gen) mixStackWord(w asm.Register) {
	g.emit(
		asm.Xor.Reg(asm.R4, w),
		asm.Mul.Reg(asm.R4, asm.R5),
	)
}

// bits64 is v's bit pattern as the int64 that LoadImm takes.
func bits64(v uint64) int64 { return int64(v) }
