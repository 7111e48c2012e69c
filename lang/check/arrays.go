package check

import (
	"bytes"
	"encoding/binary"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// Arrays are values in memory (kernel structs, tracepoint records) or, for
// pton(), byte arrays known at compile time (Info.Bytes). A constant array
// is never built at run time: the checker folds what is done with it (a
// cast to an integer, a constant index, a comparison with another
// constant), and the code generator uses its bytes as immediates (ntop(),
// a comparison with an array read at run time). Anything else is an error
// here rather than code that would need the array in memory.

// arrayCast checks a cast of an array to an integer of the same size, which
// reinterprets its bytes in the machine's byte order, as in bpftrace:
// (uint32)pton("127.0.0.1") is 0x100007f on a little-endian machine. Only
// constant arrays can be cast for now.
func (c *checker) arrayCast(e *ast.Cast, x, t *types.Type) *types.Type {
	b, ok := c.info.Bytes[e.X]
	if !ok {
		err := c.errorf(e.X.Pos(), "cannot cast %s to %s", x, t)
		err.Hint = `only arrays known at compile time, such as pton("1.2.3.4"), can be cast to integers for now`
		return nil
	}
	if len(b) != t.Size {
		err := c.errorf(e.X.Pos(), "cannot cast %s to %s: the array has %d bytes and the integer %d", x, t, len(b), t.Size)
		if len(b) == 4 {
			err.Hint = "cast it to a 32-bit integer, e.g. (uint32)"
		}
		return nil
	}
	c.info.Consts[e] = truncate(int64(nativeUint(b)), t)
	return t
}

// constArrayIndex checks an index into a constant array, which must be a
// constant too: the element is then a constant.
func (c *checker) constArrayIndex(e *ast.Index, x *types.Type, b []byte) *types.Type {
	v, ok := c.info.Consts[e.Index]
	if !ok {
		c.errorf(e.Index.Pos(), "an index into a constant array such as pton()'s must be a constant")
		return nil
	}
	if v < 0 || int(v) >= x.Len {
		c.errorf(e.Index.Pos(), "index %d is out of range: the array has %d elements", v, x.Len)
		return nil
	}
	size := x.Elem.Size
	c.info.Consts[e] = truncate(int64(nativeUint(b[int(v)*size:int(v+1)*size])), x.Elem)
	return x.Elem
}

// arrayCompare checks == and != on arrays, which compare their bytes: they
// must have the same size, and one of them must be a constant (pton()),
// which the code generator compares the other with. Two constants give a
// constant.
func (c *checker) arrayCompare(e *ast.Binary, x, y *types.Type) *types.Type {
	if x.Kind != types.Array || y.Kind != types.Array {
		err := c.errorf(e.At, "cannot compare %s with %s", x, y)
		arr, other := x, y
		if y.Kind == types.Array {
			arr, other = y, x
		}
		if n := arr.StorageSize(); other.IsInt() && (n == 1 || n == 2 || n == 4 || n == 8) {
			err.Hint = "cast the array to an integer of its size to compare them, e.g. (uint32)pton(\"1.2.3.4\")"
		}
		return nil
	}
	if x.StorageSize() != y.StorageSize() {
		c.errorf(e.At, "cannot compare %s with %s: their sizes differ (%d and %d bytes)", x, y, x.StorageSize(), y.StorageSize())
		return nil
	}
	xb, xConst := c.info.Bytes[e.X]
	yb, yConst := c.info.Bytes[e.Y]
	switch {
	case xConst && yConst:
		c.info.Consts[e] = b2i(bytes.Equal(xb, yb) == (e.Op == "=="))
	case !xConst && !yConst:
		err := c.errorf(e.At, "cannot compare two arrays read at run time yet")
		err.Hint = `an array can be compared with a constant such as pton("1.2.3.4"), or element by element`
		return nil
	}
	return types.Uint64
}

// nativeUint reads a 1, 2, 4 or 8-byte integer in the machine's byte order.
func nativeUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.NativeEndian.Uint16(b))
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return binary.NativeEndian.Uint64(b)
}
