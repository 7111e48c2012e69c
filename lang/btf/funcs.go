package btf

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/types"
)

// Func is a kernel function's prototype as BTF describes it: what fentry
// and fexit probes offer as args and retval.
type Func struct {
	Name string
	// Params are the arguments, in order.
	Params []Param
	// Return is the return type, nil for void. A type gotrace cannot hold
	// (a float, a struct returned by value) is a Void-kind type named by
	// its C spelling.
	Return *types.Type
	// ReturnC is the return type as C spells it ("int", "struct file *").
	ReturnC string
}

// Param is one argument of a kernel function.
type Param struct {
	Name string
	// Type is the argument's type; a Void-kind type named by its C
	// spelling when gotrace cannot hold such a value (floats, structs
	// passed by value).
	Type *types.Type
	// C is the type as C spells it, for listings: "struct sock *".
	C string
	// Slot is the index of the first 8-byte slot the argument occupies in
	// the context of a BPF tracing program: the kernel's trampoline
	// stores each argument in one slot, and a struct passed by value in as
	// many as its size needs.
	Slot int
}

// Slots is the number of 8-byte context slots the arguments take; an fexit
// program finds the return value in the slot after them.
func (f *Func) Slots() int {
	if len(f.Params) == 0 {
		return 0
	}
	last := f.Params[len(f.Params)-1]
	return last.Slot + slotsOf(last.Type)
}

func slotsOf(t *types.Type) int {
	if t.Size <= 8 {
		return 1
	}
	return (t.Size + 7) / 8
}

// Func looks up a kernel function's prototype by name.
func (k *Kernel) Func(name string) (*Func, error) {
	spec, err := k.loadSpec()
	if err != nil {
		return nil, err
	}
	cands, err := spec.AnyTypesByName(name)
	if err != nil && !errors.Is(err, btf.ErrNotFound) {
		return nil, fmt.Errorf("looking up %s in the kernel's BTF: %w", name, err)
	}
	for _, c := range cands {
		fn, ok := c.(*btf.Func)
		if !ok {
			continue
		}
		proto, ok := fn.Type.(*btf.FuncProto)
		if !ok {
			continue
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.funcOf(fn.Name, proto), nil
	}
	return nil, fmt.Errorf("the kernel's BTF has no function %s", name)
}

// funcOf converts a prototype. k.mu must be held.
func (k *Kernel) funcOf(name string, proto *btf.FuncProto) *Func {
	f := &Func{Name: name, ReturnC: spell(proto.Return)}
	if _, void := btf.UnderlyingType(proto.Return).(*btf.Void); !void {
		f.Return = k.valueType(proto.Return)
	}
	slot := 0
	for i, p := range proto.Params {
		if _, void := p.Type.(*btf.Void); void && i == len(proto.Params)-1 {
			break // "...": variadic arguments have no slots of their own
		}
		t := k.valueType(p.Type)
		f.Params = append(f.Params, Param{Name: p.Name, Type: t, C: spell(p.Type), Slot: slot})
		slot += slotsOf(t)
	}
	return f
}

// valueType is the type of an argument or return value: integers and
// pointers as they convert, anything else as a Void type that keeps the C
// spelling and, for structs, the size (which decides how many slots the
// argument takes).
func (k *Kernel) valueType(t btf.Type) *types.Type {
	ct := k.convert(t)
	switch ct.Kind {
	case types.Int, types.Pointer:
		return ct
	}
	size, _ := btf.Sizeof(t)
	return &types.Type{Kind: types.Void, Name: spell(t), Size: size}
}

// FuncNames lists the names of the functions the BTF describes, sorted.
func (k *Kernel) FuncNames() ([]string, error) {
	spec, err := k.loadSpec()
	if err != nil {
		return nil, err
	}
	var names []string
	if k.raw != nil {
		if raw, err := k.raw(); err == nil {
			err = walkRaw(raw, func(kind int, name string) {
				if kind == rawFunc && name != "" {
					names = append(names, name)
				}
			})
			if err == nil {
				slices.Sort(names)
				return slices.Compact(names), nil
			}
			names = nil
		}
	}
	for t, err := range spec.All() {
		if err != nil {
			return nil, err
		}
		if fn, ok := t.(*btf.Func); ok && fn.Name != "" {
			names = append(names, fn.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Module returns the types of a kernel module (its BTF is split BTF on top
// of the kernel's), for probes on the module's functions. Only the running
// kernel's modules can be looked up.
func (k *Kernel) Module(name string) (*Kernel, error) {
	if k.load != nil {
		return nil, fmt.Errorf("no BTF for module %s: the kernel types do not come from the running kernel", name)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if m, ok := k.modules[name]; ok {
		return m, nil
	}
	spec, err := btf.LoadKernelModuleSpec(name)
	if err != nil {
		return nil, fmt.Errorf("no BTF for module %s: %w", name, err)
	}
	m := NewKernelFromSpec(spec)
	m.raw = func() ([]byte, error) { return nil, os.ErrNotExist } // split BTF: its strings continue the kernel's
	if k.modules == nil {
		k.modules = make(map[string]*Kernel)
	}
	k.modules[name] = m
	return m, nil
}
