package cdecl

import (
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// The parser turns a definition's body into the tree below; the layout pass
// (layout.go) then computes types from it in source order. Keeping the two
// apart lets a member point to a struct defined further down the script:
// every named definition is known before any layout starts.

// record is a struct or union definition.
type record struct {
	kind    string // "struct" or "union"
	tag     string // "" when anonymous
	at      ast.Pos
	members []*member
	attrs   attrs       // __attribute__s written after the keyword or after the '}'
	def     *definition // nil for an anonymous or a duplicate definition
	t       *types.Type // once laid out
	// nested are the structs, unions and enums defined in the body,
	// *records and *enumDefs.
	nested []any
}

// member is one member declaration: the specifiers and the declarators that
// share them (int a, *b, c[3];). A declaration without declarators declares
// an anonymous struct or union member, or only defines a nested type.
type member struct {
	spec  *spec
	decls []*declarator
	bad   bool // a syntax error cut it short
}

// specKind says what a spec names.
type specKind int

const (
	specBase   specKind = iota // C keywords: "unsigned long"
	specName                   // a typedef name: "u64", "pid_t"
	specTag                    // a reference: "struct foo", "enum color"
	specRecord                 // a struct or union defined in place
	specEnum                   // an enum defined in place
)

// spec is the type specifiers of a member declaration, qualifiers dropped.
type spec struct {
	kind  specKind
	at    ast.Pos
	name  string // specBase: the normalized keywords; specName: the name; specTag: "struct foo"
	base  base   // specBase only
	rec   *record
	enum  *enumDef
	attrs attrs // __attribute__s among the specifiers: they apply to the members
}

// declarator is one member of a declaration: its name, how its type derives
// from the specifiers, and its bitfield width.
type declarator struct {
	name  string // "" for an unnamed bitfield
	at    ast.Pos
	ops   []op  // applied to the specifiers' type in order
	bits  *expr // the width of a bitfield; nil for other members
	attrs attrs
}

// opKind is a step from a type to a derived type.
type opKind int

const (
	opPointer opKind = iota
	opArray
	opFunc
)

// op derives a type: a pointer to it, an array of it, or a function
// returning it.
type op struct {
	kind opKind
	size *expr  // opArray: the length, nil for a flexible array ([])
	text string // opFunc: the parameter list as written
}

// enumDef is an enum definition.
type enumDef struct {
	tag    string
	at     ast.Pos
	consts []*enumConst
	def    *definition
	t      *types.Type // once laid out
}

// enumConst is one enumerator.
type enumConst struct {
	name  string
	at    ast.Pos
	value *expr // nil: one more than the previous constant
}

// attrs are the GCC attributes gotrace understands; others are ignored.
type attrs struct {
	packed bool
	align  []alignAttr
}

// alignAttr is an aligned or aligned(N) attribute.
type alignAttr struct {
	n *expr // nil: the largest alignment, 16
}

func (a *attrs) merge(b attrs) {
	a.packed = a.packed || b.packed
	a.align = append(a.align, b.align...)
}

// expr is a constant expression, kept as tokens until the layout pass
// evaluates it with the enum constants defined by then.
type expr struct {
	src  *body
	toks []token // without a final tokEOF
}

// body is the text of one definition and where it starts in the script.
type body struct {
	text  string
	start ast.Pos // position of the byte after the '{'
}

// pos converts a byte offset in the body to a script position.
func (b *body) pos(off int) ast.Pos {
	if !b.start.IsValid() {
		return ast.Pos{}
	}
	off = min(max(off, 0), len(b.text))
	p := ast.Pos{Line: b.start.Line, Col: b.start.Col + off, Offset: b.start.Offset + off}
	if n := strings.Count(b.text[:off], "\n"); n > 0 {
		p.Line += n
		p.Col = off - strings.LastIndexByte(b.text[:off], '\n')
	}
	return p
}

// bodyStart finds where d's body starts in the script src. When src is not
// at hand (or does not match d), it assumes the declaration was written
// `struct name {`, with single spaces.
func bodyStart(src string, d *ast.TypeDecl) ast.Pos {
	o := d.At.Offset
	if d.At.IsValid() && o >= 0 && o <= len(src) && strings.HasPrefix(src[o:], d.Kind) {
		i := o + len(d.Kind)
		for i < len(src) && src[i] != '{' {
			switch {
			case strings.HasPrefix(src[i:], "//"):
				for i < len(src) && src[i] != '\n' {
					i++
				}
			case strings.HasPrefix(src[i:], "/*"):
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					i = len(src)
				} else {
					i += 2 + end + 2
				}
			case isIdentChar(src[i]) || strings.IndexByte(" \t\r\n\f\v", src[i]) >= 0:
				i++
			default:
				i = len(src) // not the shape the grammar allows
			}
		}
		if i < len(src) && strings.HasPrefix(src[i+1:], d.Body) {
			b := &body{text: src[o : i+1], start: d.At}
			return b.pos(i + 1 - o)
		}
	}
	n := len(d.Kind) + 1
	if d.Name != "" {
		n += len(d.Name) + 1
	}
	n++ // the '{'
	p := d.At
	if !p.IsValid() {
		return ast.Pos{}
	}
	p.Col += n
	p.Offset += n
	return p
}
