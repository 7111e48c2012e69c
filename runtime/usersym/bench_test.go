package usersym

import (
	"debug/elf"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// manyFunctions is the number of functions of the program the speed test
// and benchmarks look up: a symbol table the size of a real program's.
const manyFunctions = 5000

// startManyFunctions builds and starts a PIE program with manyFunctions
// functions, and returns it with n addresses inside its functions (going
// round them with a stride, so that neighbours differ) and the name each
// address must get.
func startManyFunctions(tb testing.TB, n int) (p *program, addrs []uint64, names []string) {
	tb.Helper()
	var src strings.Builder
	src.WriteString("#include <stdio.h>\n#include <unistd.h>\n")
	for i := range manyFunctions {
		fmt.Fprintf(&src, "int fn_%d(int x) { return x * %d + %d; }\n", i, i, i%7)
	}
	src.WriteString(`int main(void) {
	char c;
	printf("%p\n", (void *)fn_0);
	fflush(stdout);
	while (read(0, &c, 1) > 0) {}
	return 0;
}
`)
	bin := kerneltest.CompileC(tb, tb.TempDir(), "manyfuncs", src.String(), "-fPIE", "-pie")
	f, err := elf.Open(bin)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		tb.Fatal(err)
	}
	var funcs []elf.Symbol
	var fn0 uint64
	for _, s := range syms {
		if strings.HasPrefix(s.Name, "fn_") && elf.ST_TYPE(s.Info) == elf.STT_FUNC {
			funcs = append(funcs, s)
		}
		if s.Name == "fn_0" {
			fn0 = s.Value
		}
	}
	if len(funcs) != manyFunctions {
		tb.Fatalf("%d functions in the program, want %d", len(funcs), manyFunctions)
	}
	p = startProgram(tb, bin)
	bias := p.addrs[0] - fn0 // where the PIE was loaded
	addrs, names = make([]uint64, n), make([]string, n)
	for i := range addrs {
		s := funcs[(i*7919)%len(funcs)]
		addrs[i] = bias + s.Value + uint64(i)%s.Size
		names[i] = s.Name
	}
	return p, addrs, names
}

// Resolving 100,000 addresses, cold caches included (reading the maps,
// parsing the program's symbols), takes well under a second,
// and names each right.
func TestLookup100kIsFast(t *testing.T) {
	p, addrs, names := startManyFunctions(t, 100_000)
	start := time.Now()
	r := NewResolver()
	for i, a := range addrs {
		if s, ok := r.Lookup(p.pid, a); !ok || s.Name != names[i] {
			t.Fatalf("Lookup(%#x) = %+v, %v; want %s", a, s, ok, names[i])
		}
	}
	d := time.Since(start)
	t.Logf("100,000 lookups took %v", d)
	if d > time.Second {
		t.Errorf("100,000 lookups took %v, want well under a second", d)
	}
}

// BenchmarkLookup100k resolves 100,000 addresses of a running process per
// iteration, with warm caches, as printing a big map keyed by usym would.
func BenchmarkLookup100k(b *testing.B) {
	p, addrs, _ := startManyFunctions(b, 100_000)
	r := NewResolver()
	if _, ok := r.Lookup(p.pid, addrs[0]); !ok {
		b.Fatal("the first address is not named")
	}
	for b.Loop() {
		for _, a := range addrs {
			if _, ok := r.Lookup(p.pid, a); !ok {
				b.Fatalf("Lookup(%#x) found nothing", a)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(addrs)), "ns/lookup")
}

// BenchmarkLookupCold is the cost of a new Resolver's first lookup:
// reading the process's maps and the program's symbol table.
func BenchmarkLookupCold(b *testing.B) {
	p, addrs, _ := startManyFunctions(b, 1)
	for b.Loop() {
		if _, ok := NewResolver().Lookup(p.pid, addrs[0]); !ok {
			b.Fatal("the address is not named")
		}
	}
}
