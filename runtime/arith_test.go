package runtime_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// TestSignedDivision checks / and % on signed values, in every form the
// code generator has (expressions with a variable or a constant divisor,
// compound assignment to a variable and to a map, avg() read as a value)
// against Go's, which truncates toward zero as C does. Division by zero
// gives a quotient of 0 and the dividend as the remainder, as the BPF
// instructions do; the minimum value divided by -1 is itself.
func TestSignedDivision(t *testing.T) {
	kerneltest.Require(t)
	vals := []int64{math.MinInt64, -7, -1, 0, 3, math.MaxInt64}
	lit := func(v int64) string {
		if v == math.MinInt64 {
			return "(-9223372036854775807 - 1)"
		}
		return fmt.Sprint(v)
	}
	div := func(a, b int64) (int64, int64) {
		switch b {
		case 0:
			return 0, a
		case -1:
			return -a, 0 // -MinInt64 is MinInt64 in Go too
		}
		return a / b, a % b
	}
	var script, want strings.Builder
	// $z is 0, known only at run time: no operand below is a constant
	// that the checker or the code generator could fold.
	script.WriteString("BEGIN {\n\t$z = (int64)(nsecs & 0);\n")
	for _, a := range vals {
		for _, b := range vals {
			fmt.Fprintf(&script, "\t$a = %s + $z; $b = %s + $z; $x = $a; $x /= $b; $y = $a; $y %%= $b; @q = $a; @q /= $b; @r = $a; @r %%= $b;\n", lit(a), lit(b))
			script.WriteString("\tprintf(\"%ld %ld %ld %ld %ld %ld\\n\", $a / $b, $a % $b, $x, $y, @q, @r);\n")
			q, r := div(a, b)
			fmt.Fprintf(&want, "%d %d %d %d %d %d\n", q, r, q, r, q, r)
		}
		// Constant divisors, which fit the instruction's immediate.
		script.WriteString("\tprintf(\"%ld %ld %ld %ld\\n\", $a / 3, $a % 3, $a / -3, $a % -3);\n")
		q1, r1 := div(a, 3)
		q2, r2 := div(a, -3)
		fmt.Fprintf(&want, "%d %d %d %d\n", q1, r1, q2, r2)
	}
	script.WriteString("\t@neg = avg(-7 + $z); @neg = avg(-2 + $z); @pos = avg(7 + $z); @pos = avg(2 + $z);\n")
	script.WriteString("\tprintf(\"%ld %ld\\n\", @neg, @pos);\n\tclear(@neg); clear(@pos); clear(@q); clear(@r);\n\texit();\n}\n")
	want.WriteString("-4 4\n\n\n")
	out, _, _ := runScript(t, "division.gt", script.String(), nil, "", time.Minute)
	if out != want.String() {
		t.Errorf("output differs\n--- got\n%s\n--- want\n%s", out, want.String())
	}
}
