package btf

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/lang/types"
)

// testBTF builds a small BTF blob with the shapes kernel structs have:
// typedefs, qualifiers, recursion, an anonymous union holding an anonymous
// struct, a named nested struct, bitfields (with an unnamed padding one),
// char and byte arrays, a function pointer, a flexible array, types gotrace
// cannot use, a forward declaration and packed bitfields.
func testBTF(t *testing.T) []byte {
	t.Helper()
	i32 := &btf.Int{Name: "int", Size: 4, Encoding: btf.Signed}
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	u16 := &btf.Int{Name: "short unsigned int", Size: 2}
	char := &btf.Int{Name: "char", Size: 1} // unsigned, as the kernel builds it
	schar := &btf.Int{Name: "signed char", Size: 1, Encoding: btf.Signed}
	uchar := &btf.Int{Name: "unsigned char", Size: 1}
	u64 := &btf.Int{Name: "long long unsigned int", Size: 8}
	ulong := &btf.Int{Name: "long unsigned int", Size: 8}
	boolean := &btf.Int{Name: "_Bool", Size: 1, Encoding: btf.Bool}
	i128 := &btf.Int{Name: "__int128", Size: 16, Encoding: btf.Signed}
	double := &btf.Float{Name: "double", Size: 8}

	pidT := &btf.Typedef{Name: "pid_t", Type: &btf.Typedef{Name: "__kernel_pid_t", Type: i32}}
	u64T := &btf.Typedef{Name: "u64", Type: u64}
	u8T := &btf.Typedef{Name: "u8", Type: uchar}
	atomicT := &btf.Typedef{Name: "atomic_t", Type: &btf.Struct{Size: 4, Members: []btf.Member{{Name: "counter", Type: i32}}}}
	color := &btf.Enum{Name: "color", Size: 4, Signed: true, Values: []btf.EnumValue{{Name: "RED", Value: 0}}}
	small := &btf.Enum{Name: "small", Size: 1}
	inner := &btf.Struct{Name: "inner", Size: 8, Members: []btf.Member{
		{Name: "x", Type: u32, Offset: 0},
		{Name: "y", Type: u32, Offset: 32},
	}}
	opaque := &btf.Fwd{Name: "opaque", Kind: btf.FwdStruct}
	node := &btf.Struct{Name: "node", Size: 136}
	nodePtr := &btf.Pointer{Target: node}
	fn := &btf.Pointer{Target: &btf.FuncProto{Return: i32, Params: []btf.FuncParam{{Name: "n", Type: nodePtr}, {Type: &btf.Void{}}}}}
	anon := &btf.Union{Size: 4, Members: []btf.Member{
		{Name: "a", Type: u32},
		{Type: &btf.Struct{Size: 4, Members: []btf.Member{
			{Name: "lo", Type: u16, Offset: 0},
			{Name: "hi", Type: u16, Offset: 16},
		}}},
	}}
	node.Members = []btf.Member{
		{Name: "pid", Type: &btf.Const{Type: pidT}, Offset: 0},
		{Name: "comm", Type: &btf.Array{Index: u32, Type: char, Nelems: 16}, Offset: 4 * 8},
		{Name: "parent", Type: nodePtr, Offset: 24 * 8},
		{Type: anon, Offset: 32 * 8},
		{Name: "f1", Type: u32, Offset: 36*8 + 0, BitfieldSize: 1},
		{Name: "f2", Type: u32, Offset: 36*8 + 1, BitfieldSize: 3},
		{Name: "s5", Type: i32, Offset: 36*8 + 4, BitfieldSize: 5},
		{Type: u32, Offset: 36*8 + 9, BitfieldSize: 3}, // int :3;
		{Name: "whole", Type: u16, Offset: 38 * 8, BitfieldSize: 16},
		{Name: "in", Type: inner, Offset: 40 * 8},
		{Name: "bytes", Type: &btf.Array{Index: u32, Type: u8T, Nelems: 6}, Offset: 48 * 8},
		{Name: "b", Type: boolean, Offset: 54 * 8},
		{Name: "sc", Type: &btf.Array{Index: u32, Type: schar, Nelems: 1}, Offset: 55 * 8},
		{Name: "fn", Type: fn, Offset: 56 * 8},
		{Name: "ts", Type: &btf.Volatile{Type: u64T}, Offset: 64 * 8},
		{Name: "color", Type: color, Offset: 72 * 8},
		{Name: "counter", Type: atomicT, Offset: 76 * 8},
		{Name: "d", Type: double, Offset: 80 * 8},
		{Name: "big", Type: i128, Offset: 96 * 8},
		{Name: "names", Type: &btf.Array{Index: u32, Type: &btf.Array{Index: u32, Type: char, Nelems: 4}, Nelems: 2}, Offset: 112 * 8},
		{Name: "op", Type: &btf.Pointer{Target: opaque}, Offset: 120 * 8},
		{Name: "sm", Type: small, Offset: 128 * 8},
		{Name: "rest", Type: &btf.Array{Index: u32, Type: ulong, Nelems: 0}, Offset: 136 * 8},
	}
	// A packed struct whose bitfield's storage unit would run past its end,
	// and one whose bitfield straddles two units.
	packed := &btf.Struct{Name: "packed", Size: 3, Members: []btf.Member{
		{Name: "a", Type: uchar, Offset: 0},
		{Name: "w", Type: u32, Offset: 12, BitfieldSize: 12},
	}}
	straddle := &btf.Struct{Name: "straddle", Size: 4, Members: []btf.Member{
		{Name: "v", Type: u16, Offset: 12, BitfieldSize: 10},
	}}
	b, err := btf.NewBuilder([]btf.Type{node, pidT, u64T, atomicT, packed, straddle, opaque,
		&btf.Union{Name: "val", Size: 8, Members: []btf.Member{{Name: "i", Type: i32}, {Name: "l", Type: ulong}}},
		&btf.Typedef{Name: "node_t", Type: node},
		&btf.Int{Name: "long int", Size: 8, Encoding: btf.Signed},
		&btf.Int{Name: "short int", Size: 2, Encoding: btf.Signed},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// testKernel returns a Kernel for testBTF that lists names from the raw BTF,
// as NewKernel does, and one made by NewKernelFromSpec, which decodes the
// whole spec instead.
func testKernels(t *testing.T) (raw, fromSpec *Kernel) {
	t.Helper()
	blob := testBTF(t)
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	raw = NewKernelFromSpec(spec)
	raw.raw = func() ([]byte, error) { return blob, nil }
	spec2, err := btf.LoadSpecFromReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	return raw, NewKernelFromSpec(spec2)
}

func TestFields(t *testing.T) {
	k, _ := testKernels(t)
	node, err := k.Struct("struct node")
	if err != nil {
		t.Fatal(err)
	}
	if node.Kind != types.Struct || node.Name != "struct node" || node.Size != 136 || node.Fields != nil {
		t.Fatalf("struct node = %+v", node)
	}
	tests := []struct {
		field                string
		typ                  string
		off, bitOff, bitSize int
		kind                 types.Kind
	}{
		{"pid", "int32", 0, 0, 0, types.Int},
		{"comm", "string[16]", 4, 0, 0, types.String},
		{"parent", "struct node *", 24, 0, 0, types.Pointer},
		{"a", "uint32", 32, 0, 0, types.Int},
		{"lo", "uint16", 32, 0, 0, types.Int},
		{"hi", "uint16", 34, 0, 0, types.Int},
		{"f1", "uint32", 36, 0, 1, types.Int},
		{"f2", "uint32", 36, 1, 3, types.Int},
		{"s5", "int32", 36, 4, 5, types.Int},
		{"whole", "uint16", 38, 0, 0, types.Int}, // u16 x:16 is a plain u16
		{"in", "struct inner", 40, 0, 0, types.Struct},
		{"bytes", "uint8[6]", 48, 0, 0, types.Array},
		{"b", "uint8", 54, 0, 0, types.Int},
		{"sc", "string[1]", 55, 0, 0, types.String},
		{"fn", "void *", 56, 0, 0, types.Pointer},
		{"ts", "uint64", 64, 0, 0, types.Int},
		{"color", "int32", 72, 0, 0, types.Int},
		{"counter", "atomic_t", 76, 0, 0, types.Struct},
		{"d", "void", 80, 0, 0, types.Void},
		{"big", "void", 96, 0, 0, types.Void},
		{"names", "string[4][2]", 112, 0, 0, types.Array},
		{"op", "struct opaque *", 120, 0, 0, types.Pointer},
		{"sm", "uint8", 128, 0, 0, types.Int},
		{"rest", "uint64[0]", 136, 0, 0, types.Array},
	}
	var names []string
	for _, f := range node.FieldList() {
		names = append(names, f.Name)
	}
	var want []string
	for _, tt := range tests {
		want = append(want, tt.field)
	}
	if !slices.Equal(names, want) {
		t.Errorf("fields %v, want %v", names, want)
	}
	for _, tt := range tests {
		f, ok := node.Field(tt.field)
		if !ok {
			t.Errorf("no field %s", tt.field)
			continue
		}
		if f.Type.String() != tt.typ || f.Type.Kind != tt.kind || f.Offset != tt.off || f.BitOffset != tt.bitOff || f.BitSize != tt.bitSize {
			t.Errorf("%s: %s (kind %d) at %d bits %d+%d, want %s (kind %d) at %d bits %d+%d", tt.field,
				f.Type, f.Type.Kind, f.Offset, f.BitOffset, f.BitSize, tt.typ, tt.kind, tt.off, tt.bitOff, tt.bitSize)
		}
	}

	// The details the table does not show.
	parent, _ := node.Field("parent")
	if parent.Type.Elem != node || parent.Type.AddrSpace != types.Kernel {
		t.Errorf("parent does not point to the same struct node in kernel memory: %+v", parent.Type)
	}
	if got, _ := parent.Type.Elem.Field("parent"); got.Type.Elem != node {
		t.Error("parent->parent is not struct node")
	}
	fn, _ := node.Field("fn")
	if want := "int (struct node *, ...)"; fn.Type.Elem.Kind != types.Void || fn.Type.Elem.Name != want {
		t.Errorf("fn points to %+v, want void named %q", fn.Type.Elem, want)
	}
	for field, want := range map[string]string{"d": "double", "big": "__int128"} {
		if f, _ := node.Field(field); f.Type.Name != want {
			t.Errorf("%s is named %q, want %q", field, f.Type.Name, want)
		}
	}
	in, _ := node.Field("in")
	if x, ok := in.Type.Field("y"); !ok || x.Offset != 4 {
		t.Errorf("in.y = %+v, %v", x, ok)
	}
	counter, _ := node.Field("counter")
	if c, ok := counter.Type.Field("counter"); !ok || c.Type.String() != "int32" || counter.Type.Size != 4 {
		t.Errorf("atomic_t = %+v, its counter %+v", counter.Type, c)
	}
	names2, _ := node.Field("names")
	if names2.Type.Size != 8 || names2.Type.Len != 2 || names2.Type.Elem.Size != 4 {
		t.Errorf("char names[2][4] = %+v", names2.Type)
	}
	op, _ := node.Field("op")
	if op.Type.Elem.Size != 0 || len(op.Type.Elem.FieldList()) != 0 {
		t.Errorf("struct opaque (only declared) = %+v", op.Type.Elem)
	}
}

func TestPackedBitfields(t *testing.T) {
	k, _ := testKernels(t)
	tests := []struct {
		typ, field                 string
		size, off, bitOff, bitSize int
	}{
		// The u32 unit at 0 would run past the 3-byte struct: read the
		// two bytes from the one holding the first bit.
		{"struct packed", "w", 2, 1, 4, 12},
		// Bits 12..21 straddle u16 units: read a u16 at byte 1.
		{"struct straddle", "v", 2, 1, 4, 10},
	}
	for _, tt := range tests {
		s, err := k.Struct(tt.typ)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := s.Field(tt.field)
		if !ok || f.Type.Size != tt.size || f.Type.Signed || f.Offset != tt.off || f.BitOffset != tt.bitOff || f.BitSize != tt.bitSize {
			t.Errorf("%s.%s = %s at %d bits %d+%d, want uint%d at %d bits %d+%d", tt.typ, tt.field,
				f.Type, f.Offset, f.BitOffset, f.BitSize, tt.size*8, tt.off, tt.bitOff, tt.bitSize)
		}
	}
}

func TestTypeNames(t *testing.T) {
	k, _ := testKernels(t)
	tests := []struct{ name, want string }{
		{"pid_t", "int32"},
		{"u64", "uint64"},
		{"  const   u64  ", "uint64"},
		{"u64*", "uint64 *"},
		{"struct node **", "struct node * *"},
		{"struct node * const", "struct node *"},
		{"node_t", "struct node"},
		{"union val", "union val"},
		{"enum color", "int32"},
		{"atomic_t", "atomic_t"},
		{"char", "uint8"},
		{"signed char", "int8"},
		{"unsigned char", "uint8"},
		{"int", "int32"},
		{"unsigned", "uint32"},
		{"long", "int64"},
		{"unsigned long", "uint64"},
		{"long unsigned int", "uint64"},
		{"short", "int16"},
		{"unsigned short", "uint16"},
		{"long long", "int64"}, // not in testBTF: the LP64 size
		{"_Bool", "uint8"},
		{"void", "void"},
		{"void *", "void *"},
	}
	for _, tt := range tests {
		got, err := k.Type(tt.name)
		if err != nil {
			t.Errorf("Type(%q): %v", tt.name, err)
			continue
		}
		if got.String() != tt.want {
			t.Errorf("Type(%q) = %s, want %s", tt.name, got, tt.want)
		}
	}
	a, _ := k.Type("struct node")
	b, _ := k.Type("struct  node")
	if a != b {
		t.Error("struct node converted twice")
	}
}

func TestErrors(t *testing.T) {
	raw, fromSpec := testKernels(t)
	tests := []struct {
		name    string
		structs bool   // ask Struct rather than Type
		want    string // in the error
		suggest []string
	}{
		{"struct nod", false, "no type struct nod", []string{"struct node"}},
		{"struct Node", false, "no type struct Node", []string{"struct node"}},
		{"node", false, "no type node", []string{"struct node"}},
		{"node", true, "no type node", []string{"struct node"}},
		{"nod", true, "no type nod", []string{"struct node"}},
		{"pidt", false, "no type pidt", []string{"pid_t"}},
		{"union node", false, "no type union node", nil},
		{"enum colour", false, "no type enum colour", []string{"enum color"}},
		{"struct zzzzzz", false, "no type struct zzzzzz", nil},
		{"struct opaque", false, "struct opaque: declared but not defined", nil},
		{"pid_t", true, "pid_t is int32, not a struct or union", nil},
		{"struct node *", true, "is a pointer, not a struct", nil},
		{"struct", false, "not a C type name", nil},
		{"int (*)(void)", false, "not a C type name", nil},
		{"", false, "not a C type name", nil},
	}
	for _, k := range []*Kernel{raw, fromSpec} {
		for _, tt := range tests {
			var err error
			if tt.structs {
				_, err = k.Struct(tt.name)
			} else {
				_, err = k.Type(tt.name)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%q: error %v, want %q", tt.name, err, tt.want)
				continue
			}
			var nf *NotFoundError
			if errors.As(err, &nf) && !slices.Equal(nf.Suggest, tt.suggest) {
				t.Errorf("%q: suggests %q, want %q", tt.name, nf.Suggest, tt.suggest)
			}
		}
	}
}

func TestScanNames(t *testing.T) {
	blob := testBTF(t)
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	got, err := scanNames(blob)
	if err != nil {
		t.Fatal(err)
	}
	if want := specNames(spec); !reflect.DeepEqual(got.names, want.names) {
		t.Errorf("scanNames = %q\nspecNames = %q", got.names, want.names)
	}
	if !slices.Contains(got.names[kindStruct], "node") || !slices.Contains(got.names[kindTypedef], "pid_t") {
		t.Errorf("names = %q", got.names)
	}
	for _, bad := range [][]byte{nil, blob[:20], blob[:len(blob)-1], append([]byte{0, 0}, blob[2:]...)} {
		if _, err := scanNames(bad); err == nil {
			t.Errorf("scanNames accepted %d bytes of bad BTF", len(bad))
		}
	}
}

// TestConcurrent builds one struct's fields from several goroutines; run
// with -race.
func TestConcurrent(t *testing.T) {
	k, _ := testKernels(t)
	var wg sync.WaitGroup
	got := make([]*types.Type, 8)
	for i := range got {
		wg.Go(func() {
			s, err := k.Type("struct node")
			if err != nil {
				t.Error(err)
				return
			}
			p, _ := s.Field("parent")
			got[i] = p.Type.Elem
			_, _ = k.Type("struct nod")
		})
	}
	wg.Wait()
	for _, g := range got {
		if g != got[0] {
			t.Fatal("struct node converted more than once")
		}
	}
}

// TestLazy checks that converting a struct converts nothing it points to.
func TestLazy(t *testing.T) {
	k, _ := testKernels(t)
	if _, err := k.Type("u64"); err != nil {
		t.Fatal(err)
	}
	before := len(k.conv)
	node, _ := k.Type("struct node")
	if len(k.conv) != before+1 {
		t.Errorf("converting struct node converted %d types", len(k.conv)-before)
	}
	node.FieldList()
	n := len(k.conv)
	in, _ := node.Field("in")
	if len(k.conv) != n {
		t.Error("Field converted more types after FieldList")
	}
	in.Type.FieldList()
}

func TestNoBTF(t *testing.T) {
	k := &Kernel{load: func() (*btf.Spec, error) { return nil, btf.ErrNotSupported }}
	if _, err := k.Type("struct task_struct"); !errors.Is(err, btf.ErrNotSupported) {
		t.Errorf("error %v, want btf.ErrNotSupported", err)
	}
	// Base types work without BTF.
	if got, err := k.Type("unsigned long"); err != nil || got.String() != "uint64" {
		t.Errorf("unsigned long = %v, %v", got, err)
	}
}
