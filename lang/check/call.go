package check

import (
	"errors"
	"slices"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/format"
)

// call checks a function call. asStmt is true when the call is a whole
// statement, where functions without a value are allowed.
func (c *checker) call(e *ast.Call, asStmt bool) *types.Type {
	f, ok := c.conf.Lib.Func(e.Name)
	if !ok {
		err := c.errorf(e.At, "unknown function %s()", e.Name)
		err.Hint = suggest(e.Name, c.conf.Lib.Names())
		return nil
	}
	if !c.arity(e, f) {
		return nil
	}
	if p, ok := firstArg(e).(*ast.Positional); ok && e.Name == "str" && len(e.Args) == 1 && !p.Count {
		// str($1) is the parameter's text, even when it looks like a
		// number: bpftrace scripts use it to take strings from the
		// command line.
		c.info.Funcs[e] = f
		s := ""
		if p.Index <= len(c.conf.Params) {
			s = c.conf.Params[p.Index-1]
		}
		c.info.Strings[e] = s
		return types.NewString(len(s) + 1)
	}
	c.info.Funcs[e] = f
	if f.Unsafe && !c.conf.Unsafe {
		c.errorf(e.At, "%s() changes the system; it runs only with --unsafe", e.Name).Hint =
			"run gotrace --unsafe if that is what you want"
		return nil
	}
	switch f.Kind {
	case stdlib.Aggregation:
		c.errorf(e.At, "%s() is an aggregation: assign it to a map, e.g. @x = %s(...)", e.Name, e.Name)
		return nil
	case stdlib.Generated:
		return c.generatedCall(e)
	case stdlib.Statement:
		if !asStmt {
			c.errorf(e.At, "%s() has no value and can only be used as a statement", e.Name)
			return nil
		}
		c.statementCall(e)
		return types.VoidType
	}
	args, ok := c.args(e, f)
	if !ok {
		return nil
	}
	t, err := f.Check(args)
	if err != nil {
		c.reportCallErr(e, err)
		return nil
	}
	if f.Bytes != nil {
		c.info.Bytes[e] = f.Bytes(args)
	}
	return t
}

