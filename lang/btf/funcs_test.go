package btf

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// funcKernels returns Kernels (listing names from the raw BTF, and from
// the decoded spec) for a BTF blob holding functions with the argument
// shapes fentry probes meet.
func funcKernels(t *testing.T) (raw, fromSpec *Kernel) {
	t.Helper()
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u64 := &btf.Int{Name: "long long unsigned int", Size: 8}
	char := &btf.Int{Name: "char", Size: 1}
	file := &btf.Struct{Name: "file", Size: 8, Members: []btf.Member{{Name: "f_flags", Type: u64}}}
	pair := &btf.Struct{Name: "pair", Size: 16, Members: []btf.Member{{Name: "a", Type: u64}, {Name: "b", Type: u64, Offset: 64}}}
	double := &btf.Float{Name: "double", Size: 8}
	sizeT := &btf.Typedef{Name: "size_t", Type: u64}
	fns := []btf.Type{
		&btf.Func{Name: "vfs_read", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: &btf.Typedef{Name: "ssize_t", Type: u64}, Params: []btf.FuncParam{
			{Name: "file", Type: &btf.Pointer{Target: file}},
			{Name: "buf", Type: &btf.Pointer{Target: char}},
			{Name: "count", Type: sizeT},
		}}},
		&btf.Func{Name: "by_value", Linkage: btf.StaticFunc, Type: &btf.FuncProto{Return: &btf.Void{}, Params: []btf.FuncParam{
			{Name: "p", Type: pair},
			{Name: "d", Type: double},
			{Name: "n", Type: i32},
		}}},
		&btf.Func{Name: "noargs", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: &btf.Pointer{Target: file}}},
		&btf.Func{Name: "vararg", Linkage: btf.GlobalFunc, Type: &btf.FuncProto{Return: i32, Params: []btf.FuncParam{
			{Name: "fmt", Type: &btf.Pointer{Target: &btf.Const{Type: char}}},
			{Type: &btf.Void{}},
		}}},
	}
	b, err := btf.NewBuilder(fns, nil)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	load := func() *Kernel {
		spec, err := btf.LoadSpecFromReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		return NewKernelFromSpec(spec)
	}
	raw = load()
	raw.raw = func() ([]byte, error) { return blob, nil }
	return raw, load()
}

func TestFunc(t *testing.T) {
	k, _ := funcKernels(t)
	type param struct {
		name, c, typ string
		slot         int
	}
	cases := []struct {
		name    string
		params  []param
		ret     string // "" for void
		retC    string
		slots   int
		wantErr string
	}{
		{name: "vfs_read", params: []param{
			{"file", "struct file *", "struct file *", 0},
			{"buf", "char *", "uint8 *", 1},
			{"count", "size_t", "uint64", 2},
		}, ret: "uint64", retC: "ssize_t", slots: 3},
		// A 16-byte struct by value takes two slots; a double is kept
		// (it has a slot) but cannot be read.
		{name: "by_value", params: []param{
			{"p", "struct pair", "struct pair", 0},
			{"d", "double", "double", 2},
			{"n", "int", "int32", 3},
		}, retC: "void", slots: 4},
		{name: "noargs", ret: "struct file *", retC: "struct file *", slots: 0},
		{name: "vararg", params: []param{{"fmt", "const char *", "uint8 *", 0}}, ret: "int32", retC: "int", slots: 1},
		{name: "nosuch", wantErr: "the kernel's BTF has no function nosuch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := k.Func(c.name)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Fatalf("got %v, want error %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []param
			for _, p := range f.Params {
				typ := p.Type.String()
				if p.Type.Kind == 0 { // Void: named by its C spelling
					typ = p.Type.Name
				}
				got = append(got, param{p.Name, p.C, typ, p.Slot})
			}
			if !reflect.DeepEqual(got, c.params) {
				t.Errorf("params %+v, want %+v", got, c.params)
			}
			ret := ""
			if f.Return != nil {
				ret = f.Return.String()
			}
			if ret != c.ret || f.ReturnC != c.retC || f.Slots() != c.slots {
				t.Errorf("return %q (%q), %d slots; want %q (%q), %d", ret, f.ReturnC, f.Slots(), c.ret, c.retC, c.slots)
			}
		})
	}
}

func TestFuncNames(t *testing.T) {
	raw, spec := funcKernels(t)
	want := []string{"by_value", "noargs", "vararg", "vfs_read"}
	for name, k := range map[string]*Kernel{"raw": raw, "spec": spec} {
		got, err := k.FuncNames()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: FuncNames() = %v, %v; want %v", name, got, err, want)
		}
	}
}

// The running kernel's vfs_read has the prototype every kernel since 2.6
// gives it.
func TestFuncLive(t *testing.T) {
	k := liveKernel(t)
	f, err := k.Func("vfs_read")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range f.Params {
		names = append(names, p.C+" "+p.Name)
	}
	want := []string{"struct file * file", "char * buf", "size_t count", "loff_t * pos"}
	if !reflect.DeepEqual(names, want) || f.ReturnC != "ssize_t" {
		t.Errorf("vfs_read(%q) returns %q; want (%q) returning ssize_t", names, f.ReturnC, want)
	}
	if _, err := k.Module("no_such_module_xyz"); err == nil {
		t.Error("Module(no_such_module_xyz) succeeded")
	}
}
