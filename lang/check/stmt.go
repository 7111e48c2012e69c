package check

import (
	"fmt"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

func (c *checker) block(b *ast.Block) {
	for _, s := range b.Stmts {
		c.stmt(s)
	}
}

func (c *checker) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.Block:
		c.block(s)
	case *ast.ExprStmt:
		c.exprStmt(s)
	case *ast.AssignStmt:
		c.assign(s)
	case *ast.IfStmt:
		if t := c.expr(s.Cond); t != nil && !t.IsIntLike() {
			c.errorf(s.Cond.Pos(), "an if condition must be an integer, not %s", t)
		}
		c.block(s.Then)
		if s.Else != nil {
			c.stmt(s.Else)
		}
	case *ast.LetStmt:
		c.errorf(s.At, "let declarations are not supported yet; assign the variable instead ($x = ...)")
	case *ast.UnrollStmt:
		c.errorf(s.At, "unroll is not supported yet")
	case *ast.WhileStmt:
		c.errorf(s.At, "while loops are not supported yet")
	case *ast.ForStmt:
		c.errorf(s.At, "for loops are not supported yet")
	case *ast.JumpStmt:
		if s.Kind != "return" || s.Value != nil {
			c.errorf(s.At, "%s is not supported yet", s.Kind)
		}
	default:
		c.errorf(s.Pos(), "unsupported statement")
	}
}

func (c *checker) exprStmt(s *ast.ExprStmt) {
	switch x := s.X.(type) {
	case *ast.Call:
		c.call(x, true)
	case *ast.Unary:
		if x.Op == "++" || x.Op == "--" {
			c.incDec(x.X, x.At)
			return
		}
		c.expr(x)
	case *ast.Postfix:
		c.incDec(x.X, x.At)
	default:
		c.expr(x)
	}
}

// incDec checks `x++`-style statements on variables and maps.
func (c *checker) incDec(target ast.Expr, at ast.Pos) {
	switch t := target.(type) {
	case *ast.Var:
		vt := c.probe.Vars[t.Name]
		if vt == nil {
			vt = types.Int64
			c.probe.Vars[t.Name] = vt
		}
		if !vt.IsInt() {
			c.errorf(at, "%s is %s; ++ and -- need an integer", t.Name, vt)
		}
		c.info.Types[t] = vt
	case *ast.MapRef:
		key := c.mapKey(t)
		mi := c.mapInfo(t)
		c.unifyKey(mi, key, t)
		if mi.Value == nil {
			mi.Value = types.Int64
		}
		if !mi.Value.IsInt() {
			c.errorf(at, "%s holds %s; ++ and -- need an integer", t.Name, mi.Value)
		}
		c.info.Types[t] = mi.Value
	default:
		c.errorf(at, "++ and -- apply to a variable or a map element")
	}
}

func (c *checker) assign(s *ast.AssignStmt) {
	switch t := s.Target.(type) {
	case *ast.Var:
		vt := c.assignedValue(s)
		if vt == nil {
			// Reads of the variable are not "used before assigned".
			c.failedVars[t.Name] = true
			return
		}
		if old := c.probe.Vars[t.Name]; old != nil {
			merged, ok := merge(old, vt)
			if !ok {
				c.errorf(s.Value.Pos(), "%s holds %s; cannot assign %s", t.Name, old, vt)
				return
			}
			vt = merged
		} else if s.Op != "=" {
			c.errorf(t.At, "%s is used before it is assigned", t.Name)
		}
		c.probe.Vars[t.Name] = vt
		c.info.Types[t] = vt
	case *ast.MapRef:
		key := c.mapKey(t)
		mi := c.mapInfo(t)
		c.unifyKey(mi, key, t)
		var vt *types.Type
		if call, ok := s.Value.(*ast.Call); ok {
			if f, ok := c.conf.Lib.Func(call.Name); ok && f.Agg != nil {
				if s.Op != "=" {
					c.errorf(s.At, "aggregations are assigned with =, not %s", s.Op)
				}
				vt = c.aggregation(call, f)
				if vt == nil {
					mi.failed = true // the arguments were wrong; already reported
					return
				}
			}
		}
		if vt == nil {
			vt = c.assignedValue(s)
			if vt == nil {
				mi.failed = true
				return
			}
		}
		if mi.Value == nil {
			mi.Value = vt
		} else if merged, ok := merge(mi.Value, vt); ok {
			mi.Value = merged
		} else {
			c.errorf(s.Value.Pos(), "%s holds %s; cannot assign %s", t.Name, describe(mi.Value), describe(vt))
			return
		}
		c.info.Types[t] = mi.Value
	default:
		c.errorf(s.At, "can only assign to a variable ($x) or a map (@m)")
	}
}

