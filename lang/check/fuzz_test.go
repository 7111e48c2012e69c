package check_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/parser"
)

// FuzzCheck feeds the checker every script the parser accepts and the
// macro expansion passes: it must answer with types or with errors, never
// with an internal error (a recovered panic).
func FuzzCheck(f *testing.F) {
	for _, glob := range []string{"../../testdata/kernel/*.gt", "../../testdata/check/errors/*.gt", "../../testdata/tools/*.gt"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err == nil {
				f.Add(string(b))
			}
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		prog, err := parser.Parse("fuzz.gt", text)
		if err != nil {
			return
		}
		src := &diag.Source{Name: "fuzz.gt", Text: text}
		conf := testConfig(t, "1", "two")
		if prog, err = expand(src, prog, conf); err != nil {
			return
		}
		_, err = check.Check(src, prog, conf)
		if err != nil && strings.Contains(err.Error(), "internal checker error") {
			t.Fatalf("%v\nscript:\n%s", err, text)
		}
	})
}
