// Package macro expands the macros of a parsed script, between the parser
// and the checker.
//
// A bpftrace macro, `macro name(params) { body }`, is replaced wherever it
// is used by a copy of its body, as a block expression (ast.BlockExpr with
// Macro set): the value of a macro is its body's final expression, and a
// macro used as a statement just runs its body. The parameters say what
// each argument must be:
//
//   - `$x` takes a scratch variable; the body's `$x` is the caller's
//     variable, which the body may change;
//   - `@m` takes a map; the body's `@m` is the caller's map;
//   - `x` takes any expression, copied wherever the body uses x and so
//     evaluated at each use. A variable or map passed there is a value,
//     as if written in parentheses.
//
// Macros are hygienic: a body may only use the maps and outside variables
// passed to it. Variables the body creates belong to one expansion; they are
// renamed "$name#N", N numbering the expansions, so that they clash neither
// with the caller's variables nor with those of another expansion.
//
// Expand builds a new tree and never changes the parsed one. Every node
// copied from a macro's body keeps its position in the body, with
// Pos.Expansion naming the call that made the copy, so that errors found
// later (by the checker or the code generator) point into the body and
// mention the call (see diag.Format). The checker and the code generator
// know nothing of macros: they see block expressions.
package macro

import (
	"fmt"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// maxNodes bounds the size of the expanded tree. Macros cannot recurse,
// but a macro using its argument twice, applied to itself a few dozen
// times, still doubles the tree at every level.
const maxNodes = 200_000

// paramKind is what a macro parameter takes.
type paramKind int

const (
	varParam  paramKind = iota // $x: a scratch variable
	mapParam                   // @m: a map
	exprParam                  // x: an expression
)

func kindOf(param string) paramKind {
	switch {
	case strings.HasPrefix(param, "$"):
		return varParam
	case strings.HasPrefix(param, "@"):
		return mapParam
	}
	return exprParam
}

// definition is a macro with what the expander learned about its body.
type definition struct {
	*ast.Macro
	// locals are the variables the body creates (by assignment, let, ++
	// or a for loop) and that are not parameters.
	locals map[string]bool
	// recursive is set when the macro uses itself, directly or through
	// other macros; it is then never expanded.
	recursive bool
}

// signature is the macro as declared, "name($a, @b, c)", for messages.
func (d *definition) signature() string {
	return d.Name + "(" + strings.Join(d.Params, ", ") + ")"
}

func (d *definition) param(name string) bool {
	for _, p := range d.Params {
		if p == name {
			return true
		}
	}
	return false
}

// expander holds the state of one Expand call.
type expander struct {
	errs *diag.List
	defs map[string]*definition
	// isFunc tells the standard library's functions; nil when unknown.
	isFunc func(name string) bool
	// expansions counts the expansions made, to name their variables.
	expansions int
	// nodes counts the nodes that expansions built; past maxNodes the
	// expansion stops. outermost is the use in the script's own code
	// being expanded, where that is reported.
	nodes     int
	tooLarge  bool
	outermost ast.Pos
}

// Expand replaces every use of a macro in prog by the macro's body and
// returns the resulting program, which has no macro definitions left; prog
// itself is not changed. Problems (a macro used with the wrong arguments,
// a body using a map it was not given, a recursive macro, ...) are
// returned as a *diag.List for src, and the program is then nil.
//
// isFunc, when not nil, reports whether a name is a function of the
// standard library. A call to a name that is neither, but close to a
// macro's, is then reported here with the macro as a suggestion; other
// unknown names are left to the checker, which knows the library.
func Expand(src *diag.Source, prog *ast.Program, isFunc func(name string) bool) (*ast.Program, error) {
	x := &expander{errs: &diag.List{Src: src}, defs: map[string]*definition{}, isFunc: isFunc}
	for _, m := range prog.Macros {
		x.define(m)
	}
	x.findRecursion(prog.Macros)
	top := &scope{expand: true}
	out := &ast.Program{
		File:     prog.File,
		Includes: prog.Includes,
		Defines:  prog.Defines,
		Config:   prog.Config,
		Types:    prog.Types,
	}
	for _, p := range prog.Probes {
		np := &ast.Probe{At: p.At, Attach: p.Attach}
		if p.Predicate != nil {
			np.Predicate = x.expr(p.Predicate, top)
		}
		np.Body = x.block(p.Body, top)
		out.Probes = append(out.Probes, np)
	}
	if err := x.errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// define records a macro and checks its parameters and its hygiene.
func (x *expander) define(m *ast.Macro) {
	if old := x.defs[m.Name]; old != nil {
		x.errs.Add(m.At, "macro %s is already defined at %v", m.Name, old.At)
		return
	}
	d := &definition{Macro: m, locals: map[string]bool{}}
	x.defs[m.Name] = d
	seen := map[string]bool{}
	for _, p := range m.Params {
		if seen[p] {
			x.errs.Add(m.At, "macro %s has two parameters called %s", m.Name, p)
		}
		seen[p] = true
	}
	if m.Body == nil {
		return
	}
	// First the variables the body creates, wherever it creates them, then
	// every use of a variable or map that is neither created nor passed in.
	ast.Inspect(m.Body, func(n ast.Node) bool {
		var v *ast.Var
		switch n := n.(type) {
		case *ast.LetStmt:
			v = n.Var
		case *ast.ForStmt:
			v = n.Var
		case *ast.AssignStmt:
			v, _ = n.Target.(*ast.Var)
		case *ast.Unary:
			if n.Op == "++" || n.Op == "--" {
				v, _ = n.X.(*ast.Var)
			}
		case *ast.Postfix:
			v, _ = n.X.(*ast.Var)
		}
		if v != nil && !d.param(v.Name) {
			d.locals[v.Name] = true
		}
		return true
	})
	reported := map[string]bool{}
	ast.Inspect(m.Body, func(n ast.Node) bool {
		var name string
		var at ast.Pos
		switch n := n.(type) {
		case *ast.Var:
			if d.locals[n.Name] {
				return true
			}
			name, at = n.Name, n.At
		case *ast.MapRef:
			name, at = n.Name, n.At
		default:
			return true
		}
		if d.param(name) || reported[name] {
			return true
		}
		reported[name] = true
		what := "variable"
		if strings.HasPrefix(name, "@") {
			what = "map"
		}
		x.errs.Add(at, "macro %s uses the %s %s, which is not one of its parameters", m.Name, what, name).Hint =
			fmt.Sprintf("a macro may only use the variables and maps passed to it: add %s to its parameters and pass it in", name)
		return true
	})
}

// closestMacro returns the defined macro whose name is closest to name,
// when one is close enough to suggest; ties go to the alphabetically first.
func (x *expander) closestMacro(name string) string {
	best, bestD := "", 0
	for cand := range x.defs {
		d := diag.EditDistance(name, cand)
		if !diag.CloseEnough(d, len(name)) {
			continue
		}
		if best == "" || d < bestD || (d == bestD && cand < best) {
			best, bestD = cand, d
		}
	}
	return best
}

// uses returns the macros that the body of d uses, with where, in source
// order. Inside the body an expression parameter hides a macro of the same
// name.
func (x *expander) uses(d *definition) (names []string, at []ast.Pos) {
	if d.Body == nil {
		return nil, nil
	}
	ast.Inspect(d.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Call:
			if x.defs[n.Name] != nil {
				names, at = append(names, n.Name), append(at, n.At)
			}
		case *ast.Ident:
			if x.defs[n.Name] != nil && !d.param(n.Name) {
				names, at = append(names, n.Name), append(at, n.At)
			}
		}
		return true
	})
	return names, at
}

// findRecursion reports every macro that uses itself, directly or through
// others, once per cycle, at the use that closes the cycle.
func (x *expander) findRecursion(macros []*ast.Macro) {
	const (
		unvisited = iota
		active    // on the current path
		done
	)
	state := map[*definition]int{}
	var path []*definition
	var visit func(d *definition)
	visit = func(d *definition) {
		state[d] = active
		path = append(path, d)
		names, at := x.uses(d)
		for i, name := range names {
			callee := x.defs[name]
			switch state[callee] {
			case unvisited:
				visit(callee)
			case active:
				var cycle []string
				start := len(path) - 1
				for path[start] != callee {
					start--
				}
				for _, p := range path[start:] {
					p.recursive = true
					cycle = append(cycle, p.Name)
				}
				cycle = append(cycle, callee.Name)
				x.errs.Add(at[i], "macro %s is recursive: %s", callee.Name, strings.Join(cycle, " -> ")).Hint =
					"a macro is replaced by its body where it is used, so it cannot use itself, directly or through other macros"
			}
		}
		path = path[:len(path)-1]
		state[d] = done
	}
	for _, m := range macros {
		if d := x.defs[m.Name]; d != nil && d.Macro == m && state[d] == unvisited {
			visit(d)
		}
	}
}
