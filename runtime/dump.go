package runtime

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
)

// Dump writes the script's AST ("ast"), its generated programs annotated
// with the source lines they came from ("codegen"), the kernel verifier's
// log of each program ("verifier", which loads them, see Verify), or all
// three ("all"). A program that does not load makes Dump return its
// error, after its log.
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
	if what == "verifier" || what == "all" {
		stats, err := s.Verify(VerifyOptions{FullLog: true})
		if err != nil {
			return err
		}
		var errs []error
		for _, st := range stats {
			fmt.Fprintf(w, "; verifier log of program %s for %s\n", st.Name, strings.Join(st.Probes, ", "))
			for _, line := range st.Log {
				fmt.Fprintln(w, line)
			}
			if st.Err != nil {
				errs = append(errs, st.Err)
			}
		}
		return errors.Join(errs...)
	}
	return nil
}
