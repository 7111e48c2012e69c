// Package ast declares the syntax tree of a gotrace script.
//
// Every node records the position where it starts, so that the checker,
// the code generator and the verifier-log mapper can point at the exact
// source text responsible for a problem. The tree is built by package
// lang/parser and is never mutated afterwards: package lang/macro builds a
// new tree with the macros expanded, and the checker records types in a
// side table (see lang/check) rather than annotating nodes.
package ast

import "fmt"

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// bytes. The zero Pos means "unknown".
type Pos struct {
	Line   int
	Col    int
	Offset int // byte offset from the start of the file
	// Expansion is set on the nodes a macro expansion copied from a macro's
	// body (see package lang/macro): Line, Col and Offset are in the body,
	// and Expansion says which call made this copy, so that a message about
	// the copy can name the call as well. It is nil for code written where
	// it runs.
	Expansion *Expansion
}

// Expansion is one expansion of a macro: the call site it replaced. Call
// may itself be inside another expansion (a macro used by a macro).
// Expansions are created by the macro pass and never changed.
type Expansion struct {
	Macro string
	Call  Pos
}

// IsValid reports whether p refers to real source text.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Node is implemented by every syntax tree node.
type Node interface {
	Pos() Pos
}

// Program is a whole script: the probes in source order plus the
// top-level declarations that are not probes.
type Program struct {
	File     string // the name used in error messages, e.g. "-e" or "script.gt"
	Includes []*Include
	Defines  []*Define
	Config   []*ConfigEntry
	Types    []*TypeDecl // struct/union/enum definitions written in the script
	// Macros are the macro definitions; lang/macro.Expand replaces their
	// uses and returns a program without them.
	Macros []*Macro
	Probes []*Probe
}

// Include is a C preprocessor `#include <file>` or `#include "file"` line.
type Include struct {
	At   Pos
	Path string // without the delimiters
}

// Define is a C preprocessor `#define NAME VALUE` line. Value is the raw
// replacement text.
type Define struct {
	At    Pos
	Name  string
	Value string
}

// ConfigEntry is one `key = value` pair of a `config = { ... }` block.
type ConfigEntry struct {
	At    Pos
	Key   string
	Value Expr
}

// TypeDecl is a struct, union or enum written in the script. Body is the raw
// C text between the braces; the checker parses it when it needs it.
type TypeDecl struct {
	At   Pos
	Kind string // "struct", "union" or "enum"
	Name string
	Body string
}

// Macro is a `macro name(params) { body }` definition (newer bpftrace).
// The body is a block expression: a macro used as a value has the value
// of the body's final expression. Package lang/macro expands the calls.
type Macro struct {
	At     Pos
	Name   string
	Params []string // "$x", "@m" or "x" as written
	Body   *BlockExpr
}

// Probe is one or more attach points, an optional predicate and an action.
type Probe struct {
	At        Pos
	Attach    []*AttachPoint
	Predicate Expr // nil when there is no /predicate/
	Body      *Block
}

// AttachPoint is one attach point as written, for example
// "tracepoint:syscalls:sys_enter_openat" or "BEGIN". The probe provider
// (stdlib/probes) splits and validates it; the parser keeps it raw because
// each provider has its own syntax.
type AttachPoint struct {
	At  Pos
	Raw string
}

func (n *Probe) Pos() Pos       { return n.At }
func (n *AttachPoint) Pos() Pos { return n.At }
func (n *Include) Pos() Pos     { return n.At }
func (n *Define) Pos() Pos      { return n.At }
func (n *ConfigEntry) Pos() Pos { return n.At }
func (n *TypeDecl) Pos() Pos    { return n.At }
func (n *Macro) Pos() Pos       { return n.At }