// assignedValue checks the value of a (non-aggregation) assignment and
// returns the type it is stored as, or nil after reporting an error. The
// code generator stores integers, pointers, strings and probe names only;
// `/=` and `%=` by a constant zero are rejected like / and %.
func (c *checker) assignedValue(s *ast.AssignStmt) *types.Type {
	vt := c.valueExpr(s.Value)
	if vt == nil {
		return nil
	}
	if s.Op != "=" && !vt.IsInt() {
		c.errorf(s.At, "%s needs an integer value, not %s", s.Op, vt)
		return nil
	}
	if s.Op == "/=" || s.Op == "%=" {
		if v, ok := c.info.Consts[s.Value]; ok && v == 0 {
			c.errorf(s.Value.Pos(), "division by zero")
			return nil
		}
	}
	switch vt.Kind {
	case types.Int, types.Pointer, types.String, types.Probe:
		return storageType(vt)
	}
	err := c.errorf(s.Value.Pos(), "%s values cannot be stored in variables or maps yet", vt)
	if vt.Kind == types.Array {
		err.Hint = "store its elements one at a time, indexed with constants"
	}
	return nil
}

// describe names a type the way users write it.
func describe(t *types.Type) string {
	if t.Kind == types.Agg {
		if t.Agg == types.Lhist {
			// Show the bounds: two lhist()s differ only in them.
			return fmt.Sprintf("lhist(n, %d, %d, %d) aggregation", t.LhistMin, t.LhistMax, t.LhistStep)
		}
		return string(t.Agg) + "() aggregation"
	}
	return t.String()
}

// storageType is the type a value takes when stored in a variable or map:
// integers widen to 64 bits (keeping their signedness), as in bpftrace.
func storageType(t *types.Type) *types.Type {
	if t.Kind == types.Int {
		return types.NewInt(8, t.Signed)
	}
	return t
}

// merge combines two types stored in the same place: strings take the
// larger buffer, integers of either signedness are compatible.
func merge(a, b *types.Type) (*types.Type, bool) {
	switch {
	case a.Kind == types.String && b.Kind == types.String:
		if b.Size > a.Size {
			return b, true
		}
		return a, true
	case a.Kind == types.Int && b.Kind == types.Int:
		return a, true
	case a.Kind == types.Tuple && b.Kind == types.Tuple && len(a.Elems) == len(b.Elems):
		elems := make([]*types.Type, len(a.Elems))
		for i := range a.Elems {
			e, ok := merge(a.Elems[i], b.Elems[i])
			if !ok {
				return nil, false
			}
			elems[i] = e
		}
		return types.NewTuple(elems...), true
	}
	return a, types.Equal(a, b)
}

// mapKey checks a map's key expressions and returns the key type: nil for
// no key, the expression's type for one key, a tuple for several.
func (c *checker) mapKey(m *ast.MapRef) *types.Type {
	if m.Keys == nil {
		return nil
	}
	var elems []*types.Type
	for _, k := range m.Keys {
		t := c.valueExpr(k)
		if t == nil {
			return nil
		}
		switch t.Kind {
		case types.Int, types.String, types.Probe, types.Pointer:
		default:
			c.errorf(k.Pos(), "%s cannot be a map key", t)
			return nil
		}
		elems = append(elems, storageType(t))
	}
	if len(elems) == 1 {
		return elems[0]
	}
	return types.NewTuple(elems...)
}

func (c *checker) unifyKey(mi *MapInfo, key *types.Type, m *ast.MapRef) {
	hasKey := m.Keys != nil
	if hasKey && key == nil {
		return // the key expression had an error, already reported
	}
	if !mi.used {
		mi.used = true
		mi.Key = key
		return
	}
	if hasKey != (mi.Key != nil) {
		if hasKey {
			c.errorf(m.At, "%s was used without a key elsewhere; use it the same way everywhere", m.Name)
		} else {
			c.errorf(m.At, "%s has keys (%s); index it like %s[...]", m.Name, mi.Key, m.Name)
		}
		return
	}
	if !hasKey {
		return
	}
	merged, ok := merge(mi.Key, key)
	if !ok {
		c.errorf(m.Keys[0].Pos(), "%s's key is %s here but %s elsewhere; a map's keys must always have the same type", m.Name, key, mi.Key)
		return
	}
	mi.Key = merged
}
