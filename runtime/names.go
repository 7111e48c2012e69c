package runtime

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gotrace/gotrace/runtime/tracefs"
	"github.com/gotrace/gotrace/stdlib"
	"github.com/gotrace/gotrace/stdlib/probes"
)

// The names an interactive session completes (see cmd/gotrace's REPL),
// besides the probes ListProbes lists.

// ProbeKind is a kind of probe a script can name: "tracepoint", with its
// short aliases ("t").
type ProbeKind struct {
	Name    string
	Aliases []string
}

// ProbeKinds lists the kinds of probes gotrace knows, in the order -l
// lists them.
func ProbeKinds() []ProbeKind {
	var out []ProbeKind
	for _, p := range probes.Table() {
		out = append(out, ProbeKind{Name: p.Name, Aliases: append([]string(nil), p.Aliases...)})
	}
	return out
}

// Builtins lists the names of the builtin variables (comm, pid, ...) and
// of the functions (printf, count, ...) scripts can use, each sorted.
func Builtins() (vars, funcs []string) {
	lib := stdlib.New()
	for _, n := range lib.Names() {
		if _, ok := lib.Var(n); ok {
			vars = append(vars, n)
		} else {
			funcs = append(funcs, n)
		}
	}
	sort.Strings(vars)
	sort.Strings(funcs)
	return vars, funcs
}

// KernelFunctions lists the kernel functions that kprobes can attach to,
// sorted, each once: ftrace's available_filter_functions, or when that
// cannot be read, the text symbols of /proc/kallsyms.
func KernelFunctions() ([]string, error) {
	var data []byte
	fs, err := tracefs.Open()
	if err == nil {
		data, err = os.ReadFile(filepath.Join(fs.Root(), "available_filter_functions"))
	}
	if err != nil {
		syms, kerr := os.ReadFile("/proc/kallsyms")
		if kerr != nil {
			return nil, fmt.Errorf("listing kernel functions: %v; %v", err, kerr)
		}
		return kallsymsFunctions(syms), nil
	}
	return filterFunctions(data), nil
}

// filterFunctions parses available_filter_functions: "name" or
// "name [module]" a line.
func filterFunctions(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "__ftrace_invalid_address__") {
			continue
		}
		out = append(out, f[0])
	}
	return sortedUnique(out)
}

// kallsymsFunctions picks the text symbols out of /proc/kallsyms:
// "ADDRESS TYPE NAME [MODULE]" a line, t or T for text.
func kallsymsFunctions(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || (f[1] != "t" && f[1] != "T") {
			continue
		}
		out = append(out, f[2])
	}
	return sortedUnique(out)
}

func sortedUnique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, n := range s {
		if i == 0 || n != s[i-1] {
			out = append(out, n)
		}
	}
	return out
}
