package parser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/participle/v2"
)

const smallScript = `tracepoint:syscalls:sys_enter_openat /comm == "nginx"/ { @[str(args->filename)] = count(); }`

// BenchmarkParseSmall measures Parse on a one-line script (the common case
// of `gotrace -e`).
func BenchmarkParseSmall(b *testing.B) {
	if _, err := Parse("-e", smallScript); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("-e", smallScript); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseGolden measures Parse over all golden scripts.
func BenchmarkParseGolden(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.gt"))
	var srcs []string
	size := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, string(src))
		size += len(src)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range srcs {
			if _, err := Parse("x.gt", src); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkBuildGrammar measures building the participle parser, which
// happens once per process, when a script has a syntax error.
func BenchmarkBuildGrammar(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := participle.Build[program](participle.Lexer(lexDef{}), participle.UseLookahead(0)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseSpeed logs how long the first Parse and later ones take. It only fails on absurd numbers, so that it cannot
// flake on a loaded machine; see the benchmarks for real measurements.
func TestParseSpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	start := time.Now()
	if _, err := Parse("-e", smallScript); err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	const n = 200
	start = time.Now()
	for i := 0; i < n; i++ {
		if _, err := Parse("-e", smallScript); err != nil {
			t.Fatal(err)
		}
	}
	each := time.Since(start) / n
	t.Logf("first Parse: %v; then %v per Parse", first, each)
	if each > 20*time.Millisecond {
		t.Errorf("Parse takes %v on a one-line script", each)
	}
}

// BenchmarkParseLarge parses a 5,000-line script of 50 probes, the shape of
// the benchmark suite's compile measurement (issue 7).
func BenchmarkParseLarge(b *testing.B) {
	var sb strings.Builder
	for p := range 50 {
		sb.WriteString("tracepoint:raw_syscalls:sys_enter {\n")
		for i := range 98 {
			fmt.Fprintf(&sb, "\tif (args->id == %d) { @c[%d] = count(); }\n", p*98+i, i%64)
		}
		sb.WriteString("}\n")
	}
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("large.bt", text); err != nil {
			b.Fatal(err)
		}
	}
}
