package check_test

import (
	"errors"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/macro"
	"github.com/gotrace/gotrace/lang/parser"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// tracefsDir is a copy of a real machine's tracefs (available_events and a
// few events' format files). Checking against it needs no privileges and
// never touches the live kernel.
const tracefsDir = "../../testdata/tracefs"

// kallsymsFile is a few lines of a real /proc/kallsyms (the functions of
// testdata/tracefs/available_filter_functions and the symbols after them,
// which give their sizes), plus exc_nmi, a function ftrace cannot trace,
// and a module's functions.
const kallsymsFile = "../../testdata/kallsyms"

// testConfig returns a checker configuration whose tracepoints come from
// testdata. Env.Tracepoints is always set, so the tracepoint providers never
// fall back to opening (or mounting) the machine's tracefs.
func testConfig(t testing.TB, params ...string) *check.Config {
	t.Helper()
	fs, err := tracefs.OpenAt(tracefsDir)
	if err != nil {
		t.Fatal(err)
	}
	lib := stdlib.New()
	return &check.Config{
		Params: params,
		Probes: probes.NewRegistry(),
		Env: &probes.Env{
			Tracepoints: fs,
			Functions:   &probes.MachineFunctions{Tracefs: fs, KallsymsPath: kallsymsFile},
			Kernel:      lib.Kernel(),
		},
		Lib: lib,
	}
}

// parse parses text, failing the test on a syntax error: these tests are
// about the checker, so every script must be valid syntax.
func parse(t testing.TB, name, text string) (*diag.Source, *ast.Program) {
	t.Helper()
	prog, err := parser.Parse(name, text)
	if err != nil {
		t.Fatalf("parse error (the script must parse; only checking may fail):\n%v", err)
	}
	return &diag.Source{Name: name, Text: text}, prog
}

// expand expands the macros of prog as runtime.Compile does, with conf's
// library telling functions.
func expand(src *diag.Source, prog *ast.Program, conf *check.Config) (*ast.Program, error) {
	return macro.Expand(src, prog, func(name string) bool {
		_, ok := conf.Lib.Func(name)
		return ok
	})
}

// checkOK parses, expands and checks text, which must be valid. It returns
// the program as checked, macros expanded.
func checkOK(t testing.TB, text string, params ...string) (*ast.Program, *check.Info) {
	t.Helper()
	src, prog := parse(t, "test.gt", text)
	conf := testConfig(t, params...)
	prog, err := expand(src, prog, conf)
	if err != nil {
		t.Fatalf("unexpected macro error:\n%v", err)
	}
	info, err := check.Check(src, prog, conf)
	if err != nil {
		t.Fatalf("unexpected check error:\n%v", err)
	}
	return prog, info
}

// checkErr parses, expands and checks text, which must fail with a
// *diag.List, from the macro expansion or from the checker.
func checkErr(t testing.TB, name, text string, params ...string) *diag.List {
	t.Helper()
	src, prog := parse(t, name, text)
	conf := testConfig(t, params...)
	prog, err := expand(src, prog, conf)
	if err != nil {
		var list *diag.List
		if !errors.As(err, &list) {
			t.Fatalf("macro error is %T, want *diag.List: %v", err, err)
		}
		return list
	}
	info, err := check.Check(src, prog, conf)
	if err == nil {
		t.Fatalf("expected a check error; the script checked fine (%d probes)", len(info.Probes))
	}
	if info != nil {
		t.Errorf("Check returned both an error and an Info")
	}
	var list *diag.List
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want *diag.List: %v", err, err)
	}
	return list
}

// countingSource counts the questions asked of a TracepointSource.
type countingSource struct {
	probes.TracepointSource
	match, format int
}

func (s *countingSource) Match(category, name string) ([]tracefs.Tracepoint, error) {
	s.match++
	return s.TracepointSource.Match(category, name)
}

func (s *countingSource) Format(category, name string) (*tracefs.Format, error) {
	s.format++
	return s.TracepointSource.Format(category, name)
}
