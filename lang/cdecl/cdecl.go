// Package cdecl lays out the C types a script defines itself:
//
//	struct foo { int a; char name[16]; struct bar *next; unsigned long flags; };
//	union u { int i; char c[4]; };
//	enum color { RED, GREEN = 5, BLUE };
//
// The parser keeps each top-level definition as an ast.TypeDecl holding the
// raw text between its braces; this package parses that text and computes
// the gotrace types (lang/types) the checker and the code generator use,
// with the layout GCC gives the same definitions on x86_64: LP64 sizes,
// char signed, members aligned to their natural alignment, structs padded to
// a multiple of their largest member's alignment, bitfields packed into
// storage units of their declared type.
//
// The types follow lang/btf's conventions, so that script types and kernel
// types are used the same way: a struct or union is a types.Struct named
// "struct foo" or "union u" whose Fields are flat (the members of an
// anonymous struct or union member are members of the enclosing one, at
// their offset in it); arrays of char or signed char are strings; other
// arrays are types.Array with Size the total size in bytes; pointers point
// into kernel memory (types.Kernel); an enum is an integer; a bitfield is a
// Field with BitSize set, its Offset the byte offset of its storage unit
// and BitOffset its lowest bit within it.
//
// Member types may name kernel types ("struct sk_buff *", "u64", "pid_t"),
// which the caller resolves, usually through the kernel's BTF. The
// fixed-width typedefs scripts use without headers (u8 to u64, s8 to s64,
// __u8, int8_t, uint64_t, size_t, pid_t, ...) work without BTF too.
package cdecl

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/types"
)

// Result holds the types a script defines.
type Result struct {
	// Types maps "struct foo", "union u" and "enum color" to their types.
	// Structs and unions are types.Struct values with their Fields set
	// (never lazy); enums are integers (4 bytes, unsigned unless a value
	// is negative; 8 bytes when the values need it, as in GCC). Structs,
	// unions and enums defined inside a struct body are included: C gives
	// them file scope.
	Types map[string]*types.Type
	// Enums maps each enum constant to its value.
	Enums map[string]int64
}

// Types converts a script's type definitions, in order: later ones may use
// earlier ones, and any may use kernel types through resolve ("struct
// sk_buff", typedef names such as "u64" or "pid_t"). Definitions may also
// point to each other before they are defined (struct a { struct b *p; };
// struct b { ... };), but a member that holds a struct by value needs its
// definition first, as in C. A script's definition hides a kernel type of
// the same name. resolve may be nil: only the script's types and the
// built-in ones can then be used.
//
// The result always holds every type that could be defined; errors point
// into the script. Positions inside a body are exact when the definition
// was written `struct name {` with one space between the words; TypesIn,
// which sees the script's text, is exact always.
func Types(decls []*ast.TypeDecl, resolve func(name string) (*types.Type, error)) (*Result, []*diag.Error) {
	return TypesIn("", decls, resolve)
}

// TypesIn is Types for definitions parsed from the script text src, which
// it uses to place errors exactly whatever the spacing and comments
// between the keyword and the '{'.
func TypesIn(src string, decls []*ast.TypeDecl, resolve func(name string) (*types.Type, error)) (*Result, []*diag.Error) {
	c := convert(src, decls, resolve)
	return c.res, c.errs
}

// convert does the work of TypesIn.
func convert(src string, decls []*ast.TypeDecl, resolve func(name string) (*types.Type, error)) *converter {
	c := &converter{
		resolve:  resolve,
		res:      &Result{Types: map[string]*types.Type{}, Enums: map[string]int64{}},
		defs:     map[string]*definition{},
		aligns:   map[*types.Type]int{},
		names:    map[*types.Type][]ast.Pos{},
		resolved: map[string]resolved{},
		enumAt:   map[string]ast.Pos{},
	}
	// Parse every body first, so that every named definition is known
	// before any layout.
	var tops []any
	for _, d := range decls {
		if d == nil {
			continue
		}
		b := &body{text: d.Body, start: bodyStart(src, d)}
		var defs []any
		p := &cparser{c: c, src: b, defs: &defs}
		p.toks = lex(d.Body, func(off int, format string, args ...any) {
			c.errorf(b.pos(off), format, args...)
		})
		switch d.Kind {
		case "struct", "union":
			r := &record{kind: d.Kind, tag: d.Name, at: d.At}
			if r.tag != "" {
				defs = append(defs, r)
			}
			p.recordBody(r, false)
			tops = append(tops, r)
		case "enum":
			e := &enumDef{tag: d.Name, at: d.At}
			if e.tag != "" {
				defs = append(defs, e)
			}
			p.enumBody(e, false)
			tops = append(tops, e)
		default:
			c.errorf(d.At, "unknown kind of type definition %q", d.Kind)
			continue
		}
		for _, def := range defs {
			c.declare(def)
		}
	}
	for _, t := range tops {
		c.layout(t)
	}
	for key, d := range c.defs {
		c.res.Types[key] = d.t
	}
	slices.SortStableFunc(c.errs, func(a, b *diag.Error) int { return cmp.Compare(a.Pos.Offset, b.Pos.Offset) })
	return c
}

// layout lays out a *record or an *enumDef, unless it has been already.
func (c *converter) layout(t any) {
	switch t := t.(type) {
	case *record:
		if t.t == nil {
			c.layoutRecord(t)
		}
	case *enumDef:
		if t.t == nil {
			c.layoutEnum(t)
		}
	}
}

// definition is a named struct, union or enum of the script.
type definition struct {
	key   string // "struct foo"
	at    ast.Pos
	t     *types.Type // made when declared, completed by the layout
	state defState
}

// defState says how far a definition's layout has got.
type defState int

const (
	pending defState = iota // not laid out yet: only pointers may refer to it
	busy                    // being laid out: a member referring to it is inside it
	done
)

// resolved is a remembered answer of the resolve function.
type resolved struct {
	t   *types.Type
	err error
}

// converter holds the state of one Types call.
type converter struct {
	resolve func(string) (*types.Type, error)
	res     *Result
	errs    []*diag.Error
	defs    map[string]*definition // the script's named types, by key
	// aligns is the C alignment of each struct and union laid out or
	// examined so far (types.Type.Align is the alignment in BPF memory).
	aligns map[*types.Type]int
	// names holds where each field of the script's structs was declared,
	// index for index with Fields, for duplicate member errors.
	names    map[*types.Type][]ast.Pos
	resolved map[string]resolved
	enumAt   map[string]ast.Pos // where each enum constant is defined
}

func (c *converter) errorf(at ast.Pos, format string, args ...any) *diag.Error {
	e := &diag.Error{Pos: at, Msg: fmt.Sprintf(format, args...)}
	c.errs = append(c.errs, e)
	return e
}

// declare makes the type of a named definition, a *record or an *enumDef,
// so that pointers can refer to it before its layout.
func (c *converter) declare(def any) {
	var (
		key string
		at  ast.Pos
		t   *types.Type
		set func(*definition)
	)
	switch def := def.(type) {
	case *record:
		key, at = def.kind+" "+def.tag, def.at
		t = &types.Type{Kind: types.Struct, Name: key}
		set = func(d *definition) { def.def = d }
	case *enumDef:
		key, at = "enum "+def.tag, def.at
		t = types.NewInt(4, false)
		set = func(d *definition) { def.def = d }
	}
	if prev, ok := c.defs[key]; ok {
		c.errorf(at, "%s is already defined at %s", key, prev.at)
		return
	}
	d := &definition{key: key, at: at, t: t}
	c.defs[key] = d
	set(d)
}
