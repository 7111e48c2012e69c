package check

import (
	"strconv"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// tuple checks `(a, b, ...)` and records `(x = a, y = b)`.
func (c *checker) tuple(e *ast.Tuple) *types.Type {
	elems := make([]*types.Type, len(e.Elems))
	for i, el := range e.Elems {
		t := c.valueExpr(el)
		if t == nil {
			return nil
		}
		switch t.Kind {
		case types.Int, types.String, types.Probe, types.Tuple, types.Special:
		default:
			c.errorf(el.Pos(), "%s cannot be a tuple element yet", t)
			return nil
		}
		elems[i] = storageType(t)
	}
	t := types.NewTuple(elems...)
	t.Names = e.Names
	return t
}

// tupleElem checks `t.0` (by position) and `r.name` (records).
func (c *checker) tupleElem(e *ast.FieldAccess, x *types.Type) *types.Type {
	if e.Arrow {
		c.errorf(e.At, "-> needs a pointer to a struct; use . on tuples")
		return nil
	}
	if i, err := strconv.Atoi(e.Name); err == nil {
		if i < 0 || i >= len(x.Elems) {
			c.errorf(c.fieldNamePos(e), "index %d is out of range: the tuple has %d elements", i, len(x.Elems))
			return nil
		}
		return x.Elems[i]
	}
	for i, n := range x.Names {
		if n == e.Name {
			return x.Elems[i]
		}
	}
	err := c.errorf(c.fieldNamePos(e), "%s has no field %q", x, e.Name)
	if h := suggest(e.Name, x.Names); h != "" {
		err.Hint = h
	}
	return nil
}

// TupleIndex returns the element index a field access on a tuple selects.
func TupleIndex(t *types.Type, name string) int {
	if i, err := strconv.Atoi(name); err == nil {
		return i
	}
	for i, n := range t.Names {
		if n == name {
			return i
		}
	}
	return -1
}
