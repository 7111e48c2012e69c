package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
)

// FuzzParse checks that no input makes the parser panic or produce an
// error that is not a well-formed *diag.List. It is seeded with every
// testdata script. Run it with
//
//	go test -fuzz FuzzParse -fuzztime 90s ./lang/parser
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.gt", "errors/*.gt"} {
		files, _ := filepath.Glob(filepath.Join(goldenDir, pattern))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(string(b))
			}
		}
	}
	for _, s := range []string{
		"", "BEGIN", "BEGIN {", "}", "/", "//", "/*", "#", "#include", "#define X \\",
		"k /a/b/c/ {}", "k /(a {}", "BEGIN { (uint8 *)(int8[2])(x, y,) }", "struct {",
		"config = {", "macro m(", "BEGIN { $x = \"\\", "BEGIN { @[1,2][3].a->b++-- }",
		"BEGIN { for ($i : 0..) {} }", "BEGIN { 0x 0b 09 1e 1e99 }",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := Parse("fuzz.gt", src)
		if err != nil {
			if prog != nil {
				t.Fatal("got both a program and an error")
			}
			checkMessage(t, src, err)
			return
		}
		checkPositions(t, src, ast.Dump(prog))

		x, err := ParseExpr("fuzz", src)
		if err != nil {
			checkMessage(t, src, err)
			return
		}
		checkPositions(t, src, ast.Dump(x))
	})
}

// checkPositions checks that every line:col in a dump lies inside src.
func checkPositions(t *testing.T, src, dump string) {
	t.Helper()
	lines := strings.Count(src, "\n") + 1
	for _, field := range strings.FieldsFunc(dump, func(r rune) bool { return r == ' ' || r == '(' || r == ')' || r == '\n' || r == '.' }) {
		var line, col int
		if n, _ := sscanPos(field, &line, &col); n == 2 && (line < 1 || line > lines || col < 1) {
			t.Fatalf("position %s outside the input\n%s", field, dump)
		}
	}
}

// sscanPos parses "L:C" made only of digits and one colon.
func sscanPos(s string, line, col *int) (int, error) {
	l, c, ok := strings.Cut(s, ":")
	if !ok || l == "" || c == "" || strings.Trim(l, "0123456789") != "" || strings.Trim(c, "0123456789") != "" {
		return 0, nil
	}
	*line, *col = atoi(l), atoi(c)
	return 2, nil
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
		if n > 1<<30 {
			return n
		}
	}
	return n
}
