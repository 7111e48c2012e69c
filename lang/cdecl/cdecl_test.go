package cdecl

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/parser"
	"github.com/gotrace/gotrace/lang/types"
)

// kernelU64 is the fake kernel's u64, to tell it from the built-in one.
var kernelU64 = types.NewInt(8, false)

// fakeKernel resolves the few kernel types the tests use, the way
// lang/btf's Kernel.Type would.
func fakeKernel(name string) (*types.Type, error) {
	switch name {
	case "u64":
		return kernelU64, nil
	case "struct kernel_thing":
		return types.NewLazyStruct(name, 16, func() []types.Field {
			return []types.Field{
				{Name: "a", Type: kernelU64},
				{Name: "b", Type: types.NewInt(4, false), Offset: 8},
			}
		}), nil
	case "struct packed_thing": // __attribute__((packed))
		return types.NewLazyStruct(name, 5, func() []types.Field {
			return []types.Field{
				{Name: "a", Type: types.NewInt(1, true)},
				{Name: "b", Type: types.NewInt(4, true), Offset: 1},
			}
		}), nil
	case "struct task_struct":
		return types.NewLazyStruct(name, 9000, func() []types.Field {
			return []types.Field{{Name: "pid", Type: types.NewInt(4, true), Offset: 2000}}
		}), nil
	case "atomic_t":
		return &types.Type{Kind: types.Struct, Name: "atomic_t", Size: 4,
			Fields: []types.Field{{Name: "counter", Type: types.NewInt(4, true)}}}, nil
	case "enum pid_type":
		return types.NewInt(4, false), nil
	case "fp_t": // typedef double fp_t
		return &types.Type{Kind: types.Void, Name: "double"}, nil
	}
	return nil, fmt.Errorf("the kernel's BTF has no type %s", name)
}

// parse parses definitions as a script (with a probe, which scripts need)
// and returns its text and type definitions.
func parse(t *testing.T, defs string) (string, []*ast.TypeDecl) {
	t.Helper()
	src := defs + "\nBEGIN {}\n"
	prog, err := parser.Parse("test.gt", src)
	if err != nil {
		t.Fatalf("parse:\n%v", err)
	}
	return src, prog.Types
}

// layout lays out definitions with the fake kernel, failing on any error.
func layout(t *testing.T, defs string) *converter {
	t.Helper()
	src, decls := parse(t, defs)
	c := convert(src, decls, fakeKernel)
	if len(c.errs) > 0 {
		t.Fatalf("unexpected errors:\n%s", formatErrors(src, c.errs))
	}
	return c
}

func formatErrors(src string, errs []*diag.Error) string {
	l := &diag.List{Src: &diag.Source{Name: "test.gt", Text: src}, Errs: errs}
	return l.Error()
}

// dump describes a struct: its size and C alignment, then each field as
// "name @Offset type", or "name @Offset+BitOffset:BitSize type" for a
// bitfield.
func dump(c *converter, name string) string {
	t := c.res.Types[name]
	if t == nil {
		return name + " undefined\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s size=%d align=%d\n", name, t.Size, c.alignOf(t))
	for _, f := range t.Fields {
		if f.BitSize > 0 {
			fmt.Fprintf(&b, "  %s @%d+%d:%d %s\n", f.Name, f.Offset, f.BitOffset, f.BitSize, f.Type)
		} else {
			fmt.Fprintf(&b, "  %s @%d %s\n", f.Name, f.Offset, f.Type)
		}
	}
	return b.String()
}

