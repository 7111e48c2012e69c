package check_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/check"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/parser"
	"github.com/gotrace/gotrace/stdlib"
)

func TestScratch(t *testing.T) {
	data, _ := os.ReadFile("/tmp/scratch.txt")
	for _, script := range strings.Split(string(data), "\n---\n") {
		fmt.Println("#####", script)
		prog, err := parser.Parse("s", script)
		if err != nil {
			fmt.Println("PARSE:", err)
			continue
		}
		conf := testConfig(t, "42", "bash")
		conf.Lib = stdlib.New()
		info, err := check.Check(&diag.Source{Name: "s", Text: script}, prog, conf)
		if err != nil {
			fmt.Println("CHECK:", err)
			continue
		}
		_, err = func() (o *codegen.Output, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("PANIC: %v", r)
				}
			}()
			return codegen.Compile(&diag.Source{Name: "s", Text: script}, prog, info, conf.Lib, codegen.Options{})
		}()
		fmt.Println("CODEGEN:", err)
		for e, v := range info.Consts { if b, ok := e.(*ast.Binary); ok { fmt.Println("  const", b.Op, v, info.Types[e]) } }
	}
}
