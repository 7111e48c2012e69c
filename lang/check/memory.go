package check

import (
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// Structs, arrays and integers behind pointers live in kernel or user
// memory. Their types come from the kernel's BTF; the code generator reads
// them with bpf_probe_read_kernel or _user, chosen by the AddrSpace the
// checker records on every pointer and memory value. A struct or array
// value in memory (`$task->se`, `$task->comm` before it is read) keeps its
// address space too, so that its fields are read from the right place.

// inSpace returns t in address space as, copying t rather than changing a
// type that BTF types share.
func inSpace(t *types.Type, as types.AddrSpace) *types.Type {
	if t.AddrSpace == as {
		return t
	}
	cp := *t
	cp.AddrSpace = as
	return &cp
}

// fromArgs reports whether e is a field of a tracepoint's args record,
// which the program reads from its context rather than from memory.
func (c *checker) fromArgs(e ast.Expr) bool { return FromArgs(e) }

// FromArgs reports whether e is a field (or an element of a field) of a
// tracepoint's args record, which a program reads from its context rather
// than from memory.
func FromArgs(e ast.Expr) bool {
	for {
		switch x := e.(type) {
		case *ast.Paren:
			e = x.X
		case *ast.FieldAccess:
			if isArgs(x.X) {
				return true
			}
			return false
		case *ast.Index:
			e = x.X
		default:
			return false
		}
	}
}

// kernelType resolves a C type name through BTF.
func (c *checker) kernelType(te *ast.TypeExpr, name string) *types.Type {
	if t := c.types[name]; t != nil {
		return t // defined in the script
	}
	t, err := c.conf.Lib.Kernel().Type(name)
	if err != nil {
		// The error names the closest types itself.
		c.errorf(te.At, "%v", err)
		return nil
	}
	return t
}

// pointerCast checks `(T *)x`: x must be an integer or a pointer; T is an
// integer type or a C type the kernel's BTF knows.
func (c *checker) pointerCast(e *ast.Cast, x *types.Type) *types.Type {
	if !x.IsIntLike() {
		c.errorf(e.X.Pos(), "cannot cast %s to a pointer", x)
		return nil
	}
	elem, ok := castType(e.Type.Name)
	if !ok {
		if elem = c.kernelType(e.Type, e.Type.Name); elem == nil {
			return nil
		}
	}
	// An integer cast to a pointer is an address in the probe's address
	// space: user memory in probes on user-space programs.
	as := types.Kernel
	if c.target != nil {
		as = c.target.Space
	}
	if x.Kind == types.Pointer {
		as = x.AddrSpace
	}
	t := types.NewPointer(elem, as)
	for i := 1; i < e.Type.Pointers; i++ {
		t = types.NewPointer(t, as)
	}
	return t
}

// pointee returns what a pointer points to, resolving pointers whose target
// type is only known by its C name (tracepoint fields such as
// `struct __kernel_timespec * rqtp`) through BTF.
func (c *checker) pointee(p *types.Type, at ast.Pos) *types.Type {
	elem := p.Elem
	if p.Name != "" && elem != nil && elem.Kind == types.Int && elem.Size == 1 {
		if t, err := c.conf.Lib.Kernel().Type(p.Name); err == nil && t.Kind == types.Pointer {
			elem = t.Elem
		}
	}
	if elem == nil || elem.Kind == types.Void {
		c.errorf(at, "cannot dereference %s", p)
		return nil
	}
	return inSpace(elem, p.AddrSpace)
}

// memberAccess checks `p->f` and `s.f` on structs in memory.
func (c *checker) memberAccess(e *ast.FieldAccess, x *types.Type) *types.Type {
	s := x
	if x.Kind == types.Pointer {
		if s = c.pointee(x, e.At); s == nil {
			return nil
		}
	}
	if s.Kind != types.Struct {
		c.errorf(e.At, "%s has no fields; .%s needs a struct", x, e.Name)
		return nil
	}
	f, ok := s.Field(e.Name)
	if !ok {
		err := c.errorf(c.fieldNamePos(e), "%s has no field %q", s.Name, e.Name)
		err.Hint = fieldHint(e.Name, s)
		return nil
	}
	c.info.Fields[e] = f
	return c.memoryValue(e, f.Type, s.AddrSpace)
}

// memoryValue is the type of a value read from memory in space as.
// Pointers read from user memory point into user memory too.
func (c *checker) memoryValue(e ast.Node, t *types.Type, as types.AddrSpace) *types.Type {
	switch t.Kind {
	case types.Void:
		c.errorf(e.Pos(), "values of type %s are not supported yet", t.Name)
		return nil
	case types.Pointer, types.Struct, types.Array:
		if as == types.User {
			return inSpace(t, types.User)
		}
		if t.Kind != types.Pointer {
			return inSpace(t, as)
		}
	}
	return t
}

// memoryIndex checks `a[i]` on an array in memory or a pointer.
func (c *checker) memoryIndex(e *ast.Index, x *types.Type) *types.Type {
	elem := x.Elem
	if x.Kind == types.Pointer {
		if elem = c.pointee(x, e.At); elem == nil {
			return nil
		}
	}
	if v, ok := c.info.Consts[e.Index]; ok && x.Kind == types.Array && x.Len > 0 && (v < 0 || int(v) >= x.Len) {
		c.errorf(e.Index.Pos(), "index %d is out of range: the array has %d elements", v, x.Len)
		return nil
	}
	return c.memoryValue(e, elem, x.AddrSpace)
}

// deref checks `*p`.
func (c *checker) deref(e *ast.Unary) *types.Type {
	x := c.valueExpr(e.X)
	if x == nil {
		return nil
	}
	if x.Kind != types.Pointer {
		c.errorf(e.At, "* needs a pointer, not %s", x)
		return nil
	}
	elem := c.pointee(x, e.At)
	if elem == nil {
		return nil
	}
	return c.memoryValue(e, elem, x.AddrSpace)
}

// fieldHint suggests the closest field name and lists the fields there are.
func fieldHint(name string, s *types.Type) string {
	names := fieldNames(s)
	if h := suggest(name, names); h != "" {
		return h + " (fields: " + joinNames(names) + ")"
	}
	return "fields: " + joinNames(names)
}

// addressOf checks `&x`: the address of something in memory (a struct
// field, an array element, *p), as a pointer in the same address space.
func (c *checker) addressOf(e *ast.Unary) *types.Type {
	t := c.valueExpr(e.X)
	if t == nil {
		return nil
	}
	switch x := e.X.(type) {
	case *ast.FieldAccess:
		if _, ok := c.info.Fields[x]; ok {
			return types.NewPointer(t, c.info.Types[x.X].AddrSpace)
		}
	case *ast.Index:
		if _, isConst := c.info.Bytes[x.X]; !isConst && !FromArgs(x) {
			return types.NewPointer(t, c.info.Types[x.X].AddrSpace)
		}
	case *ast.Unary:
		if x.Op == "*" {
			return c.info.Types[x.X]
		}
	}
	c.errorf(e.At, "& takes something in kernel or user memory, such as &$task->se or &$array[1]")
	return nil
}
