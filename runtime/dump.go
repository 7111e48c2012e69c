package runtime

import (
	"fmt"
	"io"

	"github.com/gotrace/gotrace/lang/ast"
)

// Dump writes the script's AST ("ast"), its generated programs annotated
// with the source lines they came from ("codegen"), or both ("all").
func (s *Script) Dump(w io.Writer, what string) error {
	if what == "ast" || what == "all" {
		fmt.Fprintln(w, ast.Dump(s.AST))
	}
	if what == "codegen" || what == "all" {
		for _, p := range s.Code.Programs {
			fmt.Fprintf(w, "; program %s for %s (%d instructions, %d bytes of stack)\n",
				p.Spec.Name, p.Target.Name, len(p.Spec.Instructions), p.StackSize)
			var last fmt.Stringer
			for i, ins := range p.Spec.Instructions {
				if src := ins.Source(); src != nil && src != last {
					fmt.Fprintf(w, "\t; %s\n", src)
					last = src
				}
				if sym := ins.Symbol(); sym != "" {
					fmt.Fprintf(w, "%s:\n", sym)
				}
				fmt.Fprintf(w, "\t%4d: %v\n", i, ins)
			}
		}
	}
	return nil
}
