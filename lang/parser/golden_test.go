package parser

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/parser")

const goldenDir = "../../testdata/parser"

// TestGolden parses every testdata/parser/*.gt script and compares the AST
// dump with the .ast file next to it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.gt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden scripts found: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".gt"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := Parse(name, string(src))
			if err != nil {
				t.Fatalf("unexpected error:\n%v", err)
			}
			checkGolden(t, strings.TrimSuffix(file, ".gt")+".ast", ast.Dump(prog)+"\n")
		})
	}
}

// TestGoldenErrors parses every testdata/parser/errors/*.gt script, which
// must fail, and compares the rendered message with the .err file.
func TestGoldenErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(goldenDir, "errors", "*.gt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden error scripts found: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".gt"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := Parse(name, string(src))
			if err == nil {
				t.Fatalf("expected an error, got:\n%s", ast.Dump(prog))
			}
			var list *diag.List
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want *diag.List", err)
			}
			checkGolden(t, strings.TrimSuffix(file, ".gt")+".err", err.Error()+"\n")
		})
	}
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
		t.Fatalf("%v (run go test ./lang/parser -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run go test ./lang/parser -update to accept):\n--- got\n%s\n--- want\n%s", filepath.Base(path), got, want)
	}
}
