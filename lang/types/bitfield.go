package types

// PlaceBitfield records where a C bitfield of the given width lives: off
// is its first bit from the start of the struct, and limit the bit at
// which the struct (or the enclosing packed run) ends. f.Type is the
// declared integer type. The result follows the convention on Field:
// Offset is the storage unit the code generator loads (the declared
// type's, aligned to its size, when the field fits in one; otherwise the
// smallest integer starting at the field's first byte that holds it, as in
// packed structs), BitOffset and BitSize locate the field in it. A field
// exactly as wide as its unit becomes an ordinary field. It reports false
// when no integer of at most 8 bytes can hold the field.
func PlaceBitfield(f Field, off, bits, limit int) (Field, bool) {
	t := f.Type
	unitBits := t.Size * 8
	if unit := off / unitBits * unitBits; off+bits <= unit+unitBits && unit+unitBits <= limit {
		f.Offset, f.BitOffset, f.BitSize = unit/8, off-unit, bits
	} else {
		start := off / 8 * 8
		n := 1
		for n < 8 && off-start+bits > n*8 {
			n *= 2
		}
		if off-start+bits > n*8 {
			return f, false
		}
		f.Type = NewInt(n, t.Signed)
		f.Offset, f.BitOffset, f.BitSize = start/8, off-start, bits
	}
	if f.BitOffset == 0 && f.BitSize == f.Type.Size*8 {
		// As wide as its integer: an ordinary field after all.
		f.BitSize = 0
	}
	return f, true
}
