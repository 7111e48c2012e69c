package check

import (
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// generatedCall checks the functions whose code the code generator writes
// itself (stdlib.Generated).
func (c *checker) generatedCall(e *ast.Call) *types.Type {
	switch e.Name {
	case "has_key":
		mi := c.mapArg(e, e.Args[0], false)
		if mi == nil {
			return nil
		}
		m := e.Args[0].(*ast.MapRef)
		key := &ast.MapRef{At: m.At, Name: m.Name, Keys: ast.KeyExprs(e.Args[1])}
		if mi.Key == nil {
			c.errorf(e.Args[1].Pos(), "%s has no keys", m.Name)
			return nil
		}
		kt := c.mapKey(key)
		if kt == nil {
			return nil
		}
		if _, ok := merge(mi.Key, kt); !ok {
			c.errorf(e.Args[1].Pos(), "%s's key is %s, not %s", m.Name, mi.Key, kt)
			return nil
		}
		return types.Uint64
	case "strncmp":
		for _, a := range e.Args[:2] {
			if t := c.valueExpr(a); t != nil && !t.IsString() {
				c.errorf(a.Pos(), "strncmp() compares strings, not %s", t)
				return nil
			}
		}
		c.valueExpr(e.Args[2])
		if n, ok := c.info.Consts[e.Args[2]]; !ok || n < 0 {
			c.errorf(e.Args[2].Pos(), "strncmp()'s length must be a constant, zero or more")
			return nil
		}
		return types.Uint64
	case "len":
		mi := c.mapArg(e, e.Args[0], false)
		if mi == nil {
			return nil
		}
		m := e.Args[0].(*ast.MapRef)
		if mi.Value.Kind == types.Agg && (mi.Value.Agg == types.Hist || mi.Value.Agg == types.Lhist) {
			c.errorf(m.At, "len() of a %s() map is not supported", mi.Value.Agg)
			return nil
		}
		c.probe.Callbacks = true
		return types.Uint64
	case "strlen":
		if t := c.valueExpr(e.Args[0]); t != nil && !t.IsString() {
			c.errorf(e.Args[0].Pos(), "strlen() takes a string, not %s", t)
			return nil
		}
		return types.Uint64
	case "strcontains", "strstr":
		if t := c.valueExpr(e.Args[0]); t != nil && !t.IsString() {
			c.errorf(e.Args[0].Pos(), "%s() searches a string, not %s", e.Name, t)
			return nil
		}
		c.valueExpr(e.Args[1])
		if _, ok := c.info.Strings[e.Args[1]]; !ok {
			c.errorf(e.Args[1].Pos(), "%s()'s needle must be a string literal for now", e.Name)
			return nil
		}
		if e.Name == "strstr" {
			return types.Int64
		}
		return types.Uint64
	}
	c.errorf(e.At, "%s() is not supported yet", e.Name)
	return nil
}
