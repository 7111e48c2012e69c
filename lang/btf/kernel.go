// Package btf gives scripts the kernel's own types. bpftrace scripts use
// kernel structs without including any header — (struct task_struct
// *)curtask, curtask->parent->pid, sizeof(struct task_struct), a tracepoint
// field of type struct __kernel_timespec * — and gotrace, which has no C
// compiler, learns their layout from the BPF Type Format the kernel exports
// in /sys/kernel/btf/vmlinux. This package turns those BTF types into
// gotrace types (lang/types) following bpftrace's conventions: char arrays
// are strings, typedefs and qualifiers vanish, members of anonymous structs
// and unions are members of the enclosing struct, bitfields keep their bit
// position.
//
// The kernel's BTF describes some hundred thousand types. Most scripts never
// need one, and the rest need a handful, so nothing is read until the first
// lookup, and a struct's fields are converted only when something asks for
// them (types.Type.FieldList).
package btf

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/types"
)

// vmlinuxPath is where the running kernel exports its BTF.
const vmlinuxPath = "/sys/kernel/btf/vmlinux"

// Kernel resolves C type names against one set of kernel BTF. It loads the
// BTF on first use, not when it is made, and remembers every type it has
// converted, so that a type asked for twice is the same *types.Type. A
// Kernel is safe for concurrent use. The zero Kernel describes the running
// kernel, like NewKernel's.
type Kernel struct {
	load func() (*btf.Spec, error) // nil: the running kernel
	raw  func() ([]byte, error)    // the raw BTF, for listing names; nil: walk the spec

	once    sync.Once
	spec    *btf.Spec
	loadErr error

	mu     sync.Mutex
	conv   map[btf.Type]*types.Type // converted types, by BTF type (one per type ID)
	byName map[string]*types.Type   // answers of Type, by normalized name
	names  *nameIndex               // built on the first failed lookup
	// modules are the BTF of kernel modules, by name, loaded by Module.
	modules map[string]*Kernel
}

// NewKernel returns a Kernel for the running kernel's BTF,
// /sys/kernel/btf/vmlinux (or, failing that, a vmlinux image in the usual
// places). Nothing is read until the first lookup.
func NewKernel() *Kernel { return &Kernel{} }

// NewKernelFromSpec returns a Kernel for spec, for tests and for BTF that
// does not come from the running kernel.
func NewKernelFromSpec(spec *btf.Spec) *Kernel {
	return &Kernel{load: func() (*btf.Spec, error) { return spec, nil }}
}

// loadSpec returns the BTF, loading it on the first call.
func (k *Kernel) loadSpec() (*btf.Spec, error) {
	k.once.Do(func() {
		if k.load == nil {
			k.spec, k.loadErr = btf.LoadKernelSpec()
			if k.loadErr != nil {
				k.loadErr = fmt.Errorf("kernel BTF is not available (kernel types need CONFIG_DEBUG_INFO_BTF=y): %w", k.loadErr)
			}
			k.raw = func() ([]byte, error) { return os.ReadFile(vmlinuxPath) }
		} else {
			k.spec, k.loadErr = k.load()
		}
	})
	return k.spec, k.loadErr
}

// NotFoundError reports a type name that the BTF does not define.
type NotFoundError struct {
	Name    string   // the name looked up, normalized ("struct task_strct")
	Suggest []string // the closest names the BTF does define, best first; may be empty
	Reason  string   // why, when the name exists but cannot be used; usually empty
}

func (e *NotFoundError) Error() string {
	msg := "the kernel's BTF has no type " + e.Name
	if e.Reason != "" {
		msg = e.Name + ": " + e.Reason
	}
	if len(e.Suggest) > 0 {
		msg += "; did you mean " + strings.Join(e.Suggest, " or ") + "?"
	}
	return msg
}

// Type resolves a C type name as a script writes it — "struct
// task_struct", "union bpf_attr", "enum pid_type", a typedef such as
// "pid_t" or "u64", a base type such as "char" or "unsigned long", any of
// them followed by '*'s — to a gotrace type. Qualifiers (const, volatile)
// are ignored. Pointers are kernel pointers (types.Kernel); a caller that
// knows better (a syscall's user-space argument) sets AddrSpace itself on
// a copy. An unknown name gives a *NotFoundError.
func (k *Kernel) Type(name string) (*types.Type, error) {
	base, stars, err := splitName(name)
	if err != nil {
		return nil, err
	}
	t, err := k.named(base)
	if err != nil {
		return nil, err
	}
	for range stars {
		t = types.NewPointer(t, types.Kernel)
	}
	return t, nil
}

