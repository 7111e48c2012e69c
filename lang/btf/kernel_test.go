package btf

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/types"
	"github.com/gotrace/gotrace/runtime/kerneltest"
)

// liveKernel returns a Kernel for the running kernel, skipping the test
// when the kernel exports no BTF.
func liveKernel(t testing.TB) *Kernel {
	t.Helper()
	if _, err := os.Stat(vmlinuxPath); err != nil {
		kerneltest.SkipOrFail(t, "no kernel BTF: %v", err)
	}
	return NewKernel()
}

// btfMember finds a member of a BTF struct by name, looking through
// anonymous members as C does, and returns its bit offset and bitfield
// size.
func btfMember(members []btf.Member, name string) (off, bits int, ok bool) {
	for _, m := range members {
		if m.Name == name {
			return int(m.Offset), int(m.BitfieldSize), true
		}
		if m.Name == "" {
			var inner []btf.Member
			switch u := btf.UnderlyingType(m.Type).(type) {
			case *btf.Struct:
				inner = u.Members
			case *btf.Union:
				inner = u.Members
			}
			if o, b, ok := btfMember(inner, name); ok {
				return int(m.Offset) + o, b, true
			}
		}
	}
	return 0, 0, false
}

// btfStruct finds a struct or union in the kernel's BTF.
func btfStruct(t *testing.T, k *Kernel, name string) []btf.Member {
	t.Helper()
	spec, err := k.loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var s *btf.Struct
	if err := spec.TypeByName(name, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s.Members
}

func TestKernelStructs(t *testing.T) {
	k := liveKernel(t)
	tests := []struct {
		typ, field string
		want       string // the field's type
		bitfield   bool
	}{
		{"struct task_struct", "pid", "int32", false},
		{"struct task_struct", "tgid", "int32", false},
		{"struct task_struct", "comm", "string[16]", false},
		{"struct task_struct", "parent", "struct task_struct *", false},
		{"struct task_struct", "real_parent", "struct task_struct *", false},
		{"struct task_struct", "se", "struct sched_entity", false},
		{"struct task_struct", "mm", "struct mm_struct *", false},
		{"struct task_struct", "sched_reset_on_fork", "uint32", true},
		{"struct sched_entity", "vruntime", "uint64", false},
		{"struct sched_entity", "cfs_rq", "struct cfs_rq *", false},
		{"struct sock", "__sk_common", "struct sock_common", false},
		{"struct sock_common", "skc_dport", "uint16", false}, // through anonymous unions and structs
		{"struct sock_common", "skc_num", "uint16", false},
		{"struct sock_common", "skc_daddr", "uint32", false},
		{"struct sock_common", "skc_family", "uint16", false},
		{"struct __kernel_timespec", "tv_sec", "int64", false},
		{"struct __kernel_timespec", "tv_nsec", "int64", false},
		{"struct sk_buff", "len", "uint32", false},
		{"struct sk_buff", "pkt_type", "uint8", true},
	}
	for _, tt := range tests {
		s, err := k.Struct(tt.typ)
		if err != nil {
			t.Errorf("%s: %v", tt.typ, err)
			continue
		}
		f, ok := s.Field(tt.field)
		if !ok {
			t.Errorf("%s has no field %s", tt.typ, tt.field)
			continue
		}
		if f.Type.String() != tt.want {
			t.Errorf("%s.%s is %s, want %s", tt.typ, tt.field, f.Type, tt.want)
		}
		off, bits, ok := btfMember(btfStruct(t, k, s.Name[len("struct "):]), tt.field)
		if !ok {
			t.Fatalf("BTF has no %s.%s", tt.typ, tt.field)
		}
		if got := f.Offset*8 + f.BitOffset; got != off || f.BitSize != bits || (bits > 0) != tt.bitfield {
			t.Errorf("%s.%s at bit %d (%d bits), BTF says bit %d (%d bits)", tt.typ, tt.field, got, f.BitSize, off, bits)
		}
	}

	task, _ := k.Type("struct task_struct")
	parent, _ := task.Field("parent")
	realParent, _ := task.Field("real_parent")
	if parent.Type.Elem != task || realParent.Type.Elem != task {
		t.Error("parent and real_parent do not point to the struct task_struct")
	}
	if timespec, _ := k.Type("struct __kernel_timespec"); timespec.Size != 16 {
		t.Errorf("sizeof(struct __kernel_timespec) = %d", timespec.Size)
	}
	// Named members stay nested: sk->skc_dport is spelled
	// sk->__sk_common.skc_dport.
	sock, _ := k.Type("struct sock")
	if _, ok := sock.Field("skc_dport"); ok {
		t.Error("struct sock has skc_dport directly; it belongs to __sk_common")
	}
}

func TestKernelTypedefs(t *testing.T) {
	k := liveKernel(t)
	for name, want := range map[string]string{
		"pid_t":                "int32",
		"u64":                  "uint64",
		"u8":                   "uint8",
		"s32":                  "int32",
		"bool":                 "uint8",
		"__be16":               "uint16",
		"size_t":               "uint64",
		"char":                 "uint8", // the kernel builds with -funsigned-char
		"unsigned long":        "uint64",
		"struct task_struct *": "struct task_struct *",
	} {
		got, err := k.Type(name)
		if err != nil || got.String() != want {
			t.Errorf("Type(%q) = %v, %v; want %s", name, got, err, want)
		}
	}
}

func TestKernelErrors(t *testing.T) {
	k := liveKernel(t)
	for _, tt := range []struct {
		name    string
		structs bool
		suggest string
	}{
		{"struct task_strct", false, "struct task_struct"},
		{"task_struct", false, "struct task_struct"},
		{"task_struct", true, "struct task_struct"},
		{"struct sock_comon", true, "struct sock_common"},
		{"pidt", false, "pid_t"},
	} {
		var err error
		if tt.structs {
			_, err = k.Struct(tt.name)
		} else {
			_, err = k.Type(tt.name)
		}
		var nf *NotFoundError
		if !errors.As(err, &nf) || !slices.Contains(nf.Suggest, tt.suggest) {
			t.Errorf("%q: %v, want a suggestion of %s", tt.name, err, tt.suggest)
		} else {
			t.Logf("%q: %v", tt.name, err)
		}
	}
}

// TestKernelRecursion follows task_struct's parent pointers and converts
// everything task_struct reaches in three steps: both must terminate, and
// converting one struct must not convert the kernel.
func TestKernelRecursion(t *testing.T) {
	k := liveKernel(t)
	task, err := k.Type("struct task_struct")
	if err != nil {
		t.Fatal(err)
	}
	p := task
	for range 1000 {
		f, ok := p.Field("parent")
		if !ok {
			t.Fatal("no parent")
		}
		p = f.Type.Elem
	}
	if p != task {
		t.Error("task->parent->...->parent is a different type")
	}
	k.mu.Lock()
	n := len(k.conv)
	k.mu.Unlock()
	if n > 1000 {
		t.Errorf("task_struct's fields converted %d types", n)
	}

	seen := map[*types.Type]bool{}
	var walk func(*types.Type, int)
	walk = func(s *types.Type, depth int) {
		if seen[s] || depth == 0 {
			return
		}
		seen[s] = true
		for _, f := range s.FieldList() {
			ft := f.Type
			for ft.Kind == types.Pointer || ft.Kind == types.Array {
				ft = ft.Elem
			}
			if ft.Kind == types.Struct {
				walk(ft, depth-1)
			}
		}
	}
	walk(task, 3)
	t.Logf("%d types converted for task_struct's fields, %d structs within 3 steps", n, len(seen))
}

// TestKernelAllStructs converts every struct and union in the kernel and
// checks that every field lies inside its struct.
func TestKernelAllStructs(t *testing.T) {
	if testing.Short() {
		t.Skip("converts every kernel struct")
	}
	k := liveKernel(t)
	if _, err := k.loadSpec(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	idx := k.buildNames()
	nstructs, nfields, nbits := 0, 0, 0
	for _, kind := range []nameKind{kindStruct, kindUnion} {
		for _, name := range idx.names[kind] {
			s, err := k.Struct(kind.word() + " " + name)
			if err != nil {
				t.Errorf("%s %s: %v", kind.word(), name, err)
				continue
			}
			nstructs++
			for _, f := range s.FieldList() {
				nfields++
				size := f.Type.Size
				switch f.Type.Kind {
				case types.Void:
					continue
				case types.Array:
					if f.Type.Len == 0 {
						size = 0
					}
				}
				if f.BitSize > 0 {
					nbits++
					if f.Type.Kind != types.Int || f.BitOffset+f.BitSize > size*8 {
						t.Errorf("%s.%s: %d bits at %d do not fit %s", s.Name, f.Name, f.BitSize, f.BitOffset, f.Type)
					}
				}
				if f.Offset < 0 || f.Offset+size > s.Size {
					t.Errorf("%s.%s: %s at %d is outside the struct's %d bytes", s.Name, f.Name, f.Type, f.Offset, s.Size)
				}
			}
		}
	}
	t.Logf("%d structs and unions, %d fields (%d bitfields) in %v", nstructs, nfields, nbits, time.Since(start))
}

// TestKernelScanNames checks the raw-BTF name scan against decoding.
func TestKernelScanNames(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes all of the kernel's BTF")
	}
	k := liveKernel(t)
	spec, err := k.loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(vmlinuxPath)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := scanNames(raw)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	if want := specNames(spec); !reflect.DeepEqual(got.names, want.names) {
		t.Error("scanNames and specNames disagree")
	}
	t.Logf("scanned %d struct, %d union, %d enum, %d typedef names in %v",
		len(got.names[kindStruct]), len(got.names[kindUnion]), len(got.names[kindEnum]), len(got.names[kindTypedef]), d)
}

// TestKernelStartup measures what a script that uses one kernel struct pays.
func TestKernelStartup(t *testing.T) {
	liveKernel(t)
	start := time.Now()
	k := NewKernel()
	made := time.Since(start)
	task, err := k.Type("struct task_struct")
	if err != nil {
		t.Fatal(err)
	}
	typed := time.Since(start)
	task.Field("pid")
	fields := time.Since(start)
	t.Logf("NewKernel %v, first Type(\"struct task_struct\") %v, its fields %v", made, typed, fields)
}

func BenchmarkKernelFirstLookup(b *testing.B) {
	liveKernel(b)
	for b.Loop() {
		task, err := NewKernel().Type("struct task_struct")
		if err != nil {
			b.Fatal(err)
		}
		task.Field("pid")
	}
}
