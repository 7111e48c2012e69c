package codegen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// FuzzCompile runs the whole compiler on mutated scripts: every input must
// compile or fail with a script error, never with an internal error (a
// recovered panic) or a crash.
func FuzzCompile(f *testing.F) {
	for _, glob := range []string{"../testdata/kernel/*.gt", "../testdata/tools/*.gt", "../testdata/check/errors/*.gt"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(string(b))
			}
		}
	}
	fs, err := tracefs.OpenAt("../testdata/tracefs")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		_, err := runtime.Compile("fuzz.gt", text, runtime.CompileOptions{
			Env:    &probes.Env{Tracepoints: fs},
			Params: []string{"1", "two"},
		})
		if err != nil && strings.Contains(err.Error(), "internal") {
			t.Fatalf("%v\nscript:\n%s", err, text)
		}
	})
}
