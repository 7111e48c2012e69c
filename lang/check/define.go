package check

import (
	"errors"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/cdecl"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/parser"
	"github.com/gotrace/gotrace/lang/types"
)

// define is a `#define NAME VALUE` constant. Scripts from bpftrace's tools
// use them for flags and limits; gotrace supports those whose value is a
// constant integer or string expression (possibly using earlier defines).
type define struct {
	decl *ast.Define
	expr ast.Expr
}

func (c *checker) declareDefine(d *ast.Define) {
	e, err := parser.ParseExpr(d.Name, d.Value)
	if err != nil {
		msg := "#define " + d.Name + ": its value is not an expression"
		var dl *diag.List
		if errors.As(err, &dl) && len(dl.Errs) > 0 {
			msg += " (" + dl.Errs[0].Msg + ")"
		}
		e := c.errorf(d.At, "%s", msg)
		e.Hint = "only constant #defines are supported, not macros with parameters"
		return
	}
	c.defines[d.Name] = &define{decl: d, expr: e}
}

// defineValue gives an identifier naming a #define the define's constant
// value. The define's expression is checked where it is used, so that it
// may refer to other defines.
func (c *checker) defineValue(e *ast.Ident, d *define) *types.Type {
	t := c.expr(d.expr)
	if t == nil {
		return nil
	}
	if v, ok := c.info.Consts[d.expr]; ok {
		c.info.Consts[e] = v
		return t
	}
	if s, ok := c.info.Strings[d.expr]; ok {
		c.info.Strings[e] = s
		return t
	}
	c.errorf(e.At, "#define %s is not a constant (only constant #defines are supported)", e.Name)
	return nil
}

// sizeof is the storage size of a type or of an expression's type.
func (c *checker) sizeof(e *ast.Sizeof) *types.Type {
	var t *types.Type
	if e.Type != nil {
		switch {
		case e.Type.Pointers > 0:
			t = types.Uint64
		case e.Type.Name == "string":
			t = types.NewString(64)
		default:
			ct, ok := castType(e.Type.Name)
			if !ok {
				if ct = c.kernelType(e.Type, e.Type.Name); ct == nil {
					return nil
				}
			}
			t = ct
		}
		if e.Type.ArrayLen > 0 {
			t = &types.Type{Kind: types.Array, Elem: t, Len: e.Type.ArrayLen}
		}
	} else {
		if t = c.valueExpr(e.X); t == nil {
			return nil
		}
	}
	size := t.StorageSize()
	if t.Kind == types.String || t.Kind == types.Struct {
		size = t.Size
	}
	c.info.Consts[e] = int64(size)
	return types.Uint64
}

// offsetof is the byte offset of a (possibly nested) field in a struct
// from the kernel's BTF.
func (c *checker) offsetof(e *ast.Offsetof) *types.Type {
	t := c.kernelType(e.Type, e.Type.Name)
	if t == nil {
		return nil
	}
	off := 0
	for _, name := range e.Field {
		if t.Kind != types.Struct {
			c.errorf(e.At, "%s is not a struct, so it has no field %q", t, name)
			return nil
		}
		f, ok := t.Field(name)
		if !ok {
			c.errorf(e.At, "%s has no field %q", t.Name, name).Hint = fieldHint(name, t)
			return nil
		}
		off += f.Offset
		t = f.Type
	}
	c.info.Consts[e] = int64(off)
	return types.Uint64
}

// scriptTypes converts the struct, union and enum definitions of the
// script. Their names then resolve before the kernel's (kernelType), and
// enum constants can be used as integers.
func (c *checker) scriptTypes(prog *ast.Program) {
	c.types = map[string]*types.Type{}
	c.enums = map[string]int64{}
	if len(prog.Types) == 0 {
		return
	}
	res, errs := cdecl.TypesIn(c.errs.Src.Text, prog.Types, c.conf.Lib.Kernel().Type)
	for _, e := range errs {
		if !c.quiet {
			c.errs.Errs = append(c.errs.Errs, e)
		}
	}
	if res != nil {
		c.types, c.enums = res.Types, res.Enums
	}
}
