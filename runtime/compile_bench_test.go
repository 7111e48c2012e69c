package runtime

import (
	"fmt"
	"strings"
	"testing"
)

// largeScript is a script of about lines lines, in probes of perProbe
// lines, the shape of the benchmark suite's compile measurement.
func largeScript(lines, perProbe int) string {
	var b strings.Builder
	n := 0
	for written := 0; written < lines; {
		b.WriteString("tracepoint:raw_syscalls:sys_enter {\n")
		for i := 0; i < perProbe-2 && written < lines-2; i++ {
			fmt.Fprintf(&b, "\tif (args->id == %d) { @c[%d] = count(); }\n", n, n%64)
			n++
			written++
		}
		b.WriteString("}\n")
		written += 2
	}
	return b.String()
}

// BenchmarkCompileLarge compiles a 5,000-line script: parse, check and
// code generation, nothing loaded. Issue 7 wants it under 0.5 s.
func BenchmarkCompileLarge(b *testing.B) {
	text := largeScript(5000, 100)
	for b.Loop() {
		if _, err := Compile("large.bt", text, CompileOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