// gccLayout is what testdata/cdecl/layout.c prints, compiled by GCC 13 for
// x86_64.
const gccLayout = `struct foo size=40 align=8
  a @0
  name @4
  next @24
  flags @32
union u size=4 align=4
  i @0
  c @0
struct nested size=72 align=8
  f @0
  arr @40
  x @56
  y @64.0:3
  z @64.3:5
struct pad size=32 align=8
  a @0
  b @2
  c @4
  d @8
  e @12
  f @16
  g @24
struct tail size=16 align=8
  l @0
  c @8
struct shorts size=4 align=2
  a @0
  b @2
struct b1 size=8 align=4
  a @0
  b @4.0:30
struct b2 size=4 align=4
  a @0
  b @1.0:24
struct b3 size=24 align=8
  a @0.0:3
  b @4.0:4
  c @5
  d @8.0:40
  e @16.0:30
struct b4 size=4 align=2
  a @0
  b @1.0:4
  c @2.0:10
struct b5 size=24 align=8
  f @0.0:1
  g @8
  h @16.5:27
struct b6 size=2 align=1
  a @0
struct b7 size=5 align=1
  a @0
  b @4
struct b8 size=8 align=8
  s @0.0:3
  u @0.3:13
  c @2.0:4
  x @2.4:1
union ub size=8 align=8
  x @0.0:3
  c @0
  y @0.0:33
union ub2 size=3 align=1
  c @0
struct an size=32 align=8
  a @0
  b @8
  c @8
  d @16
  e @24
union anu size=4 align=4
  lo @0
  hi @2
  all @0
struct md size=64 align=4
  m @0
  s @24
  bytes @56
  tail @62
struct ch size=13 align=1
  s @0
  u @4
  i8 @8
  cs @10
struct fp size=64 align=8
  c @0
  cb @8
  v @16
  dp @24
  argv @32
  arr @40
  parr @48
struct em size=8 align=4
  c @0
  x @4
struct pk size=6 align=1
  a @0
  b @1
  c @5
struct al size=32 align=16
  a @0
  b @16
struct pn size=6 align=1
  a @0
  s @1
struct pb size=2 align=1
  a @0
  b @1.0:7
struct fl size=4 align=4
  n @0
  data @4
struct fl2 size=8 align=8
  n @0
  items @8
struct fl3 size=4 align=4
  c @0
  z @4
struct k size=48 align=8
  c @0
  kt @8
  x @24
  pid @32
  sz @40
struct outer size=16 align=4
  in @0
  e @8
  z @12
struct inner size=8 align=4
  a @0
  b @4
struct fa size=16 align=8
  p @0
  c @8
struct fb size=24 align=8
  a @0
  x @16
struct list size=16 align=8
  next @0
  v @8
struct empty size=0 align=1
enum color size=4
`

const layoutC = "../../testdata/cdecl/layout.c"

// TestLayoutMatchesGCC lays out the definitions of testdata/cdecl/layout.c
// and compares sizes, alignments and offsets with what GCC makes of them.
func TestLayoutMatchesGCC(t *testing.T) {
	text, err := os.ReadFile(layoutC)
	if err != nil {
		t.Fatal(err)
	}
	defs := regexp.MustCompile(`(?m)^(struct|union|enum) \w+ \{.*\};$`).FindAllString(string(text), -1)
	c := layout(t, strings.Join(defs, "\n"))
	var b strings.Builder
	for _, m := range regexp.MustCompile(`S\((\w+ \w+)\)`).FindAllStringSubmatch(string(text), -1) {
		ty := c.res.Types[m[1]]
		if ty == nil {
			t.Fatalf("%s is not defined", m[1])
		}
		fmt.Fprintf(&b, "%s size=%d align=%d\n", m[1], ty.Size, c.alignOf(ty))
		for _, f := range ty.Fields {
			if f.BitSize > 0 {
				bit := f.Offset*8 + f.BitOffset
				fmt.Fprintf(&b, "  %s @%d.%d:%d\n", f.Name, bit/8, bit%8, f.BitSize)
			} else {
				fmt.Fprintf(&b, "  %s @%d\n", f.Name, f.Offset)
			}
		}
	}
	fmt.Fprintf(&b, "enum color size=%d\n", c.res.Types["enum color"].Size)
	if got := b.String(); got != gccLayout {
		t.Errorf("layout differs from GCC's:\n%s", lineDiff(gccLayout, got))
	}
}

