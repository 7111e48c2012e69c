package types

// Fold computes the C integer operation x op y on constants, in 64 bits.
// unsigned selects the unsigned forms of /, %, >> and the ordered
// comparisons. It reports false for an operator it does not know; callers
// rule out division by zero and out-of-range shifts first. The checker
// folds script constants with it and lang/cdecl evaluates array sizes and
// enum values.
func Fold(op string, x, y int64, unsigned bool) (int64, bool) {
	if unsigned {
		ux, uy := uint64(x), uint64(y)
		switch op {
		case "/":
			return int64(ux / uy), true
		case "%":
			return int64(ux % uy), true
		case ">>":
			return int64(ux >> uy), true
		case "<":
			return b2i(ux < uy), true
		case "<=":
			return b2i(ux <= uy), true
		case ">":
			return b2i(ux > uy), true
		case ">=":
			return b2i(ux >= uy), true
		}
	}
	switch op {
	case "+":
		return x + y, true
	case "-":
		return x - y, true
	case "*":
		return x * y, true
	case "/":
		return x / y, true
	case "%":
		return x % y, true
	case "&":
		return x & y, true
	case "|":
		return x | y, true
	case "^":
		return x ^ y, true
	case "<<":
		return x << uint64(y), true
	case ">>":
		return x >> uint64(y), true
	case "==":
		return b2i(x == y), true
	case "!=":
		return b2i(x != y), true
	case "<":
		return b2i(x < y), true
	case "<=":
		return b2i(x <= y), true
	case ">":
		return b2i(x > y), true
	case ">=":
		return b2i(x >= y), true
	case "&&":
		return b2i(x != 0 && y != 0), true
	case "||":
		return b2i(x != 0 || y != 0), true
	}
	return 0, false
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
