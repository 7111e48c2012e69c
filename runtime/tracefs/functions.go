package tracefs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Function is a kernel function that ftrace can trace: a line of
// available_filter_functions.
type Function struct {
	Name string
	// Module is the module the function is in, "" for the kernel image.
	Module string
}

// Functions lists the kernel functions ftrace can trace, sorted by name and
// module, each once. These are the functions kprobe wildcards expand to and
// fentry/fexit can attach to (both attach through ftrace's patch sites).
//
// Reading the list needs CONFIG_DYNAMIC_FTRACE, and a kernel in lockdown
// may refuse it (EPERM); the error then says so and callers fall back to
// other sources.
func (fs *FS) Functions() ([]Function, error) {
	data, err := os.ReadFile(fs.path("available_filter_functions"))
	if err != nil {
		return nil, fmt.Errorf("tracefs: listing traceable functions: %w", err)
	}
	return ParseFunctions(data), nil
}

// ParseFunctions parses available_filter_functions: one function per line,
// "name" or "name [module]". Placeholders the kernel writes for patch sites
// it has dropped (__ftrace_invalid_address___N) are skipped, and a function
// listed twice (static functions of the same name) is kept once.
func ParseFunctions(data []byte) []Function {
	var out []Function
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "__ftrace_invalid_address__") {
			continue
		}
		fn := Function{Name: f[0]}
		if len(f) > 1 {
			fn.Module = strings.Trim(f[1], "[]")
		}
		out = append(out, fn)
	}
	slices.SortFunc(out, func(a, b Function) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Module, b.Module)
	})
	return slices.Compact(out)
}

// HasKprobeEvents reports whether the kernel offers kprobe_events, the
// tracefs interface for kprobes older than the kprobe PMU. Kernels built
// without CONFIG_KPROBES have neither.
func (fs *FS) HasKprobeEvents() bool { return isFile(fs.path("kprobe_events")) }
