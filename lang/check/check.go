package check

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/format"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// Config is the environment a program is checked in.
type Config struct {
	// Params are the positional parameters ($1, $2, ...).
	Params []string
	// Probes resolves attach points; Env gives providers machine access.
	Probes *probes.Registry
	Env    *probes.Env
	// Lib is the standard library.
	Lib *stdlib.Library
	// Unsafe allows functions that change the system (--unsafe).
	Unsafe bool
	// LoopsAsCallbacks runs every range and while loop as a bpf_loop
	// callback, for programs whose plain loops the verifier rejected
	// (runtime.Script retries with it).
	LoopsAsCallbacks bool
	// Overrides are config settings from outside the script, by key
	// (BPFTRACE_MAX_MAP_KEYS, max_map_keys, ...): bpftrace's environment
	// variables, which win over the script's config block.
	Overrides map[string]string
	// KnownMaps are maps that exist outside the program, by name ("@x"):
	// those an interactive session kept from earlier runs. A map the
	// program uses but never assigns takes its key and value types from
	// here, so that `BEGIN { print(@x); exit(); }` is a program.
	KnownMaps map[string]KnownMap
}

// KnownMap is the type of a map that exists outside the program (see
// Config.KnownMaps): Key is nil for a map without keys.
type KnownMap struct {
	Key, Value *types.Type
}

// Check type-checks prog. The returned error, if any, is a *diag.List.
func Check(src *diag.Source, prog *ast.Program, conf *Config) (info *Info, err error) {
	defer func() {
		// A checker bug must not crash the user's session: report it.
		if r := recover(); r != nil {
			info, err = nil, fmt.Errorf("internal checker error (please report it): %v", r)
		}
	}()
	c := &checker{
		conf: conf,
		errs: &diag.List{Src: src},
		info: &Info{
			Types:         map[ast.Expr]*types.Type{},
			Consts:        map[ast.Expr]int64{},
			Strings:       map[ast.Expr]string{},
			Bytes:         map[ast.Expr][]byte{},
			Vars:          map[*ast.Ident]*stdlib.Var{},
			Uses:          map[*ast.Var]*Variable{},
			Fields:        map[*ast.FieldAccess]types.Field{},
			Funcs:         map[*ast.Call]*stdlib.Func{},
			Printf:        map[*ast.Call]*format.Printf{},
			LoopCallbacks: map[ast.Stmt]bool{},
		},
		maps: map[string]*MapInfo{},
	}
	c.checkTopLevel(prog)
	c.resolveProbes(prog)
	if c.errs.Len() > 0 {
		return nil, c.errs.Err()
	}
	// Map types flow between probes (a map assigned in one probe may be
	// read in an earlier one), so a first pass infers map types quietly and
	// the second pass reports.
	c.quiet = true
	c.checkProbes()
	if c.useKnownMaps() {
		// Values read from the known maps may flow into other maps.
		c.resetPerPass()
		c.checkProbes()
	}
	c.quiet = false
	c.resetPerPass()
	c.checkProbes()
	if err := c.errs.Err(); err != nil {
		return nil, err
	}
	return c.info, nil
}

type checker struct {
	conf  *Config
	errs  *diag.List
	info  *Info
	maps  map[string]*MapInfo
	quiet bool // first pass: infer, do not report

	// State of the probe being checked.
	probe  *ProbeInfo
	target *probes.Target
	// failedVars are variables whose assignment had an error; reading them
	// is not reported again.
	failedVars map[string]bool
	// scopes are the variable scopes, the probe's first.
	scopes []scope
	// loops counts the enclosing while/for loops, for break and continue;
	loops int
	// defines are the script's #define constants.
	defines map[string]*define
	// types are the struct, union and enum types the script defines, by
	// name ("struct foo"); enums are their constants.
	types map[string]*types.Type
	enums map[string]int64
}

// useKnownMaps gives the maps that the program uses but never assigns
// the types of the known maps of the same names (Config.KnownMaps). It
// reports whether it typed any.
func (c *checker) useKnownMaps() bool {
	typed := false
	for _, mi := range c.info.Maps {
		k, ok := c.conf.KnownMaps[mi.Name]
		// failed marks a map the program assigns, though with an error.
		if !ok || mi.Value != nil || mi.failed || k.Value == nil {
			continue
		}
		mi.Key, mi.Value, mi.used = k.Key, k.Value, true
		typed = true
	}
	return typed
}

func (c *checker) resetPerPass() {
	c.info.Types = map[ast.Expr]*types.Type{}
	c.info.Consts = map[ast.Expr]int64{}
	c.info.Strings = map[ast.Expr]string{}
	c.info.Uses = map[*ast.Var]*Variable{}
	for _, p := range c.info.Probes {
		p.Vars = nil
	}
}

func (c *checker) errorf(pos ast.Pos, format string, args ...any) *diag.Error {
	if c.quiet {
		return &diag.Error{}
	}
	return c.errs.Add(pos, format, args...)
}

// checkTopLevel rejects declarations this version does not implement, with
// a clear message rather than silently ignoring them.
func (c *checker) checkTopLevel(prog *ast.Program) {
	c.defines = map[string]*define{}
	for _, d := range prog.Defines {
		c.declareDefine(d)
	}
	c.scriptTypes(prog)
	for _, m := range prog.Macros {
		// runtime.Compile expands macros first (package lang/macro); a
		// program that still has them was handed over too early.
		c.errorf(m.At, "macro %s was not expanded before checking", m.Name)
	}
	c.config(prog.Config)
	// #include lines need nothing: types come from the kernel's BTF.
	if len(prog.Probes) == 0 {
		c.errorf(ast.Pos{}, "the program has no probes").Hint = "write at least one probe, e.g. BEGIN { printf(\"hello\\n\"); }"
	}
}

