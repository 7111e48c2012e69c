package cdecl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/types"
)

// TestErrors checks messages and positions. Each want line is
// "LINE:COL: message", with " [hint]" when the error has a hint.
func TestErrors(t *testing.T) {
	tests := []struct {
		defs string
		want []string
	}{
		// Syntax.
		{"struct a { int a int b; };", []string{"1:17: expected ';' after member a"}},
		{"struct a { int x : 3 };", []string{"1:21: expected ';' after member x"}},
		{"struct a { int : 3 int y; };", []string{"1:20: unexpected int in constant expression"}},
		{"struct a { int : 3, y; char z[2] };", []string{"1:33: expected ';' after member z"}},
		{"struct a { struct { int q; } x y; };", []string{"1:31: expected ';' after member x"}},
		{"struct /* c */ a\n// {\n{\n  int x;\n  char y[2]\n};", []string{"5:12: expected ';' after member y"}},
		{"struct a { int 3x; };", []string{"1:16: expected member name, found '3x'"}},
		{"struct a { int x; @ };", []string{"1:19: unexpected character '@'"}},
		{"struct a { char *s = \"x\"; };", []string{
			"1:19: expected ';' after member s", "1:22: unexpected string literal"}},
		{"struct a { int x : ; };", []string{"1:19: expected bitfield width after ':'"}},
		{"struct a { x; };", []string{"1:12: unknown type x [the kernel's BTF has no type x]"}},
		{"struct a { int *; };", []string{"1:17: expected member name, found ';'"}},
		{"struct a { 5; };", []string{"1:12: expected a member declaration, found '5'"}},
		{"struct a { struct; };", []string{"1:18: expected struct name or '{' after struct"}},
		{"struct a { long char c; };", []string{"1:12: invalid combination of type specifiers: long char"}},
		{"struct a { unsigned double d; };", []string{"1:12: invalid combination of type specifiers: unsigned double"}},
		{"struct a { u64 int x; };", []string{"1:16: unexpected int after type u64"}},
		{"struct a { struct kernel_thing u64 x; };", []string{"1:35: expected ';' after member u64"}},
		{"struct a { int struct b x; };", []string{"1:16: unexpected struct after type int"}},
		{"struct a { static int x; };", []string{"1:12: static is not allowed in a member declaration"}},
		{"struct a { int int; };", []string{"1:12: invalid combination of type specifiers: int int"}},
		{"struct a { int x[(1]; };", []string{"1:20: expected ')', found end of expression"}},
		{"struct a { int x[1 +]; };", []string{"1:21: expected constant expression"}},
		{"struct a { int x[3 3]; };", []string{"1:20: unexpected '3' in constant expression"}},
		{"struct a { int x __attribute__(packed); };", []string{"1:31: expected '((' after __attribute__"}},
		{"enum e { A B };", []string{"1:11: expected ',' or '}' after enumerator A"}},
		{"enum e { A, 3 };", []string{"1:13: expected enumerator name, found '3'"}},
		{"enum e { A = };", []string{"1:13: expected a value after '='"}},
		{"struct a {\n\tint a;\n\tint b c;\n\tint d e;\n};", []string{
			"3:7: expected ';' after member b", "4:7: expected ';' after member d"}},

		// Types.
		{"struct a { struct b x; };", []string{"1:12: unknown type struct b [the kernel's BTF has no type struct b]"}},
		{"struct a {\n  int x;\n  struct nope *p;\n};", []string{"3:3: unknown type struct nope [the kernel's BTF has no type struct nope]"}},
		{"struct a { foo_t x; };", []string{"1:12: unknown type foo_t [the kernel's BTF has no type foo_t]"}},
		{"struct a { enum nope e; };", []string{"1:12: unknown type enum nope [the kernel's BTF has no type enum nope]"}},
		{"struct a { struct b x; }; struct b { int y; };", []string{
			"1:21: member x has incomplete type struct b [struct b is defined later, at 1:27: define it first, or use a pointer]"}},
		{"struct a { struct b *p; struct b q[2]; }; struct b { int z; };", []string{
			"1:34: member q has incomplete type struct b [struct b is defined later, at 1:43: define it first, or use a pointer]"}},
		{"struct a { enum c e; }; enum c { Q };", []string{
			"1:19: member e has incomplete type enum c [enum c is defined later, at 1:25: define it first, or use a pointer]"}},
		{"struct a { struct a x; };", []string{"1:21: member x has incomplete type struct a [struct a cannot contain itself: use a pointer]"}},
		{"struct a { struct b { struct a x; } b; };", []string{
			"1:32: member x has incomplete type struct a [struct a cannot contain itself: use a pointer]"}},
		{"struct a { double d; float *f; };", []string{"1:19: member d has floating-point type double [a pointer to it is fine]"}},
		{"struct a { long double d[2]; };", []string{"1:24: member d has floating-point type long double [a pointer to it is fine]"}},
		{"struct a { fp_t f; };", []string{"1:17: member f has type double, which gotrace cannot read [a pointer to it is fine]"}},
		{"struct a { void v; };", []string{"1:17: member v has type void"}},
		{"struct a { int f(int); };", []string{"1:16: member f has function type int (int) [use a pointer to the function]"}},
		{"struct a { int (*g)(void)[3]; };", []string{"1:18: member g is a function returning a function or an array"}},
		{"struct a { int (f[2])(void); };", []string{"1:17: member f is an array of functions [use an array of pointers to functions]"}},
		{"struct a { int x[3][]; };", []string{"1:16: member x is an array of arrays of unknown size"}},
		{"struct a { char data[]; int n; };", []string{"1:17: flexible array member data is not the last member"}},
		{"union u { char data[]; };", []string{"1:16: flexible array member data in a union"}},
		{"struct a { int x[-1]; };", []string{"1:18: size of array x is negative (-1)"}},
		{"struct a { char x[1L << 40]; };", []string{"1:19: array x is too large"}},
		{"struct a { int; };", []string{"1:12: declaration declares no member [add a member name]"}},

		// Members.
		{"struct a { int a; long a; };", []string{"1:24: duplicate member a [the first a is at 1:16]"}},
		{"struct a { int a; union { int b; struct { char a; }; }; };", []string{
			"1:48: duplicate member a [the first a is at 1:16]"}},
		{"struct a { int x : 40; };", []string{"1:20: bitfield width 40 exceeds the size of int (32 bits)"}},
		{"struct a { u8 x : 9; };", []string{"1:19: bitfield width 9 exceeds the size of u8 (8 bits)"}},
		{"struct a { _Bool b : 2; };", []string{"1:22: bitfield width 2 exceeds the size of _Bool (1 bit)"}},
		{"struct a { int x : 0; };", []string{"1:20: zero-width bitfield x must be unnamed"}},
		{"struct a { unsigned x : 3, y; int : -1; };", []string{"1:37: bitfield has negative width -1"}},
		{"struct a { int *p : 3; };", []string{"1:17: member p has non-integer type int * [a bitfield must have an integer or enum type]"}},
		{"struct a { struct kernel_thing k : 3; };", []string{
			"1:32: member k has non-integer type struct kernel_thing [a bitfield must have an integer or enum type]"}},
		{"struct a { int x __attribute__((aligned(3))); };", []string{"1:41: requested alignment 3 is not a positive power of two"}},

		// Constant expressions.
		{"struct a { int x[N]; };", []string{"1:18: undefined constant N"}},
		{"struct a { int x[1/0]; };", []string{"1:19: division by zero in constant expression"}},
		{"struct a { int x[5 % (2 - 2)]; };", []string{"1:20: division by zero in constant expression"}},
		{"enum e { A = 1 << 64 };", []string{"1:16: shift count 64 is out of range"}},
		{"enum e { A = 08 };", []string{"1:14: invalid integer constant 08"}},
		{"enum e { A = 1.5 };", []string{"1:14: invalid integer constant 1.5"}},
		{"enum e { A = 'ab' };", []string{"1:14: invalid character constant 'ab'"}},
		{"enum e { A = sizeof(int) };", []string{"1:14: sizeof is not supported in constant expressions here"}},
		{"enum e { A = 1 ? 2 };", []string{"1:19: expected ':' in conditional expression, found end of expression"}},
		{"enum e { A = 0x7fffffffffffffff, B };", []string{"1:34: enum constant B overflows"}},

		// Definitions.
		{"enum e { A, B, A };", []string{"1:16: duplicate enum constant A [the first A is at 1:10]"}},
		{"enum e { A }; enum f { A };", []string{"1:24: duplicate enum constant A [the first A is at 1:10]"}},
		{"enum e { };", []string{"1:1: enum e has no constants"}},
		{"struct a {int x;}; struct a {int y;};", []string{"1:20: struct a is already defined at 1:1"}},
		{"struct a { struct b { int x; } static y; }; struct c { struct b q; };", []string{
			"1:32: static is not allowed in a member declaration"}},
		{"struct b { int y; }; struct a { struct b { nope_t x; } b; };", []string{
			"1:33: struct b is already defined at 1:1", "1:44: unknown type nope_t [the kernel's BTF has no type nope_t]"}},
		{"struct a { struct b { int x; } b; }; struct b { int y; };", []string{"1:38: struct b is already defined at 1:12"}},
	}
	for _, tt := range tests {
		t.Run(tt.defs, func(t *testing.T) {
			src, decls := parse(t, tt.defs)
			_, errs := TypesIn(src, decls, fakeKernel)
			var got []string
			for _, e := range errs {
				s := fmt.Sprintf("%s: %s", e.Pos, e.Msg)
				if e.Hint != "" {
					s += " [" + e.Hint + "]"
				}
				got = append(got, s)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

// TestErrorOffsets checks that positions carry the byte offset in the
// script, so that diag.List sorts them with the other errors and shows the
// right line.
func TestErrorOffsets(t *testing.T) {
	defs := "// types\nstruct a {\n\tint x;\n\tbad_t y;\n};"
	src, decls := parse(t, defs)
	_, errs := TypesIn(src, decls, fakeKernel)
	if len(errs) != 1 {
		t.Fatalf("errors = %v", errs)
	}
	want := ast.Pos{Line: 4, Col: 2, Offset: strings.Index(src, "bad_t")}
	if errs[0].Pos != want {
		t.Errorf("position %+v, want %+v", errs[0].Pos, want)
	}
	got := formatErrors(src, errs)
	wantText := "test.gt:4:2: error: unknown type bad_t\n    bad_t y;\n    ^\nhint: the kernel's BTF has no type bad_t"
	if got != wantText {
		t.Errorf("formatted:\n%s\nwant:\n%s", got, wantText)
	}
}

// TestTypesWithoutSource checks Types, which places errors assuming
// `struct name {` was written with single spaces.
func TestTypesWithoutSource(t *testing.T) {
	decls := []*ast.TypeDecl{
		{At: ast.Pos{Line: 3, Col: 1, Offset: 40}, Kind: "struct", Name: "foo", Body: " int a;\n  nope_t b; "},
		{At: ast.Pos{Line: 7, Col: 5, Offset: 90}, Kind: "enum", Body: " A, B = Z "},
	}
	res, errs := Types(decls, nil)
	var got []string
	for _, e := range errs {
		got = append(got, fmt.Sprintf("%d:%d@%d: %s [%s]", e.Pos.Line, e.Pos.Col, e.Pos.Offset, e.Msg, e.Hint))
	}
	want := []string{
		// "struct foo {" is 12 bytes; the body's second line starts at 40+12+8.
		"4:3@62: unknown type nope_t []",
		// "enum {" is 6 bytes.
		"7:19@104: undefined constant Z []",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if res.Types["struct foo"] == nil || res.Enums["A"] != 0 || res.Enums["B"] != 1 {
		t.Errorf("result = %v %v, want struct foo and A, B despite the errors", res.Types, res.Enums)
	}
}

// TestWithoutKernel checks that the built-in typedefs work when resolve
// fails or is missing, and that resolve's answers win when it has them.
func TestWithoutKernel(t *testing.T) {
	defs := "struct a { u64 x; pid_t p; uint8_t b; __s16 s; size_t n; struct a *next; };"
	src, decls := parse(t, defs)
	broken := func(string) (*types.Type, error) { return nil, fmt.Errorf("kernel BTF is not available") }
	for name, resolve := range map[string]func(string) (*types.Type, error){"nil": nil, "failing": broken} {
		res, errs := TypesIn(src, decls, resolve)
		if len(errs) > 0 {
			t.Fatalf("%s resolve: %v", name, errs)
		}
		a := res.Types["struct a"]
		var got []string
		for _, f := range a.Fields {
			got = append(got, fmt.Sprintf("%s@%d:%s", f.Name, f.Offset, f.Type))
		}
		want := "x@0:uint64 p@8:int32 b@12:uint8 s@14:int16 n@16:uint64 next@24:struct a *"
		if strings.Join(got, " ") != want || a.Size != 32 {
			t.Errorf("%s resolve: %d bytes, %s; want 32, %s", name, a.Size, strings.Join(got, " "), want)
		}
		if f, _ := a.Field("x"); f.Type == kernelU64 {
			t.Errorf("%s resolve: u64 is the fake kernel's", name)
		}
	}
	// Without resolve, a kernel type is unknown, with no hint.
	src, decls = parse(t, "struct a { struct task_struct *t; };")
	_, errs := TypesIn(src, decls, nil)
	if len(errs) != 1 || errs[0].Msg != "unknown type struct task_struct" || errs[0].Hint != "" {
		t.Errorf("errors = %+v", errs)
	}
	// resolve is asked once per name.
	calls := map[string]int{}
	counting := func(name string) (*types.Type, error) {
		calls[name]++
		return fakeKernel(name)
	}
	src, decls = parse(t, "struct a { u64 x, y; u64 z; struct task_struct *t1, *t2; };\nstruct b { u64 w; };")
	if _, errs := TypesIn(src, decls, counting); len(errs) > 0 {
		t.Fatal(errs)
	}
	if calls["u64"] != 1 || calls["struct task_struct"] != 1 || len(calls) != 2 {
		t.Errorf("resolve calls = %v", calls)
	}
}

// TestScriptHidesKernel checks that a script's definition wins over a
// kernel type of the same name.
func TestScriptHidesKernel(t *testing.T) {
	c := layout(t, "struct a { struct task_struct *t; };\nstruct task_struct { int mine; };")
	f, _ := c.res.Types["struct a"].Field("t")
	if f.Type.Elem != c.res.Types["struct task_struct"] || f.Type.Elem.Size != 4 {
		t.Errorf("t points to %v (%d bytes), want the script's struct task_struct", f.Type.Elem, f.Type.Elem.Size)
	}
}

// FuzzTypes makes sure no body crashes the parser or the layout.
func FuzzTypes(f *testing.F) {
	for _, s := range []string{
		" int a; char name[16]; struct bar *next; ",
		" struct { int x : 3; union { long y; }; }; int (*f[2])(void); ",
		" A = 1 << 3, B = (A ? ~A : -A) / 2, C ",
		" int x[((((1))))] __attribute__((aligned(8), packed)); ",
		" char c['\\x41']; struct x { struct x *p; } q; enum { Z } z : 2; ",
		"enum{!)", // once looped forever
	} {
		f.Add("struct", s)
		f.Add("enum", s)
	}
	f.Fuzz(func(t *testing.T, kind, body string) {
		if kind != "enum" && kind != "union" {
			kind = "struct"
		}
		d := &ast.TypeDecl{At: ast.Pos{Line: 1, Col: 1}, Kind: kind, Name: "fuzz", Body: body}
		res, _ := Types([]*ast.TypeDecl{d}, fakeKernel)
		if res == nil {
			t.Fatal("no result")
		}
	})
}