func (c *checker) arity(e *ast.Call, f *stdlib.Func) bool {
	n := len(e.Args)
	switch {
	case n < f.MinArgs && f.MinArgs == f.MaxArgs:
		c.errorf(e.Close, "%s() takes %d argument%s, got %d", e.Name, f.MinArgs, plural(f.MinArgs), n)
	case n < f.MinArgs:
		c.errorf(e.Close, "%s() takes at least %d argument%s, got %d", e.Name, f.MinArgs, plural(f.MinArgs), n)
	case f.MaxArgs >= 0 && n > f.MaxArgs && f.MinArgs == f.MaxArgs:
		c.errorf(e.Args[f.MaxArgs].Pos(), "%s() takes %d argument%s, got %d", e.Name, f.MaxArgs, plural(f.MaxArgs), n)
	case f.MaxArgs >= 0 && n > f.MaxArgs:
		c.errorf(e.Args[f.MaxArgs].Pos(), "%s() takes at most %d argument%s, got %d", e.Name, f.MaxArgs, plural(f.MaxArgs), n)
	default:
		return true
	}
	return false
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (c *checker) args(e *ast.Call, f *stdlib.Func) (*stdlib.Args, bool) {
	a := &stdlib.Args{
		Lib:     c.conf.Lib,
		Targets: c.probe.Targets,
		Types:   make([]*types.Type, len(e.Args)),
		Ints:    make([]*int64, len(e.Args)),
		Strs:    make([]*string, len(e.Args)),
		Bytes:   make([][]byte, len(e.Args)),
	}
	ok := true
	for i, arg := range e.Args {
		if id, isIdent := arg.(*ast.Ident); isIdent && c.isKeyword(f, id.Name) {
			// A bare word the function takes (kstack(perf)): a constant
			// string, not a builtin to look up. A word that is no
			// builtin either goes to Check too, which says which words
			// it takes.
			c.info.Strings[arg] = id.Name
			c.info.Types[arg] = types.NewString(len(id.Name) + 1)
			a.Types[i], a.Strs[i] = c.info.Types[arg], &id.Name
			continue
		}
		a.Types[i] = c.valueExpr(arg)
		if a.Types[i] == nil {
			ok = false
		}
		if v, isConst := c.info.Consts[arg]; isConst {
			a.Ints[i] = &v
		}
		if s, isConst := c.info.Strings[arg]; isConst {
			a.Strs[i] = &s
		}
		a.Bytes[i] = c.info.Bytes[arg]
	}
	return a, ok
}

// isKeyword reports whether name, written as an argument of f, is one of
// f's bare-word arguments (or, f taking some, a word that means nothing
// else).
func (c *checker) isKeyword(f *stdlib.Func, name string) bool {
	if len(f.Keywords) == 0 {
		return false
	}
	if slices.Contains(f.Keywords, name) {
		return true
	}
	_, isVar := c.conf.Lib.Var(name)
	_, isConst := c.conf.Lib.Constant(name)
	_, isEnum := c.enums[name]
	return !isVar && !isConst && !isEnum && c.defines[name] == nil && name != "args"
}

func (c *checker) reportCallErr(e *ast.Call, err error) {
	var ae *stdlib.ArgError
	if errors.As(err, &ae) && ae.Index < len(e.Args) {
		c.errorf(e.Args[ae.Index].Pos(), "%s", ae.Msg)
		return
	}
	c.errorf(e.At, "%v", err)
}

// aggregation checks `@m = f(...)` and returns the map's value type.
func (c *checker) aggregation(e *ast.Call, f *stdlib.Func) *types.Type {
	if !c.arity(e, f) {
		return nil
	}
	c.info.Funcs[e] = f
	args, ok := c.args(e, f)
	if !ok {
		return nil
	}
	t, err := f.Check(args)
	if err != nil {
		c.reportCallErr(e, err)
		return nil
	}
	c.info.Types[e] = t
	return t
}

// statementCall checks the functions the code generator implements itself.
func (c *checker) statementCall(e *ast.Call) {
	switch e.Name {
	case "printf", "cat", "system", "errorf", "warnf":
		c.printf(e)
	case "exit":
		if len(e.Args) == 1 {
			if t := c.valueExpr(e.Args[0]); t != nil && !t.IsInt() {
				c.errorf(e.Args[0].Pos(), "exit()'s status must be an integer, not %s", t)
			}
		}
	case "print":
		c.print(e)
	case "join":
		if t := c.valueExpr(e.Args[0]); t != nil && !t.IsIntLike() {
			c.errorf(e.Args[0].Pos(), "join() takes a pointer to an array of string pointers, not %s", t)
		}
		if len(e.Args) == 2 {
			c.valueExpr(e.Args[1])
			if _, ok := c.info.Strings[e.Args[1]]; !ok {
				c.errorf(e.Args[1].Pos(), "join()'s separator must be a string literal")
			}
		}
	case "time":
		if len(e.Args) == 1 {
			c.valueExpr(e.Args[0])
			if _, ok := c.info.Strings[e.Args[0]]; !ok {
				c.errorf(e.Args[0].Pos(), "time()'s format must be a string literal")
			}
		}
	case "clear", "zero":
		c.mapArg(e, e.Args[0], false)
	case "delete":
		c.deleteCall(e)
	}
}

// mapArg checks an argument that must name a map.
func (c *checker) mapArg(e *ast.Call, a ast.Expr, keyed bool) *MapInfo {
	m, ok := a.(*ast.MapRef)
	if !ok || (!keyed && m.Keys != nil) {
		c.errorf(a.Pos(), "%s() takes a map, e.g. %s(@m)", e.Name, e.Name)
		return nil
	}
	mi := c.mapInfo(m)
	if mi.Value == nil && !c.quiet {
		if !mi.failed {
			c.errorf(m.At, "%s is never assigned", m.Name)
		}
		return nil
	}
	return mi
}

func (c *checker) deleteCall(e *ast.Call) {
	m, ok := e.Args[0].(*ast.MapRef)
	if !ok {
		c.errorf(e.Args[0].Pos(), "delete() takes a map element, e.g. delete(@m[key]) or delete(@m, key)")
		return
	}
	if len(e.Args) == 2 {
		if m.Keys != nil {
			c.errorf(e.Args[1].Pos(), "delete(@m[key]) takes no second argument")
			return
		}
		// delete(@m, key) is delete(@m[key]).
		m = &ast.MapRef{At: m.At, Name: m.Name, Keys: ast.KeyExprs(e.Args[1])}
	}
	mi := c.mapInfo(m)
	if mi.Value == nil && !c.quiet {
		if !mi.failed {
			c.errorf(m.At, "%s is never assigned", m.Name)
		}
		return
	}
	key := c.mapKey(m)
	if m.Keys == nil && mi.Key != nil {
		c.errorf(e.Args[0].Pos(), "delete() needs a key: %s[...]", m.Name)
		return
	}
	c.unifyKey(mi, key, m)
	if len(e.Args) == 2 {
		// Record the synthesized key expression's types under the call's
		// own argument so the code generator finds them.
		c.info.Types[e.Args[1]] = key
	}
}

func (c *checker) print(e *ast.Call) {
	if m, ok := e.Args[0].(*ast.MapRef); ok && m.Keys == nil {
		c.mapArg(e, m, false)
		for i, a := range e.Args[1:] {
			t := c.valueExpr(a)
			if t == nil {
				continue
			}
			if _, isConst := c.info.Consts[a]; !isConst || !t.IsInt() {
				c.errorf(a.Pos(), "print()'s %s must be an integer constant", []string{"top", "div"}[i])
			}
		}
		return
	}
	if len(e.Args) > 1 {
		c.errorf(e.Args[1].Pos(), "print(value) takes one argument; only print(@map, top, div) takes more")
		return
	}
	t := c.valueExpr(e.Args[0])
	if t != nil && t.Kind != types.Int && t.Kind != types.String && t.Kind != types.Probe && t.Kind != types.Tuple && t.Kind != types.Special {
		c.errorf(e.Args[0].Pos(), "cannot print %s yet", t)
	}
}

// literalPos returns the source position of byte off of lit's decoded value.
// It walks the literal as written, so that an escape such as \t counts with
// its written length; every escape decodes to exactly one byte.
func (c *checker) literalPos(lit *ast.StrLit, off int) ast.Pos {
	pos := lit.At
	var text string
	if c.errs.Src != nil {
		text = c.errs.Src.Text
	}
	if pos.Offset >= len(text) || text[pos.Offset] != '"' {
		// Not the source text: assume there are no escapes.
		pos.Col += 1 + off
		pos.Offset += 1 + off
		return pos
	}
	i := pos.Offset + 1
	for n := 0; n < off && i < len(text); n++ {
		i += escapeLen(text, i)
	}
	pos.Col += i - pos.Offset
	pos.Offset = i
	return pos
}

// escapeLen is the written length of the character at s[i] of a string
// literal: 1, or the length of the escape sequence starting there (the
// lexer's rules: \x takes up to two hex digits, \NNN up to three octal ones).
func escapeLen(s string, i int) int {
	if s[i] != '\\' || i+1 >= len(s) {
		return 1
	}
	j := i + 2
	switch c := s[i+1]; {
	case c == 'x':
		for j < len(s) && j < i+4 && strings.ContainsRune("0123456789abcdefABCDEF", rune(s[j])) {
			j++
		}
	case c >= '0' && c <= '7':
		for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' {
			j++
		}
	}
	return j - i
}

