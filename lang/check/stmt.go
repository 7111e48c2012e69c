package check

import (
	"fmt"
	"slices"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// block checks a block in its own scope.
func (c *checker) block(b *ast.Block) {
	c.withScope(func() {
		for _, s := range b.Stmts {
			c.stmt(s)
		}
	})
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
		c.let(s)
	case *ast.UnrollStmt:
		c.unroll(s)
	case *ast.WhileStmt:
		t := c.expr(s.Cond)
		if t != nil && !t.IsIntLike() {
			c.errorf(s.Cond.Pos(), "a while condition must be an integer, not %s", t)
		}
		c.loops++
		c.block(s.Body)
		c.loops--
		if t != nil && t.IsIntLike() {
			c.checkEndless(s)
		}
	case *ast.ForStmt:
		c.forStmt(s)
	case *ast.JumpStmt:
		switch {
		case s.Kind == "return" && s.Value != nil:
			c.errorf(s.Value.Pos(), "a probe's return takes no value")
		case s.Kind != "return" && c.loops == 0:
			c.errorf(s.At, "%s is only valid inside a while or for loop", s.Kind)
		}
	default:
		c.errorf(s.Pos(), "unsupported statement")
	}
}

func (c *checker) exprStmt(s *ast.ExprStmt) {
	switch x := s.X.(type) {
	case *ast.Call:
		if t := c.call(x, true); t != nil {
			c.info.Types[x] = t
		}
	case *ast.Unary:
		if x.Op == "++" || x.Op == "--" {
			c.incDec(x.X, x.At)
			return
		}
		c.expr(x)
	case *ast.Postfix:
		c.incDec(x.X, x.At)
	case *ast.BlockExpr:
		c.blockStmt(x)
	default:
		c.expr(x)
	}
}

// incDec checks `x++`-style statements on variables and maps.
func (c *checker) incDec(target ast.Expr, at ast.Pos) {
	switch t := target.(type) {
	case *ast.Var:
		v := c.lookupVar(t.Name)
		if v == nil || v.Type == nil {
			v = c.assignVar(t, types.Int64, at)
		}
		if v == nil {
			return
		}
		if !v.Type.IsInt() {
			c.errorf(at, "%s is %s; ++ and -- need an integer", t.Name, v.Type)
		}
		c.use(t, v)
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
		if old := c.lookupVar(t.Name); (old == nil || old.Type == nil) && s.Op != "=" {
			c.errorf(t.At, "%s is used before it is assigned", t.Name)
		}
		if v := c.assignVar(t, vt, s.Value.Pos()); v != nil && s.Op == "=" {
			c.checkFits(v, s.Value)
		}
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
	case types.Int, types.Pointer, types.String, types.Probe, types.Tuple, types.Special:
		return storageType(vt)
	}
	err := c.errorf(s.Value.Pos(), "%s values cannot be stored in variables or maps yet", vt)
	if _, isConst := c.info.Bytes[s.Value]; isConst {
		err.Hint = `use pton() where its value is needed (ntop(pton("1.2.3.4")), args.daddr == pton("1.2.3.4")), or cast it: (uint32)pton("1.2.3.4")`
	} else if vt.Kind == types.Array {
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
	switch t.Kind {
	case types.Int:
		return types.NewInt(8, t.Signed)
	case types.Tuple:
		elems := make([]*types.Type, len(t.Elems))
		for i, e := range t.Elems {
			elems[i] = storageType(e)
		}
		st := types.NewTuple(elems...)
		st.Names = t.Names
		return st
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
		if !slices.Equal(a.Names, b.Names) {
			return nil, false // a record and a tuple, or other field names
		}
		elems := make([]*types.Type, len(a.Elems))
		for i := range a.Elems {
			e, ok := merge(a.Elems[i], b.Elems[i])
			if !ok {
				return nil, false
			}
			elems[i] = e
		}
		t := types.NewTuple(elems...)
		t.Names = a.Names
		return t, true
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
		case types.Int, types.String, types.Probe, types.Pointer, types.Special:
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

// let declares a variable in the current block: `let $x`, `let $x: T`,
// `let $x = v`, `let $x: T = v`.
func (c *checker) let(s *ast.LetStmt) {
	level := len(c.scopes) - 1
	if old := c.scopes[level][s.Var.Name]; old != nil {
		c.errorf(s.Var.At, "%s is already declared in this block (at %v)", s.Var.Name, old.Pos)
		return
	}
	var t *types.Type
	if s.Type != nil {
		if t = c.letType(s.Type); t == nil {
			c.failedVars[s.Var.Name] = true
			return
		}
	}
	v := c.declareVar(s.Var.Name, s.Var.At, t, level)
	if s.Type != nil {
		if it, ok := castType(s.Type.Name); ok && it.Kind == types.Int && it != types.Bool && s.Type.Pointers == 0 {
			v.Declared = it
		}
	}
	c.use(s.Var, v)
	if s.Value == nil {
		return
	}
	vt := c.assignedValue(&ast.AssignStmt{At: s.At, Target: s.Var, Op: "=", Value: s.Value})
	if vt == nil {
		c.failedVars[s.Var.Name] = true
		return
	}
	c.assignVar(s.Var, vt, s.Value.Pos())
	c.checkFits(v, s.Value)
}

// checkFits rejects a constant that the declared type of v cannot hold:
// as in bpftrace, `let $a: uint16 = -1` needs an explicit cast, which says
// that the truncation is meant.
func (c *checker) checkFits(v *Variable, value ast.Expr) {
	if v == nil || v.Declared == nil {
		return
	}
	n, isConst := c.info.Consts[value]
	for p, ok := value.(*ast.Paren); ok; p, ok = value.(*ast.Paren) {
		value = p.X
	}
	if _, isCast := value.(*ast.Cast); isCast || !isConst {
		return
	}
	d := v.Declared
	bits := uint(8 * d.Size)
	fits := false
	if d.Signed {
		fits = bits == 64 || (n >= -1<<(bits-1) && n < 1<<(bits-1))
	} else {
		fits = n >= 0 && (bits == 64 || n < 1<<bits)
	}
	if !fits {
		c.errorf(value.Pos(), "%d does not fit %s's type %s; write (%s)%d to convert it", n, v.Name, d, d, n)
	}
}

// maxUnroll is bpftrace's limit on unroll counts.
const maxUnroll = 100

func (c *checker) unroll(s *ast.UnrollStmt) {
	t := c.expr(s.Count)
	n, ok := c.info.Consts[s.Count]
	switch {
	case t == nil:
	case !ok:
		c.errorf(s.Count.Pos(), "unroll needs a constant count")
	case n < 1 || n > maxUnroll:
		c.errorf(s.Count.Pos(), "unroll count must be between 1 and %d, not %d", maxUnroll, n)
	}
	c.block(s.Body)
}

// Range loops with at most MaxInlineRange iterations, known when the
// script is compiled, are plain loops that the verifier walks iteration by
// iteration; others run with bpf_loop, which the kernel bounds at
// MaxRangeIterations.
const (
	MaxInlineRange     = 100
	MaxRangeIterations = 1 << 23
)

// loopsAsCallbacks makes every range and while loop in body run as a
// bpf_loop callback. A probe with callbacks keeps its variables in the
// scratch map, where the verifier does not track values, so it could not
// see a plain loop's counter progress and would reject the loop.
func (c *checker) loopsAsCallbacks(body *ast.Block) {
	ast.Inspect(body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.ForStmt:
			if s.Map == nil {
				c.info.LoopCallbacks[s] = true
			}
		case *ast.WhileStmt:
			c.info.LoopCallbacks[s] = true
		}
		return true
	})
}

// hasLoops reports whether body has a range or while loop.
func hasLoops(body *ast.Block) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch s := n.(type) {
		case *ast.ForStmt:
			found = found || s.Map == nil
		case *ast.WhileStmt:
			found = true
		}
		return !found
	})
	return found
}