// TestGCCStillAgrees checks gccLayout against GCC itself, when it is
// installed.
func TestGCCStillAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a C program")
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed")
	}
	bin := filepath.Join(t.TempDir(), "layout")
	if out, err := exec.Command(gcc, "-std=gnu11", "-w", "-o", bin, layoutC).CombinedOutput(); err != nil {
		t.Skipf("gcc cannot build %s: %v\n%s", layoutC, err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != gccLayout {
		t.Errorf("GCC's layout is not gccLayout:\n%s", lineDiff(gccLayout, string(out)))
	}
}

// lineDiff lists the lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d: want %q, got %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestTypes checks the gotrace types of members: strings and arrays,
// pointers, enums, kernel types, flattened anonymous members, bitfields.
func TestTypes(t *testing.T) {
	tests := []struct {
		name string
		defs string
		want string // the dumps of the types named in it, in order
	}{{
		name: "brief example",
		defs: `struct foo { int a; char name[16]; struct bar *next; unsigned long flags; };
union u { int i; char c[4]; };
enum color { RED, GREEN = 5, BLUE };
struct nested { struct foo f; int arr[3]; u64 x; uint8_t y : 3; uint8_t z : 5; };
struct bar { struct foo *owner; };`,
		want: `struct foo size=40 align=8
  a @0 int32
  name @4 string[16]
  next @24 struct bar *
  flags @32 uint64
union u size=4 align=4
  i @0 int32
  c @0 string[4]
enum color size=4 align=4
struct nested size=72 align=8
  f @0 struct foo
  arr @40 int32[3]
  x @56 uint64
  y @64+0:3 uint8
  z @64+3:5 uint8
struct bar size=8 align=8
  owner @0 struct foo *
`,
	}, {
		name: "integer types",
		defs: `struct ints {
	char c; signed char sc; unsigned char uc; short s; unsigned short us;
	int i; unsigned u; long l; unsigned long ul; long long ll; unsigned long long int ull;
	_Bool b; bool b2; signed sg; long unsigned int lui; short int si;
	s8 a1; __u16 a2; int32_t a3; uint64_t a4; size_t a5; ssize_t a6; pid_t a7; uid_t a8; gid_t a9;
	const volatile int cv; enum pid_type pt;
};`,
		want: `struct ints size=128 align=8
  c @0 int8
  sc @1 int8
  uc @2 uint8
  s @4 int16
  us @6 uint16
  i @8 int32
  u @12 uint32
  l @16 int64
  ul @24 uint64
  ll @32 int64
  ull @40 uint64
  b @48 uint8
  b2 @49 uint8
  sg @52 int32
  lui @56 uint64
  si @64 int16
  a1 @66 int8
  a2 @68 uint16
  a3 @72 int32
  a4 @80 uint64
  a5 @88 uint64
  a6 @96 int64
  a7 @104 int32
  a8 @108 uint32
  a9 @112 uint32
  cv @116 int32
  pt @120 uint32
`,
	}, {
		name: "arrays",
		defs: `struct arrs {
	char s[16]; signed char ss[4]; const char cs[2]; char names[3][8];
	unsigned char bytes[4]; u8 u8s[2]; s8 s8s[2]; int m[2][3]; u64 words[2]; int *ptrs[2]; char *strs[2];
};`,
		want: `struct arrs size=128 align=8
  s @0 string[16]
  ss @16 string[4]
  cs @20 string[2]
  names @22 string[8][3]
  bytes @46 uint8[4]
  u8s @50 uint8[2]
  s8s @52 int8[2]
  m @56 int32[3][2]
  words @80 uint64[2]
  ptrs @96 int32 *[2]
  strs @112 int8 *[2]
`,
	}, {
		name: "pointers",
		defs: `struct ptrs {
	void *v; char *s; char **argv; struct task_struct *task; struct later *l; struct ptrs *self;
	int (*arr)[4]; void (*fn)(int, char *); int (*fns[2])(void); double *d; fp_t *f; union nowhere_u *never_used;
};
struct later { int x; };
union nowhere_u { int x; };`,
		want: `struct ptrs size=104 align=8
  v @0 void *
  s @8 int8 *
  argv @16 int8 * *
  task @24 struct task_struct *
  l @32 struct later *
  self @40 struct ptrs *
  arr @48 int32[4] *
  fn @56 void *
  fns @64 void *[2]
  d @80 void *
  f @88 void *
  never_used @96 union nowhere_u *
`,
	}, {
		name: "anonymous members are flattened",
		defs: `struct an {
	int a;
	union { int b; struct { char c; long d; }; };
	struct { short e : 4, f : 12; };
	char g;
};`,
		want: `struct an size=32 align=8
  a @0 int32
  b @8 int32
  c @8 int8
  d @16 int64
  e @24+0:4 int16
  f @24+4:12 int16
  g @26 int8
`,
	}, {
		name: "bitfields",
		defs: `enum color2 { C_RED, C_GREEN };
struct bits {
	char a; int b : 24;
	unsigned long long c : 60; unsigned long long d : 64;
	int : 0; _Bool e : 1; enum color2 f : 3;
	short full : 16;
};`,
		want: `struct bits size=32 align=8
  a @0 int8
  b @0+8:24 int32
  c @8+0:60 uint64
  d @16 uint64
  e @24+0:1 uint8
  f @24+1:3 uint32
  full @26 int16
`,
	}, {
		name: "nested definitions",
		defs: `struct outer {
	struct inner { int a; } in;
	union { int i; char c; } named_anon;
	enum inner_e { IA = 3, IB } e;
	struct inner2 { char z; };
};
struct user { struct inner i; struct inner2 i2; enum inner_e e; };`,
		want: `struct outer size=12 align=4
  in @0 struct inner
  named_anon @4 union (anonymous at 3:2)
  e @8 uint32
struct inner size=4 align=4
  a @0 int32
struct inner2 size=1 align=1
  z @0 int8
enum inner_e size=4 align=4
struct user size=12 align=4
  i @0 struct inner
  i2 @4 struct inner2
  e @8 uint32
`,
	}, {
		name: "kernel structs by value",
		defs: `struct k { char c; struct kernel_thing kt; atomic_t count; char d; struct packed_thing p; };`,
		want: `struct k size=40 align=8
  c @0 int8
  kt @8 struct kernel_thing
  count @24 atomic_t
  d @28 int8
  p @29 struct packed_thing
`,
	}, {
		name: "comments and qualifiers",
		defs: `struct cq {
	// a line comment: int nope;
	const int a; /* a block comment
	spanning lines */ volatile unsigned long * const volatile p;
	int __attribute__((unused)) b, c[2] __attribute__((deprecated));
	__extension__ union { int d; };
};`,
		want: `struct cq size=32 align=8
  a @0 int32
  p @8 uint64 *
  b @16 int32
  c @20 int32[2]
  d @28 int32
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := layout(t, tt.defs)
			var got strings.Builder
			for _, line := range strings.Split(tt.want, "\n") {
				if line != "" && !strings.HasPrefix(line, " ") {
					got.WriteString(dump(c, strings.Split(line, " size=")[0]))
				}
			}
			if got.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s\n%s", got.String(), tt.want, lineDiff(tt.want, got.String()))
			}
		})
	}
}

// TestIdentities checks that pointers refer to the very types the result
// holds, so that a forward reference sees the completed struct, and that
// resolve's answers are used as they are.
func TestIdentities(t *testing.T) {
	c := layout(t, `struct a { struct b *pb; u64 x; struct a *self; };
struct b { struct a a; int n; };`)
	a, b := c.res.Types["struct a"], c.res.Types["struct b"]
	if f, _ := a.Field("pb"); f.Type.Elem != b {
		t.Errorf("a.pb points to %p, want struct b at %p", f.Type.Elem, b)
	}
	if f, _ := a.Field("self"); f.Type.Elem != a {
		t.Errorf("a.self does not point to struct a")
	}
	if f, _ := a.Field("x"); f.Type != kernelU64 {
		t.Errorf("u64 is not the kernel's u64")
	}
	if f, _ := b.Field("a"); f.Type != a {
		t.Errorf("b.a is not struct a")
	}
	if b.Size != 32 || len(b.FieldList()) != 2 {
		t.Errorf("struct b = %d bytes, %d fields; want 32, 2", b.Size, len(b.FieldList()))
	}
}

// TestEnums checks enum constants and the integer types of enums.
func TestEnums(t *testing.T) {
	c := layout(t, `enum color { RED, GREEN = 5, BLUE };
enum neg { N1 = -3, N2, N3 = 'x', N4 = 0x10 | 0b11, N5 = 010, N6 = N1 * 2 + (1 << 4), N7 };
enum big { HUGE = 0x100000000 };
enum ubig { UMAX = 0xffffffff };
enum mixed { MNEG = -1, MBIG = 0xffffffff };
enum { ANON_A = 7, ANON_B = ANON_A ? ~ANON_A : 1, ANON_C = !ANON_B + (10 % 4) - 6 / 3 };
struct s { enum { IN_STRUCT = 42 } e; int arr[IN_STRUCT / 6]; };`)
	want := map[string]int64{
		"RED": 0, "GREEN": 5, "BLUE": 6,
		"N1": -3, "N2": -2, "N3": 120, "N4": 19, "N5": 8, "N6": 10, "N7": 11,
		"HUGE": 1 << 32, "UMAX": 0xffffffff, "MNEG": -1, "MBIG": 0xffffffff,
		"ANON_A": 7, "ANON_B": -8, "ANON_C": 0,
		"IN_STRUCT": 42,
	}
	for k, v := range want {
		if got, ok := c.res.Enums[k]; !ok || got != v {
			t.Errorf("%s = %d (%v), want %d", k, got, ok, v)
		}
	}
	if len(c.res.Enums) != len(want) {
		t.Errorf("enums = %v, want %d of them", c.res.Enums, len(want))
	}
	for name, w := range map[string]string{
		"enum color": "uint32", "enum neg": "int32", "enum big": "uint64",
		"enum ubig": "uint32", "enum mixed": "int64",
	} {
		if got := c.res.Types[name].String(); got != w {
			t.Errorf("%s is %s, want %s", name, got, w)
		}
	}
	if f, _ := c.res.Types["struct s"].Field("arr"); f.Type.Len != 7 {
		t.Errorf("arr has %d elements, want 7", f.Type.Len)
	}
}