func (c *checker) resolveProbes(prog *ast.Program) {
	for _, p := range prog.Probes {
		pi := &ProbeInfo{Probe: p}
		var at []ast.Pos // the attach point of each target
		for _, ap := range p.Attach {
			targets, err := c.conf.Probes.Resolve(c.conf.Env, ap.Raw)
			if err != nil {
				c.errorf(ap.At, "%v", err)
				continue
			}
			if len(targets) == 0 {
				c.errorf(ap.At, "%s matches no probes", ap.Raw)
				continue
			}
			pi.Targets = append(pi.Targets, targets...)
			for range targets {
				at = append(at, ap.At)
			}
		}
		c.checkMixedProviders(pi, at)
		c.info.Probes = append(c.info.Probes, pi)
	}
}

// checkMixedProviders requires one program type per probe block: a block
// is compiled once per target and BEGIN/END cannot share a body with
// attached probes.
func (c *checker) checkMixedProviders(pi *ProbeInfo, at []ast.Pos) {
	for i, t := range pi.Targets {
		if t.Provider.RunOnce != pi.Targets[0].Provider.RunOnce {
			// Point at the attach point that breaks the rule.
			c.errorf(at[i], "%s cannot share a block with %s", pi.Targets[0].Name, t.Name)
			return
		}
		// str(arg0) reads user memory in one and kernel memory in the
		// other: the block could not mean both.
		if t.Space != pi.Targets[0].Space {
			c.errorf(at[i], "%s cannot share a block with %s: addresses are in user memory in one and in kernel memory in the other; write a block for each", pi.Targets[0].Name, t.Name)
			return
		}
	}
}

func (c *checker) checkProbes() {
	for _, pi := range c.info.Probes {
		if len(pi.Targets) == 0 {
			continue
		}
		c.probe = pi
		c.target = pi.Targets[0]
		c.failedVars = map[string]bool{}
		c.scopes = []scope{{}}
		if pi.Probe.Predicate != nil {
			t := c.expr(pi.Probe.Predicate)
			if t != nil && !t.IsIntLike() {
				c.errorf(pi.Probe.Predicate.Pos(), "a predicate must be an integer condition, not %s", t)
			}
		}
		c.block(pi.Probe.Body)
		if c.conf.LoopsAsCallbacks && hasLoops(pi.Probe.Body) {
			pi.Callbacks = true
		}
		if pi.Callbacks {
			c.loopsAsCallbacks(pi.Probe.Body)
		}
		// Later targets of a wildcard may lay out args differently; the
		// code generator handles offsets, but field types must agree.
		for _, t := range pi.Targets[1:] {
			c.checkArgsCompatible(pi, t)
		}
	}
	c.probe, c.target = nil, nil
}

func (c *checker) checkArgsCompatible(pi *ProbeInfo, t *probes.Target) {
	first := pi.Targets[0]
	if first.Args == nil || t.Args == nil {
		return
	}
	ast.Inspect(pi.Probe, func(n ast.Node) bool {
		fa, ok := n.(*ast.FieldAccess)
		if !ok || !isArgs(fa.X) {
			return true
		}
		f1, ok1 := first.Args.Field(fa.Name)
		f2, ok2 := t.Args.Field(fa.Name)
		if ok1 && !ok2 {
			c.errorf(c.fieldNamePos(fa), "%s has no field %q (it is in %s)", t.Name, fa.Name, first.Name)
		} else if ok1 && !types.Equal(f1.Type, f2.Type) {
			c.errorf(c.fieldNamePos(fa), "args.%s is %s in %s but %s in %s", fa.Name, f1.Type, first.Name, f2.Type, t.Name)
		}
		return true
	})
}

// fieldNamePos returns the position of the field name in X.Name or X->Name
// (FieldAccess.At is the '.' or '->'), skipping blanks after the operator.
func (c *checker) fieldNamePos(e *ast.FieldAccess) ast.Pos {
	pos := e.At
	n := 1
	if e.Arrow {
		n = 2
	}
	pos.Col += n
	pos.Offset += n
	if c.errs.Src == nil {
		return pos
	}
	text := c.errs.Src.Text
	for pos.Offset < len(text) && (text[pos.Offset] == ' ' || text[pos.Offset] == '\t') {
		pos.Col++
		pos.Offset++
	}
	if !strings.HasPrefix(text[min(pos.Offset, len(text)):], e.Name) {
		return e.At // the name is on another line, or the text is not the source
	}
	return pos
}

func isArgs(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "args"
}

// mapInfo returns the map called name, creating it on first use.
func (c *checker) mapInfo(m *ast.MapRef) *MapInfo {
	mi := c.maps[m.Name]
	if mi == nil {
		mi = &MapInfo{Name: m.Name, Pos: m.At}
		c.maps[m.Name] = mi
		c.info.Maps = append(c.info.Maps, mi)
	}
	return mi
}

// suggest returns `did you mean "x"?` for the closest candidate; ties go to
// the alphabetically first, so the hint does not depend on map order.
func suggest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, cand := range candidates {
		d := diag.EditDistance(name, cand)
		if !diag.CloseEnough(d, len(name)) {
			continue
		}
		if d < bestD || (d == bestD && best != "" && cand < best) {
			best, bestD = cand, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("did you mean %q?", best)
}

func fieldNames(t *types.Type) []string {
	var out []string
	for _, f := range t.FieldList() {
		out = append(out, f.Name)
	}
	return out
}

func joinNames(names []string) string {
	if len(names) > 12 {
		names = append(names[:12:12], "...")
	}
	return strings.Join(names, ", ")
}

func parseParam(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 0, 64)
	return v, err == nil
}
