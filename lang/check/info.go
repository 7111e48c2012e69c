// Package check type-checks a parsed script against the probes it attaches
// to and the standard library, the way go/types checks Go: it never changes
// the syntax tree, it records what it learns (the type of every expression,
// the maps and their key and value types, the resolved builtins and probe
// targets) in an Info side table, and it collects every error it finds
// instead of stopping at the first.
package check

import (
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/format"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Info is what the checker learned about a program.
type Info struct {
	// Types holds the type of every expression that has a value.
	Types map[ast.Expr]*types.Type
	// Consts holds the value of integer expressions known at compile time
	// (literals, positional parameters, arithmetic on them).
	Consts map[ast.Expr]int64
	// Strings holds the value of string expressions known at compile time.
	Strings map[ast.Expr]string
	// Bytes holds the value of byte arrays known at compile time (pton()).
	Bytes map[ast.Expr][]byte
	// Fields resolves accesses to struct fields in memory (p->f, s.f).
	Fields map[*ast.FieldAccess]types.Field
	// Uses resolves scratch variables ($x) to their declarations.
	Uses map[*ast.Var]*Variable
	// Vars resolves builtin variables.
	Vars map[*ast.Ident]*stdlib.Var
	// Funcs resolves calls.
	Funcs map[*ast.Call]*stdlib.Func
	// Printf holds the parsed format of each printf call.
	Printf map[*ast.Call]*format.Printf
	// LoopCallbacks are the `for ($i : a..b)` and while loops whose body
	// runs as a bpf_loop callback: those the verifier could not walk
	// iteration by iteration, because a range bound is not a constant,
	// there are more than MaxInlineRange iterations, or the probe keeps
	// its variables where the verifier does not track them (see
	// ProbeInfo.Callbacks).
	LoopCallbacks map[ast.Stmt]bool
	// Maps lists the script's maps in order of first appearance.
	Maps []*MapInfo
	// Settings are the values of the script's config block.
	Settings Settings
	// Probes has one entry per probe of the program, in order.
	Probes []*ProbeInfo
}

// MapInfo describes one map.
type MapInfo struct {
	Name string      // "@" or "@name"
	Pos  ast.Pos     // first appearance
	Key  *types.Type // nil for a map used without keys
	// Value is the map's value type: an integer, a string, or an Agg for
	// aggregations.
	Value *types.Type

	used   bool // seen by the checker; Key is then settled as keyed or not
	failed bool // an assignment's value had an error: Value may be unknown
}

// ProbeInfo is a probe with its attach points resolved.
type ProbeInfo struct {
	Probe *ast.Probe
	// Targets are the concrete probes, wildcards expanded, in order.
	Targets []*probes.Target
	// Vars are the probe's scratch variables, in order of declaration.
	Vars []*Variable
	// Callbacks is set when the probe calls a helper with a callback
	// subprogram: `for ($kv : @map)` loops (whose bodies run as callbacks),
	// len(@map) and Info.LoopCallbacks.
	Callbacks bool
}

// Map finds a map by name.
func (in *Info) Map(name string) *MapInfo {
	for _, m := range in.Maps {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// TypeOf returns the recorded type of e, or nil.
func (in *Info) TypeOf(e ast.Expr) *types.Type { return in.Types[e] }
