package probes

import (
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/gotrace/gotrace/runtime/kallsyms"
	"github.com/gotrace/gotrace/runtime/tracefs"
)

// FunctionSource tells the kprobe and fentry providers which kernel
// functions there are.
type FunctionSource interface {
	// Traceable lists the functions ftrace can patch, sorted by name:
	// what kprobe wildcards expand to and fentry/fexit attach to. exact is
	// false when ftrace's own list (available_filter_functions) could not
	// be read and the list is the symbol table's functions instead, which
	// include some that cannot be traced.
	Traceable() (fns []tracefs.Function, exact bool, err error)
	// Symbols is the kernel's symbol table, for function sizes (kprobe
	// offsets) and for functions kprobes reach that ftrace does not list.
	Symbols() (*kallsyms.Table, error)
}

// MachineFunctions is the FunctionSource of the running kernel. Its zero
// value reads the live files; tests point Tracefs and KallsymsPath at
// copies. Each file is read once.
type MachineFunctions struct {
	// Tracefs is where available_filter_functions is read; nil opens the
	// machine's tracefs.
	Tracefs *tracefs.FS
	// KallsymsPath is the symbol table to read; "" means /proc/kallsyms.
	KallsymsPath string

	symsOnce sync.Once
	syms     *kallsyms.Table
	symsErr  error

	fnsOnce  sync.Once
	fns      []tracefs.Function
	fnsExact bool
	fnsErr   error
}

// Symbols implements FunctionSource.
func (m *MachineFunctions) Symbols() (*kallsyms.Table, error) {
	m.symsOnce.Do(func() {
		path := m.KallsymsPath
		if path == "" {
			path = kallsyms.Path
		}
		f, err := os.Open(path)
		if err != nil {
			m.symsErr = err
			return
		}
		defer f.Close()
		m.syms, m.symsErr = kallsyms.Parse(f)
	})
	return m.syms, m.symsErr
}

// Traceable implements FunctionSource.
func (m *MachineFunctions) Traceable() ([]tracefs.Function, bool, error) {
	m.fnsOnce.Do(func() {
		fs := m.Tracefs
		if fs == nil {
			fs, m.fnsErr = tracefs.Open()
		}
		if fs != nil {
			m.fns, m.fnsErr = fs.Functions()
			m.fnsExact = m.fnsErr == nil
		}
		if m.fnsErr == nil {
			return
		}
		// Kernels without dynamic ftrace, or in lockdown, do not show
		// ftrace's list. The symbol table's functions are a superset:
		// good enough to resolve names, and attaching reports the rest.
		syms, err := m.Symbols()
		if err != nil {
			return // keep ftrace's error: it is the list that was asked for
		}
		m.fns, m.fnsErr = textFunctions(syms), nil
	})
	return m.fns, m.fnsExact, m.fnsErr
}

// textFunctions lists the functions of a symbol table, without the
// compiler's pieces of functions (foo.cold) and the padding and CFI
// symbols placed before functions (__pfx_foo, __cfi_foo).
func textFunctions(t *kallsyms.Table) []tracefs.Function {
	var out []tracefs.Function
	for _, s := range t.Symbols() {
		if !s.IsText() || strings.HasPrefix(s.Name, "__pfx_") || strings.HasPrefix(s.Name, "__cfi_") || strings.Contains(s.Name, ".cold") {
			continue
		}
		out = append(out, tracefs.Function{Name: s.Name, Module: s.Module})
	}
	slices.SortFunc(out, compareFunctions)
	return slices.Compact(out)
}

func compareFunctions(a, b tracefs.Function) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Module, b.Module)
}

// matchFunctions returns the functions of fns whose name matches the glob
// pattern name and whose module matches the glob module (nil module: any
// module; "vmlinux" is the kernel image, as in bpftrace).
func matchFunctions(fns []tracefs.Function, module *string, name string) []tracefs.Function {
	if !tracefs.HasWildcard(name) {
		// fns is sorted by name: the functions called name are a run,
		// found without a glob per function (-lv describes each function
		// of a listing this way).
		i, _ := slices.BinarySearchFunc(fns, name, func(f tracefs.Function, n string) int { return strings.Compare(f.Name, n) })
		j := i
		for j < len(fns) && fns[j].Name == name {
			j++
		}
		fns = fns[i:j]
	}
	var out []tracefs.Function
	for _, f := range fns {
		if ok, _ := tracefs.Glob(name, f.Name); !ok {
			continue
		}
		if module != nil && !moduleMatches(*module, f.Module) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// moduleMatches reports whether a module pattern matches a function's
// module ("" is the kernel image, which scripts call vmlinux).
func moduleMatches(pattern, module string) bool {
	if module == "" {
		module = "vmlinux"
	}
	ok, _ := tracefs.Glob(pattern, module)
	return ok
}
