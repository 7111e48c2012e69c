package parser

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2"

	"github.com/gotrace/gotrace/lang/diag"
)

// participleTree parses src with the participle grammar alone, as Parse
// did before it had the recursive-descent parser.
func participleTree(src string) *program {
	errs := &diag.List{Src: &diag.Source{Name: "x.gt", Text: src}}
	return parseTree[program](errs, scan("x.gt", src, false), false, func(g *grammars) *participle.Parser[program] { return g.program })
}

// checkAgrees checks that the recursive-descent parser accepts src exactly
// when participle does, with the same parse tree, and reports whether
// participle accepts it.
func checkAgrees(t *testing.T, src string) bool {
	t.Helper()
	want := participleTree(src)
	got, ok := parseFast(scan("x.gt", src, false))
	switch {
	case ok && want == nil:
		t.Errorf("the fast parser accepts what participle rejects:\n%s", src)
	case !ok && want != nil:
		t.Errorf("the fast parser rejects what participle accepts:\n%s", src)
	case ok && !reflect.DeepEqual(got, want):
		t.Errorf("the parse trees differ:\n%s", src)
	}
	return want != nil
}

// corpus is every script of the repository's testdata, and every string
// literal of its Go files that looks as if it could be a script (most of
// the scripts the tests run are written in them).
func corpus(t *testing.T) []string {
	t.Helper()
	var out []string
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		switch filepath.Ext(path) {
		case ".gt", ".bt":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out = append(out, string(b))
		case ".go":
			f, err := goparser.ParseFile(fset, path, nil, goparser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.ContainsAny(lit.Value, "{:") {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						out = append(out, s)
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFastParserAgrees compares the recursive-descent parser with
// participle on every script of the repository and, for those that parse,
// on prefixes that end at a token boundary (most are errors, which both
// must see) and on copies with one token left out.
func TestFastParserAgrees(t *testing.T) {
	scripts := corpus(t)
	if len(scripts) < 500 {
		t.Fatalf("only %d scripts found", len(scripts))
	}
	accepted := 0
	for _, src := range scripts {
		if !checkAgrees(t, src) {
			// Most string literals are not scripts: no cuts of those.
			continue
		}
		accepted++
		toks := scan("x.gt", src, false).toks
		// About a dozen cuts a script, spread over it.
		step := max(1, len(toks)/6)
		for i := 0; i < len(toks)-1; i += step {
			off := toks[i].Pos.Offset
			checkAgrees(t, src[:off])
			end := toks[i+1].Pos.Offset
			checkAgrees(t, src[:off]+" "+src[end:])
		}
	}
	if accepted < 300 {
		t.Errorf("only %d of %d scripts parse: the comparison covers too little", accepted, len(scripts))
	}
	t.Logf("%d scripts, %d of which parse", len(scripts), accepted)
}

// FuzzFastParserAgrees is TestFastParserAgrees on any input:
//
//	go test -fuzz FuzzFastParserAgrees -fuzztime 60s ./lang/parser
func FuzzFastParserAgrees(f *testing.F) {
	for _, pattern := range []string{"*.gt", "errors/*.gt"} {
		files, _ := filepath.Glob(filepath.Join(goldenDir, pattern))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkAgrees(t, src)
	})
}