// Struct is Type restricted to structs and unions ("struct sock", "union
// bpf_attr", or a typedef of one): anything else is an error, and an unknown
// name's error suggests the closest struct and union names.
func (k *Kernel) Struct(name string) (*types.Type, error) {
	base, stars, err := splitName(name)
	if err != nil {
		return nil, err
	}
	if stars > 0 {
		return nil, fmt.Errorf("%s is a pointer, not a struct", strings.Join(strings.Fields(name), " "))
	}
	if !strings.HasPrefix(base, "struct ") && !strings.HasPrefix(base, "union ") {
		// A typedef of a struct is fine; a bare struct name is a
		// likely slip for "struct name".
		t, err := k.named(base)
		var nf *NotFoundError
		if errors.As(err, &nf) && len(nf.Suggest) == 0 {
			nf.Suggest = k.suggest(base, kindStruct, kindUnion)
		}
		if err != nil {
			return nil, err
		}
		if t.Kind != types.Struct {
			return nil, fmt.Errorf("%s is %s, not a struct or union", base, t)
		}
		return t, nil
	}
	return k.named(base)
}

// named resolves a normalized name without pointer stars.
func (k *Kernel) named(name string) (*types.Type, error) {
	k.mu.Lock()
	if t, ok := k.byName[name]; ok {
		k.mu.Unlock()
		return t, nil
	}
	k.mu.Unlock()

	var (
		t   *types.Type
		err error
	)
	if bi, ok := parseBaseInt(name); ok {
		t, err = k.baseInt(name, bi)
	} else {
		t, err = k.lookup(name)
	}
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if k.byName == nil {
		k.byName = make(map[string]*types.Type)
	}
	k.byName[name] = t
	k.mu.Unlock()
	return t, nil
}

