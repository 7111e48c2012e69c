package check

import (
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// Variable is a scratch variable. A `let` declaration makes one that lives
// until the end of its block; assigning an undeclared `$x` makes one that
// lives until the end of the probe, as in bpftrace.
type Variable struct {
	Name string
	Type *types.Type // nil until the first assignment of an untyped let
	Pos  ast.Pos     // declaration or first assignment
	// Declared is the integer type written in `let $x: TYPE`. Values are
	// stored 64 bits wide (Type) but converted to Declared when assigned,
	// as C converts them: (uint8)300 is 44.
	Declared *types.Type
}

// scope is one level of variable visibility: the probe, or a block.
type scope map[string]*Variable

// lookupVar finds the innermost variable called name.
func (c *checker) lookupVar(name string) *Variable {
	for i := len(c.scopes) - 1; i >= 0; i-- {
		if v := c.scopes[i][name]; v != nil {
			return v
		}
	}
	return nil
}

// declareVar makes a variable in scope level (0 is the probe's).
func (c *checker) declareVar(name string, pos ast.Pos, t *types.Type, level int) *Variable {
	v := &Variable{Name: name, Type: t, Pos: pos}
	c.scopes[level][name] = v
	c.probe.Vars = append(c.probe.Vars, v)
	return v
}

// use records that the syntax node e refers to v.
func (c *checker) use(e *ast.Var, v *Variable) {
	c.info.Uses[e] = v
	if v.Type != nil {
		c.info.Types[e] = v.Type
	}
}

// withScope runs f in a new innermost scope.
func (c *checker) withScope(f func()) {
	c.scopes = append(c.scopes, scope{})
	defer func() { c.scopes = c.scopes[:len(c.scopes)-1] }()
	f()
}

// assignVar records an assignment of a value of type t to e, declaring the
// variable probe-wide when it is new. It returns the variable, or nil after
// reporting a type conflict.
func (c *checker) assignVar(e *ast.Var, t *types.Type, valuePos ast.Pos) *Variable {
	v := c.lookupVar(e.Name)
	if v == nil {
		v = c.declareVar(e.Name, e.At, nil, 0)
	}
	if v.Type == nil {
		v.Type = t
	} else if v.Declared != nil && t.IsIntLike() {
		// Converted to the declared type when stored.
	} else if merged, ok := merge(v.Type, t); ok {
		v.Type = merged
	} else {
		c.errorf(valuePos, "%s holds %s; cannot assign %s", e.Name, v.Type, t)
		return nil
	}
	c.use(e, v)
	return v
}

// letType resolves the type written in `let $x: TYPE`.
func (c *checker) letType(te *ast.TypeExpr) *types.Type {
	if te.Name == "string" && te.Pointers == 0 {
		size := te.ArrayLen
		if size == 0 {
			size = 64
		}
		return types.NewString(size)
	}
	if t, ok := castType(te.Name); ok && te.Pointers == 0 && te.ArrayLen == 0 {
		return storageType(t)
	}
	c.errorf(te.At, "variables of type %s are not supported yet; integer types and string are", te)
	return nil
}
