package check

import (
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// valueExpr checks e where a value is required: calls to statement-only
// functions and aggregations are errors here.
func (c *checker) valueExpr(e ast.Expr) *types.Type {
	t := c.expr(e)
	if t != nil && t.Kind == types.Void {
		err := c.errorf(e.Pos(), "this expression has no value")
		if _, ok := e.(*ast.BlockExpr); ok {
			err.Hint = "a block's value is its last expression, written without a ';' after it"
		}
		return nil
	}
	return t
}

// expr checks e and records its type; nil means an error was reported.
func (c *checker) expr(e ast.Expr) *types.Type {
	t := c.exprType(e)
	if t != nil {
		c.info.Types[e] = t
	}
	return t
}

func (c *checker) exprType(e ast.Expr) *types.Type {
	switch e := e.(type) {
	case *ast.IntLit:
		return c.intLit(e)
	case *ast.StrLit:
		c.info.Strings[e] = e.Value
		return types.NewString(len(e.Value) + 1)
	case *ast.Paren:
		t := c.expr(e.X)
		c.copyConst(e, e.X)
		return t
	case *ast.Positional:
		return c.positional(e)
	case *ast.Ident:
		return c.ident(e)
	case *ast.Var:
		v := c.lookupVar(e.Name)
		if v == nil || v.Type == nil {
			if !c.failedVars[e.Name] {
				c.errorf(e.At, "%s is used before it is assigned", e.Name)
			}
			return nil
		}
		c.use(e, v)
		return v.Type
	case *ast.MapRef:
		return c.mapRead(e)
	case *ast.Call:
		return c.call(e, false)
	case *ast.Unary:
		return c.unary(e)
	case *ast.Postfix:
		c.errorf(e.At, "%s can only be used as a statement here", e.Op)
		return nil
	case *ast.Binary:
		return c.binary(e)
	case *ast.Ternary:
		return c.ternary(e)
	case *ast.Cast:
		return c.cast(e)
	case *ast.FieldAccess:
		return c.fieldAccess(e)
	case *ast.Index:
		return c.index(e)
	case *ast.Tuple:
		return c.tuple(e)
	case *ast.BlockExpr:
		return c.blockExpr(e)
	case *ast.Sizeof:
		return c.sizeof(e)
	case *ast.Offsetof:
		return c.offsetof(e)
	default:
		c.errorf(e.Pos(), "unsupported expression")
	}
	return nil
}

// durationUnit returns the nanoseconds in a duration literal's unit.
func durationUnit(suffix string) (uint64, bool) {
	switch suffix {
	case "ns":
		return 1, true
	case "us":
		return 1e3, true
	case "ms":
		return 1e6, true
	case "s":
		return 1e9, true
	case "m":
		return 60e9, true
	case "h":
		return 3600e9, true
	case "d":
		return 86400e9, true
	}
	return 0, false
}

func (c *checker) intLit(e *ast.IntLit) *types.Type {
	v := e.Value
	switch e.Suffix {
	case "", "u", "l", "ul", "lu", "ll", "ull", "llu", "U", "L", "UL", "LL", "ULL":
	default:
		mult, ok := durationUnit(e.Suffix)
		if !ok {
			c.errorf(e.At, "unknown suffix %q on integer literal", e.Suffix)
			return nil
		}
		v *= mult
	}
	c.info.Consts[e] = int64(v)
	if v > 1<<63-1 {
		return types.Uint64
	}
	return types.Int64
}

func (c *checker) copyConst(dst, src ast.Expr) {
	if v, ok := c.info.Consts[src]; ok {
		c.info.Consts[dst] = v
	}
	if v, ok := c.info.Strings[src]; ok {
		c.info.Strings[dst] = v
	}
	if b, ok := c.info.Bytes[src]; ok {
		c.info.Bytes[dst] = b
	}
}

// positional types $N as an integer when the parameter looks like one and
// as a string otherwise, like bpftrace; a missing parameter is 0 or "".
func (c *checker) positional(e *ast.Positional) *types.Type {
	if e.Count {
		c.info.Consts[e] = int64(len(c.conf.Params))
		return types.Int64
	}
	s := ""
	if e.Index <= len(c.conf.Params) {
		s = c.conf.Params[e.Index-1]
	}
	if v, ok := parseParam(s); ok || s == "" {
		c.info.Consts[e] = v
		return types.Int64
	}
	c.info.Strings[e] = s
	return types.NewString(len(s) + 1)
}

func (c *checker) ident(e *ast.Ident) *types.Type {
	if e.Name == "args" {
		// Every target of a probe runs the same body, so args must exist in
		// all of them (tracepoint:a:b, rawtracepoint:c shares a body).
		for _, t := range c.probe.Targets {
			if t.Args == nil {
				if t.Provider.NoArgs != "" {
					c.errorf(e.At, "%s", t.Provider.NoArgs)
				} else {
					c.errorf(e.At, "args is not available in %s probes", t.Provider.Name)
				}
				return nil
			}
		}
		return c.target.Args
	}
	if d := c.defines[e.Name]; d != nil {
		return c.defineValue(e, d)
	}
	if v, ok := c.enums[e.Name]; ok {
		c.info.Consts[e] = v
		return types.Int64
	}
	if v, ok := c.conf.Lib.Constant(e.Name); ok {
		c.info.Consts[e] = v
		return types.Int64
	}
	v, ok := c.conf.Lib.Var(e.Name)
	if !ok {
		err := c.errorf(e.At, "unknown identifier %q", e.Name)
		if _, isFunc := c.conf.Lib.Func(e.Name); isFunc {
			err.Hint = e.Name + " is a function: call it as " + e.Name + "()"
		} else {
			err.Hint = suggest(e.Name, c.conf.Lib.Names())
		}
		return nil
	}
	// The variable must be available in every target, not just the first.
	var t *types.Type
	for i, target := range c.probe.Targets {
		tt, err := v.Type(c.conf.Lib, target)
		if err != nil {
			c.errorf(e.At, "%v", err)
			return nil
		}
		if i == 0 {
			t = tt
		}
	}
	c.info.Vars[e] = v
	return t
}

func (c *checker) mapRead(e *ast.MapRef) *types.Type {
	key := c.mapKey(e)
	mi := c.mapInfo(e)
	c.unifyKey(mi, key, e)
	if mi.Value == nil {
		if !c.quiet && !mi.failed {
			c.errorf(e.At, "%s is read but never assigned", e.Name)
		}
		return nil
	}
	if mi.Value.Kind == types.Agg {
		switch mi.Value.Agg {
		case types.Count, types.Sum, types.Min, types.Max, types.Avg:
			// Reading an aggregation gives its total over all CPUs, as in
			// bpftrace.
			return types.Int64
		}
		c.errorf(e.At, "%s is a %s() aggregation and cannot be used as a value", e.Name, mi.Value.Agg)
		return nil
	}
	return mi.Value
}

func (c *checker) unary(e *ast.Unary) *types.Type {
	switch e.Op {
	case "++", "--":
		c.errorf(e.At, "%s can only be used as a statement here", e.Op)
		return nil
	case "*":
		return c.deref(e)
	case "&":
		return c.addressOf(e)
	}
	t := c.valueExpr(e.X)
	if t == nil {
		return nil
	}
	if !t.IsIntLike() {
		c.errorf(e.At, "%s needs an integer, not %s", e.Op, t)
		return nil
	}
	if v, ok := c.info.Consts[e.X]; ok {
		switch e.Op {
		case "-":
			c.info.Consts[e] = -v
		case "!":
			c.info.Consts[e] = b2i(v == 0)
		case "~":
			c.info.Consts[e] = ^v
		}
	}
	switch e.Op {
	case "!":
		return types.Uint64
	case "-":
		return types.Int64
	}
	return promote(t, t)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// promote applies C's usual arithmetic conversions in 64 bits: integers
// narrower than 64 bits become int64; uint64 wins over int64.
func promote(a, b *types.Type) *types.Type {
	unsigned := func(t *types.Type) bool { return t.Kind == types.Pointer || (!t.Signed && t.Size == 8) }
	if unsigned(a) || unsigned(b) {
		return types.Uint64
	}
	return types.Int64
}

func (c *checker) binary(e *ast.Binary) *types.Type {
	x := c.valueExpr(e.X)
	y := c.valueExpr(e.Y)
	if x == nil || y == nil {
		return nil
	}
	switch e.Op {
	case "==", "!=":
		if x.Kind == types.Array || y.Kind == types.Array {
			return c.arrayCompare(e, x, y)
		}
		if x.IsString() && y.IsString() {
			return types.Uint64
		}
		if x.IsString() != y.IsString() {
			c.errorf(e.At, "cannot compare %s with %s", x, y)
			return nil
		}
	}
	if !x.IsIntLike() || !y.IsIntLike() {
		bad, t := e.X, x
		if x.IsIntLike() {
			bad, t = e.Y, y
		}
		err := c.errorf(bad.Pos(), "%s needs integers, not %s", e.Op, t)
		if t.IsString() && (e.Op == "<" || e.Op == ">" || e.Op == "<=" || e.Op == ">=") {
			err.Hint = "strings can only be compared with == and !="
		}
		return nil
	}
	xv, xok := c.info.Consts[e.X]
	yv, yok := c.info.Consts[e.Y]
	if (e.Op == "/" || e.Op == "%") && yok && yv == 0 {
		c.errorf(e.Y.Pos(), "division by zero")
		return nil
	}
	if xok && yok {
		if v, ok := types.Fold(e.Op, xv, yv, !promote(x, y).Signed); ok {
			c.info.Consts[e] = v
		}
	}
	switch e.Op {
	case "==", "!=", "<", "<=", ">", ">=", "&&", "||":
		return types.Uint64
	}
	return promote(x, y)
}

func (c *checker) ternary(e *ast.Ternary) *types.Type {
	cond := c.valueExpr(e.Cond)
	a := c.valueExpr(e.Then)
	b := c.valueExpr(e.Else)
	if cond == nil || a == nil || b == nil {
		return nil
	}
	if !cond.IsIntLike() {
		c.errorf(e.Cond.Pos(), "a condition must be an integer, not %s", cond)
		return nil
	}
	if a.IsIntLike() && b.IsIntLike() {
		return promote(a, b)
	}
	if a.IsString() && b.IsString() {
		m, _ := merge(a, b)
		return m
	}
	c.errorf(e.At, "both branches of ?: must have the same kind of type, not %s and %s", a, b)
	return nil
}

// castType returns the integer type a cast names.
func castType(name string) (*types.Type, bool) {
	switch name {
	case "bool":
		return types.Bool, true
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64":
		signed := name[0] == 'i'
		bits, _ := strconv.Atoi(strings.TrimLeft(name, "uint"))
		return types.NewInt(bits/8, signed), true
	}
	return nil, false
}

func (c *checker) cast(e *ast.Cast) *types.Type {
	x := c.valueExpr(e.X)
	if x == nil {
		return nil
	}
	if e.Type.Pointers > 0 {
		return c.pointerCast(e, x)
	}
	t, ok := castType(e.Type.Name)
	if !ok || e.Type.ArrayLen > 0 {
		c.errorf(e.Type.At, "casts to %s are not supported yet; integer and pointer casts are", e.Type)
		return nil
	}
	if x.Kind == types.Array {
		return c.arrayCast(e, x, t)
	}
	if !x.IsIntLike() {
		c.errorf(e.X.Pos(), "cannot cast %s to %s", x, t)
		return nil
	}
	if v, ok := c.info.Consts[e.X]; ok {
		c.info.Consts[e] = truncate(v, t)
	}
	return t
}

// truncate applies a C integer conversion to v.
func truncate(v int64, t *types.Type) int64 {
	if t == types.Bool {
		return b2i(v != 0)
	}
	bits := uint(t.Size * 8)
	if bits == 64 {
		return v
	}
	if t.Signed {
		return v << (64 - bits) >> (64 - bits)
	}
	return int64(uint64(v) << (64 - bits) >> (64 - bits))
}

func (c *checker) fieldAccess(e *ast.FieldAccess) *types.Type {
	x := c.valueExpr(e.X)
	if x == nil {
		return nil
	}
	if x.Kind == types.Tuple {
		return c.tupleElem(e, x)
	}
	if !isArgs(e.X) {
		return c.memberAccess(e, x)
	}
	f, ok := x.Field(e.Name)
	if !ok {
		err := c.errorf(c.fieldNamePos(e), "%s has no field %q", c.target.Name, e.Name)
		err.Hint = fieldHint(e.Name, x)
		return nil
	}
	if f.Type.Kind == types.Void {
		// A field the tracepoint has but gotrace cannot read yet.
		c.errorf(c.fieldNamePos(e), "args.%s (%s) is not supported yet", e.Name, f.Type.Name)
		return nil
	}
	return f.Type
}

func (c *checker) index(e *ast.Index) *types.Type {
	x := c.valueExpr(e.X)
	i := c.valueExpr(e.Index)
	if x == nil || i == nil {
		return nil
	}
	if x.Kind != types.Array && x.Kind != types.Pointer {
		c.errorf(e.At, "%s cannot be indexed", x)
		return nil
	}
	if !i.IsInt() {
		c.errorf(e.Index.Pos(), "an index must be an integer, not %s", i)
		return nil
	}
	if b, ok := c.info.Bytes[e.X]; ok {
		return c.constArrayIndex(e, x, b)
	}
	if !c.fromArgs(e.X) {
		// Kernel or user memory: any index, read with a helper.
		return c.memoryIndex(e, x)
	}
	v, ok := c.info.Consts[e.Index]
	if !ok {
		c.errorf(e.Index.Pos(), "array indexes must be constants for now")
		return nil
	}
	if v < 0 || int(v) >= x.Len {
		c.errorf(e.Index.Pos(), "index %d is out of range: the array has %d elements", v, x.Len)
		return nil
	}
	return x.Elem
}