// lookup resolves "struct X", "union X", "enum X" or a typedef name.
func (k *Kernel) lookup(name string) (*types.Type, error) {
	spec, err := k.loadSpec()
	if err != nil {
		return nil, err
	}
	kind, bare := kindTypedef, name
	for _, kw := range []struct {
		prefix string
		kind   nameKind
	}{{"struct ", kindStruct}, {"union ", kindUnion}, {"enum ", kindEnum}} {
		if rest, ok := strings.CutPrefix(name, kw.prefix); ok {
			kind, bare = kw.kind, rest
		}
	}
	if bare == "" || strings.ContainsAny(bare, " ") {
		return nil, fmt.Errorf("%q is not a C type name", name)
	}
	cands, err := spec.AnyTypesByName(bare)
	if err != nil && !errors.Is(err, btf.ErrNotFound) {
		return nil, fmt.Errorf("looking up %s in the kernel's BTF: %w", name, err)
	}
	var found btf.Type
	declared := false
	for _, c := range cands {
		switch c := c.(type) {
		case *btf.Struct:
			if kind == kindStruct {
				found = c
			}
		case *btf.Union:
			if kind == kindUnion {
				found = c
			}
		case *btf.Enum:
			if kind == kindEnum {
				found = c
			}
		case *btf.Typedef:
			if kind == kindTypedef {
				found = c
			}
		case *btf.Fwd:
			if (kind == kindStruct && c.Kind == btf.FwdStruct) || (kind == kindUnion && c.Kind == btf.FwdUnion) {
				declared = true
			}
		}
		if found != nil {
			break
		}
	}
	if found == nil {
		nf := &NotFoundError{Name: name}
		if declared {
			nf.Reason = "declared but not defined in the kernel's BTF, so its layout is unknown"
			return nil, nf
		}
		if kind == kindTypedef {
			// "task_struct" for "struct task_struct".
			for _, c := range cands {
				switch c.(type) {
				case *btf.Struct, *btf.Union, *btf.Enum:
					nf.Suggest = append(nf.Suggest, kindWord(c)+" "+bare)
				}
			}
		}
		if len(nf.Suggest) == 0 {
			kinds := []nameKind{kind}
			if kind == kindTypedef {
				kinds = []nameKind{kindTypedef, kindStruct, kindUnion, kindEnum}
			}
			nf.Suggest = k.suggest(bare, kinds...)
		}
		return nil, nf
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.convert(found), nil
}

// baseInt resolves a C base integer type. Its size and signedness come from
// the kernel's BTF (the kernel builds with -funsigned-char, so "char" is
// unsigned); without BTF they are those of an LP64 machine, char signed.
func (k *Kernel) baseInt(name string, bi baseInt) (*types.Type, error) {
	if bi.void {
		return &types.Type{Kind: types.Void, Name: "void"}, nil
	}
	if spec, err := k.loadSpec(); err == nil {
		var it *btf.Int
		if spec.TypeByName(bi.btfName, &it) == nil {
			k.mu.Lock()
			defer k.mu.Unlock()
			return k.convert(it), nil
		}
	}
	if bi.btfName == "_Bool" {
		return types.NewInt(1, false), nil
	}
	return types.NewInt(bi.size, bi.signed), nil
}

// baseInt describes a C base type named with keywords.
type baseInt struct {
	btfName string // the spelling compilers put in BTF: "long unsigned int"
	size    int
	signed  bool
	void    bool
}

// parseBaseInt recognizes C base type names in any keyword order:
// "unsigned long", "long unsigned int", "signed char", "_Bool", "void".
func parseBaseInt(name string) (baseInt, bool) {
	var signed, unsigned, char, short, integer, boolean, void bool
	long := 0
	for w := range strings.FieldsSeq(name) {
		switch w {
		case "signed":
			signed = true
		case "unsigned":
			unsigned = true
		case "char":
			char = true
		case "short":
			short = true
		case "int":
			integer = true
		case "long":
			long++
		case "_Bool":
			boolean = true
		case "void":
			void = true
		default:
			return baseInt{}, false
		}
	}
	n := 0
	for _, b := range []bool{char, short, boolean, void, long > 0} {
		if b {
			n++
		}
	}
	if n > 1 || long > 2 || (signed && unsigned) || ((boolean || void) && (signed || unsigned || integer)) || (char && integer) {
		return baseInt{}, false
	}
	u := " int"
	if unsigned {
		u = " unsigned int"
	}
	switch {
	case void:
		return baseInt{void: true}, true
	case boolean:
		return baseInt{btfName: "_Bool", size: 1}, true
	case char:
		b := baseInt{btfName: "char", size: 1, signed: !unsigned}
		if signed {
			b.btfName = "signed char"
		} else if unsigned {
			b.btfName = "unsigned char"
		}
		return b, true
	case short:
		return baseInt{btfName: "short" + u, size: 2, signed: !unsigned}, true
	case long == 1:
		return baseInt{btfName: "long" + u, size: 8, signed: !unsigned}, true
	case long == 2:
		return baseInt{btfName: "long long" + u, size: 8, signed: !unsigned}, true
	}
	return baseInt{btfName: strings.TrimPrefix(u, " "), size: 4, signed: !unsigned}, true
}

// splitName normalizes a type name: single spaces, no qualifiers, the
// pointer stars counted and removed.
func splitName(name string) (string, int, error) {
	stars := 0
	s := strings.TrimSpace(name)
	for {
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "const"))
		if !strings.HasSuffix(s, "*") {
			break
		}
		stars++
		s = s[:len(s)-1]
	}
	var words []string
	for w := range strings.FieldsSeq(s) {
		if w != "const" && w != "volatile" && w != "restrict" {
			words = append(words, w)
		}
	}
	if len(words) == 0 || strings.ContainsAny(s, "*()[],;") ||
		slices.Contains([]string{"struct", "union", "enum"}, words[len(words)-1]) {
		return "", 0, fmt.Errorf("%q is not a C type name", name)
	}
	return strings.Join(words, " "), stars, nil
}

// suggest returns up to three names of the given kinds closest to name.
func (k *Kernel) suggest(name string, kinds ...nameKind) []string {
	k.mu.Lock()
	idx := k.names
	k.mu.Unlock()
	if idx == nil {
		idx = k.buildNames()
		k.mu.Lock()
		k.names = idx
		k.mu.Unlock()
	}
	var out []string
	for _, c := range closest(name, idx, kinds, 3) {
		if w := c.kind.word(); w != "" {
			out = append(out, w+" "+c.name)
		} else {
			out = append(out, c.name)
		}
	}
	return out
}

// buildNames lists the names the BTF defines, from the raw BTF when it is at
// hand (a few milliseconds) or else by decoding every type.
func (k *Kernel) buildNames() *nameIndex {
	spec, err := k.loadSpec()
	if err != nil {
		return &nameIndex{}
	}
	if k.raw != nil {
		if raw, err := k.raw(); err == nil {
			if idx, err := scanNames(raw); err == nil {
				return idx
			}
		}
	}
	return specNames(spec)
}
