package check_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/diag"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/check")

const errorsDir = "../../testdata/check/errors"

// TestGoldenErrors checks every testdata/check/errors/*.gt script, which
// must parse but fail to check (or, first, to expand its macros, as
// runtime.Compile does), and compares the whole rendered error list
// (file:line:col, message, source line, caret, notes, hint) with the .err
// file next to it.
//
// A script may start with a line "// params: A B ..." giving the positional
// parameters $1, $2, ...
func TestGoldenErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(errorsDir, "*.gt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden error scripts found in %s: %v", errorsDir, err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".gt"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			text := string(src)
			list := checkErr(t, name, text, params(text)...)
			for _, e := range list.Errs {
				checkPos(t, text, e.Pos, e.Msg)
			}
			checkGolden(t, strings.TrimSuffix(file, ".gt")+".err", list.Error()+"\n")
		})
	}
}

// checkPos verifies that pos's Offset agrees with its Line and Col: the
// rendered caret uses Line and Col, while sorting uses Offset.
func checkPos(t *testing.T, text string, pos ast.Pos, msg string) {
	t.Helper()
	if !pos.IsValid() {
		return
	}
	if pos.Offset < 0 || pos.Offset > len(text) {
		t.Errorf("%q: offset %d is outside the script", msg, pos.Offset)
		return
	}
	before := text[:pos.Offset]
	line := strings.Count(before, "\n") + 1
	col := pos.Offset - (strings.LastIndex(before, "\n") + 1) + 1
	if line != pos.Line || col != pos.Col {
		t.Errorf("%q: position %d:%d disagrees with offset %d (%d:%d)", msg, pos.Line, pos.Col, pos.Offset, line, col)
	}
}

// params returns the positional parameters named on a leading
// "// params:" line.
func params(text string) []string {
	first, _, _ := strings.Cut(text, "\n")
	rest, ok := strings.CutPrefix(first, "// params:")
	if !ok {
		return nil
	}
	return strings.Fields(rest)
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lang/check -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./lang/check -update to accept):\n--- got\n%s--- want\n%s", filepath.Base(path), got, want)
	}
}

// TestGoldenFilesPaired catches a golden file left behind when its script
// was renamed or removed.
func TestGoldenFilesPaired(t *testing.T) {
	errs, err := filepath.Glob(filepath.Join(errorsDir, "*.err"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range errs {
		if _, err := os.Stat(strings.TrimSuffix(file, ".err") + ".gt"); err != nil {
			t.Errorf("%s has no script: %v", filepath.Base(file), err)
		}
	}
}

// TestNoProbes checks the checker's own guard against an empty program
// (the parser rejects one first, so no script can reach it).
func TestNoProbes(t *testing.T) {
	src := &diag.Source{Name: "empty.gt"}
	_, err := check.Check(src, &ast.Program{}, testConfig(t))
	want := "empty.gt: error: the program has no probes\n" +
		`hint: write at least one probe, e.g. BEGIN { printf("hello\n"); }`
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want\n%s", err, want)
	}
}

// TestErrorsAreDeterministic checks a script many times: suggestions pick
// among candidates held in maps, so ties must be broken by name, not by
// iteration order.
func TestErrorsAreDeterministic(t *testing.T) {
	const text = "BEGIN { printf(\"%d %d\\n\", xid, arg); $x = prnt; }"
	first := checkErr(t, "tie.gt", text).Error()
	for range 50 {
		if got := checkErr(t, "tie.gt", text).Error(); got != first {
			t.Fatalf("errors differ between runs:\n%s\n---\n%s", first, got)
		}
	}
}
