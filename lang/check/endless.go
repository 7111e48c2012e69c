package check

import (
	"sort"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
)

// A while loop whose condition nothing in its body can change, and that
// nothing in its body leaves, never ends once entered. The kernel's
// verifier rejects such a program ("infinite loop detected"); the checker
// says so first, pointing at the loop, in words a user understands.
//
// The test is deliberately narrow, so that it never rejects a loop that
// could end: the condition may only read scratch variables and constants
// (a map, a builtin such as nsecs, a function call or memory may change
// by themselves), and the body must assign none of those variables and
// contain no break (of this loop), return or exit().

// endlessLoop reports whether s can never end once entered, and the
// variables its condition reads, sorted.
func endlessLoop(s *ast.WhileStmt) ([]string, bool) {
	vars, ok := conditionVars(s.Cond)
	if !ok || leavesOrAssigns(s.Body, vars, 0) {
		return nil, false
	}
	names := make([]string, 0, len(vars))
	for v := range vars {
		names = append(names, v)
	}
	sort.Strings(names)
	return names, true
}

// conditionVars returns the scratch variables e reads, or false when e
// reads anything that might change without the loop body changing it.
func conditionVars(e ast.Expr) (map[string]bool, bool) {
	vars := map[string]bool{}
	ok := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Var:
			vars[n.Name] = true
		case *ast.IntLit, *ast.StrLit, *ast.Positional, *ast.Binary, *ast.Paren, *ast.Ternary, *ast.Cast, *ast.Sizeof, *ast.TypeExpr:
		case *ast.Unary:
			ok = ok && n.Op != "*" && n.Op != "++" && n.Op != "--"
		default:
			ok = false
		}
		return ok
	})
	return vars, ok
}

// leavesOrAssigns reports whether n can leave the loop (break at loop
// depth 0, return, exit()) or changes one of vars. depth counts the loops
// nested inside the one being examined.
func leavesOrAssigns(n ast.Node, vars map[string]bool, depth int) bool {
	found := false
	ast.Inspect(n, func(m ast.Node) bool {
		if found {
			return false
		}
		switch m := m.(type) {
		case *ast.WhileStmt:
			found = leavesOrAssigns(m.Body, vars, depth+1)
			return false
		case *ast.ForStmt:
			found = leavesOrAssigns(m.Body, vars, depth+1)
			return false
		case *ast.JumpStmt:
			found = m.Kind == "return" || (m.Kind == "break" && depth == 0)
		case *ast.Call:
			found = m.Name == "exit"
		case *ast.AssignStmt:
			found = assignsTo(m.Target, vars)
		case *ast.LetStmt:
			// A let in the body declares a new variable: the condition
			// still reads the outer one.
		case *ast.Unary:
			found = (m.Op == "++" || m.Op == "--") && assignsTo(m.X, vars)
		case *ast.Postfix:
			found = assignsTo(m.X, vars)
		}
		return !found
	})
	return found
}

func assignsTo(target ast.Expr, vars map[string]bool) bool {
	v, ok := target.(*ast.Var)
	return ok && vars[v.Name]
}

// checkEndless reports s when it never ends once entered.
func (c *checker) checkEndless(s *ast.WhileStmt) {
	vars, endless := endlessLoop(s)
	if !endless {
		return
	}
	why := "its condition is a constant"
	if len(vars) > 0 {
		why = "nothing in its body changes " + strings.Join(vars, " or ")
	}
	err := c.errorf(s.At, "this while loop never ends once entered: %s, and nothing leaves it", why)
	err.Hint = "the kernel's verifier rejects endless loops; change the condition's variables in the body, or leave with break, return or exit()"
}