func (c *checker) printf(e *ast.Call) {
	lit, ok := e.Args[0].(*ast.StrLit)
	if !ok {
		c.errorf(e.Args[0].Pos(), "printf()'s format must be a string literal")
		return
	}
	p, err := format.ParsePrintf(lit.Value)
	if err != nil {
		var pe *format.ParseError
		if errors.As(err, &pe) {
			// The caret shows where; the byte offset in the decoded
			// format would only confuse.
			c.errorf(c.literalPos(lit, pe.Offset), "bad printf format: %s", pe.Msg)
			return
		}
		c.errorf(lit.At, "bad printf format: %v", err)
		return
	}
	c.info.Printf[e] = p
	convs := p.Args()
	args := e.Args[1:]
	if len(args) != len(convs) {
		pos := e.Close
		if len(args) > len(convs) {
			pos = args[len(convs)].Pos()
		}
		c.errorf(pos, "printf() format has %d conversion%s but %d argument%s follow%s", len(convs), plural(len(convs)), len(args), plural(len(args)), map[bool]string{true: "s", false: ""}[len(args) == 1])
		for _, a := range args {
			c.valueExpr(a)
		}
		return
	}
	for i, a := range args {
		t := c.valueExpr(a)
		if t == nil {
			continue
		}
		conv := convs[i]
		switch conv.Kind {
		case format.KindString:
			if t.Kind != types.String && t.Kind != types.Probe && t.Kind != types.Special {
				err := c.errorf(a.Pos(), "%%%c needs a string, but this is %s", conv.Verb, t)
				if t.IsIntLike() {
					err.Hint = "use %d for integers, or str() to read a string from a pointer"
				}
			}
		case format.KindBuffer:
			if t.Kind != types.Special || t.Name != "buf" {
				c.errorf(a.Pos(), "%%%c needs a buffer made by buf(), but this is %s", conv.Verb, t)
			}
		default:
			if !t.IsIntLike() {
				err := c.errorf(a.Pos(), "%%%c needs an integer, but this is %s", conv.Verb, t)
				if t.IsString() {
					err.Hint = "use %s for strings"
				}
			}
		}
	}
}

// firstArg returns a call's first argument, or nil.
func firstArg(e *ast.Call) ast.Expr {
	if len(e.Args) == 0 {
		return nil
	}
	return e.Args[0]
}
