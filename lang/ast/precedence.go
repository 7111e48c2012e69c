package ast

// Precedence is C's binding strength of a binary operator, from 1 (||) to
// 10 (* / %), or 0 for anything else. All of them are left-associative.
// The script parser and the C declaration parser (lang/cdecl) share it.
func Precedence(op string) int {
	switch op {
	case "||":
		return 1
	case "&&":
		return 2
	case "|":
		return 3
	case "^":
		return 4
	case "&":
		return 5
	case "==", "!=":
		return 6
	case "<", "<=", ">", ">=":
		return 7
	case "<<", ">>":
		return 8
	case "+", "-":
		return 9
	case "*", "/", "%":
		return 10
	}
	return 0
}