// forStmt checks `for ($i : lo..hi)` and `for ($kv : @map)`.
func (c *checker) forStmt(s *ast.ForStmt) {
	if s.Map != nil {
		c.mapLoop(s)
		return
	}
	for _, e := range []ast.Expr{s.Lo, s.Hi} {
		if t := c.valueExpr(e); t != nil && !t.IsInt() {
			c.errorf(e.Pos(), "a range bound must be an integer, not %s", t)
		}
	}
	lo, loConst := c.info.Consts[s.Lo]
	hi, hiConst := c.info.Consts[s.Hi]
	switch {
	case loConst && hiConst && hi-lo > MaxRangeIterations:
		c.errorf(s.Hi.Pos(), "this loop runs %d times; the kernel runs a loop at most %d times", hi-lo, MaxRangeIterations)
	case !loConst || !hiConst || hi-lo > MaxInlineRange:
		c.info.LoopCallbacks[s] = true
		c.probe.Callbacks = true
	}
	c.withScope(func() {
		v := c.declareVar(s.Var.Name, s.Var.At, types.Int64, len(c.scopes)-1)
		c.use(s.Var, v)
		c.loops++
		c.block(s.Body)
		c.loops--
	})
}

// mapLoop checks `for ($kv : @map) { }`: $kv is a (key, value) tuple. The
// body runs in a callback of bpf_for_each_map_elem, which cannot reach the
// probe's context, so args and arg0..argN are not available inside it.
func (c *checker) mapLoop(s *ast.ForStmt) {
	c.probe.Callbacks = true
	mi := c.mapInfo(s.Map)
	switch {
	case s.Map.Keys != nil:
		c.errorf(s.Map.At, "for iterates over a whole map: write %s, without a key", s.Map.Name)
		return
	case mi.Value == nil:
		if !c.quiet {
			c.errorf(s.Map.At, "%s is never assigned", s.Map.Name)
		}
		return
	case mi.Key == nil:
		c.errorf(s.Map.At, "%s has no keys to iterate over", s.Map.Name)
		return
	}
	value := mi.Value
	if value.Kind == types.Agg {
		// An aggregation's value is its total over all CPUs, where it has
		// a single number.
		switch value.Agg {
		case types.Count, types.Sum, types.Min, types.Max, types.Avg:
			value = types.Int64
		default:
			c.errorf(s.Map.At, "a for loop cannot iterate over %s: its %s() values are not single numbers", s.Map.Name, mi.Value.Agg)
			return
		}
	}
	c.withScope(func() {
		kv := c.declareVar(s.Var.Name, s.Var.At, types.NewTuple(mi.Key, value), len(c.scopes)-1)
		c.use(s.Var, kv)
		c.loops++
		c.block(s.Body)
		c.loops--
	})
}
