package macro_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/macro"
	"github.com/gotrace/gotrace/lang/parser"
)

// expand parses and expands src, which must succeed.
func expand(t *testing.T, src string) (parsed, expanded *ast.Program) {
	t.Helper()
	parsed, err := parser.Parse("test.gt", src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	expanded, err = macro.Expand(&diag.Source{Name: "test.gt", Text: src}, parsed, nil)
	if err != nil {
		t.Fatalf("expand: %v", err)
	}
	return parsed, expanded
}

// TestExpand compares the expansion of the first probe's body with its
// exact dump: macro uses become block expressions with the call's span,
// whose contents keep the body's positions.
func TestExpand(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{
			name: "value and bare identifier",
			src:  "macro one() { 1 }\nBEGIN { print(one()); print(one); }",
			want: `(block 2:7..2:35
  (expr (call 2:9..2:20 print (blockexpr 2:15..2:19 macro=one (value (int 1:15 1)))))
  (expr (call 2:23..2:32 print (blockexpr 2:29..2:31 macro=one (value (int 1:15 1))))))`,
		},
		{
			name: "expression parameter copied at each use",
			src:  "macro twice(x) { x + x }\nBEGIN { print(twice(1 + 2)); }",
			want: `(block 2:7..2:30
  (expr
    (call 2:9..2:27 print
      (blockexpr 2:15..2:26 macro=twice
        (value
          (binary 1:20 "+"
            (binary 2:23 "+" (int 2:21 1) (int 2:25 2))
            (binary 2:23 "+" (int 2:21 1) (int 2:25 2))))))))`,
		},
		{
			name: "variable given for an expression is a value",
			src:  "macro add_one(x) { x + 1 }\nBEGIN { $a = 1; print(add_one($a)); }",
			want: `(block 2:7..2:37
  (assign 2:12 "=" (var 2:9 $a) (int 2:14 1))
  (expr
    (call 2:17..2:34 print
      (blockexpr 2:23..2:33 macro=add_one
        (value (binary 1:22 "+" (paren 2:31 (var 2:31 $a)) (int 1:24 1)))))))`,
		},
		{
			name: "variable and map parameters are the caller's",
			src:  "macro inc($a, @m) { $a++; @m[$a] = 1; }\nBEGIN { $v = 0; inc($v, @hits); }",
			want: `(block 2:7..2:33
  (assign 2:12 "=" (var 2:9 $v) (int 2:14 0))
  (expr
    (blockexpr 2:17..2:30 macro=inc
      (expr (postfix 1:23 "++" (var 1:21 $v)))
      (assign 1:34 "=" (map 1:27 @hits (keys (var 1:30 $v))) (int 1:36 1)))))`,
		},
		{
			name: "the body's variables are renamed per expansion",
			src:  "macro add1(x) { let $y = x; $y + 1 }\nBEGIN { $y = 1; print(add1($y) + add1(2)); }",
			want: `(block 2:7..2:44
  (assign 2:12 "=" (var 2:9 $y) (int 2:14 1))
  (expr
    (call 2:17..2:41 print
      (binary 2:32 "+"
        (blockexpr 2:23..2:30 macro=add1
          (let 1:17 (var 1:21 $y#1) (paren 2:28 (var 2:28 $y)))
          (value (binary 1:32 "+" (var 1:29 $y#1) (int 1:34 1))))
        (blockexpr 2:34..2:40 macro=add1
          (let 1:17 (var 1:21 $y#2) (int 2:39 2))
          (value (binary 1:32 "+" (var 1:29 $y#2) (int 1:34 1))))))))`,
		},
		{
			name: "nested macros",
			src:  "macro one() { 1 }\nmacro two() { one + one() }\nBEGIN { print(two); }",
			want: `(block 3:7..3:21
  (expr
    (call 3:9..3:18 print
      (blockexpr 3:15..3:17 macro=two
        (value
          (binary 2:19 "+"
            (blockexpr 2:15..2:17 macro=one (value (int 1:15 1)))
            (blockexpr 2:21..2:25 macro=one (value (int 1:15 1)))))))))`,
		},
		{
			name: "a parameter hides a macro of the same name",
			src:  "macro one() { 1 }\nmacro id(one) { one }\nBEGIN { print(id(2)); }",
			want: `(block 3:7..3:23 (expr (call 3:9..3:20 print (blockexpr 3:15..3:19 macro=id (value (int 3:18 2))))))`,
		},
		{
			name: "loop variables and blocks inside the body",
			src:  "macro sum(@m) { let $s = 0; for ($kv : @m) { $s += $kv.1; } $s }\nBEGIN { print(sum(@x)); }",
			want: `(block 2:7..2:25
  (expr
    (call 2:9..2:22 print
      (blockexpr 2:15..2:21 macro=sum
        (let 1:17 (var 1:21 $s#1) (int 1:26 0))
        (for 1:29
          (var 1:34 $kv#1)
          (map 1:40 @x)
          (block 1:44..1:59 (assign 1:49 "+=" (var 1:46 $s#1) (field 1:55 "." 1 (var 1:52 $kv#1)))))
        (value (var 1:61 $s#1))))))`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, prog := expand(t, tt.src)
			if got := ast.Dump(prog.Probes[0].Body); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestPredicate checks that a predicate's macros are expanded too.
func TestPredicate(t *testing.T) {
	_, prog := expand(t, "macro yes() { 1 }\nBEGIN /yes/ { }")
	want := `(blockexpr 2:8..2:10 macro=yes (value (int 1:15 1)))`
	if got := ast.Dump(prog.Probes[0].Predicate); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestInputUnchanged checks that Expand builds a new tree: the parsed
// program dumps the same before and after, and the result has no macro
// definitions left.
func TestInputUnchanged(t *testing.T) {
	src := "macro add1(x) { let $y = x; $y + 1 }\nmacro two() { add1(1) }\nBEGIN { $y = two; print(add1($y)); }"
	parsed, err := parser.Parse("test.gt", src)
	if err != nil {
		t.Fatal(err)
	}
	before := ast.Dump(parsed)
	expanded, err := macro.Expand(&diag.Source{Name: "test.gt", Text: src}, parsed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after := ast.Dump(parsed); after != before {
		t.Errorf("the parsed program changed:\n%s\nwas\n%s", after, before)
	}
	if len(expanded.Macros) != 0 || len(parsed.Macros) != 2 {
		t.Errorf("got %d macros after expansion (want 0) and %d before (want 2)", len(expanded.Macros), len(parsed.Macros))
	}
	// No node may appear twice: the checker records facts per node.
	seen := map[ast.Node]bool{}
	ast.Inspect(expanded.Probes[0].Body, func(n ast.Node) bool {
		if seen[n] {
			t.Errorf("node %s at %v appears twice", ast.Dump(n), n.Pos())
		}
		seen[n] = true
		return true
	})
}

// TestExpansionChain checks Pos.Expansion on the copy of a body used by a
// body: it names the inner call, whose own position names the outer one.
func TestExpansionChain(t *testing.T) {
	_, prog := expand(t, "macro one() { 1 }\nmacro two() { one }\nBEGIN { print(two); }")
	var lit *ast.IntLit
	ast.Inspect(prog.Probes[0].Body, func(n ast.Node) bool {
		if l, ok := n.(*ast.IntLit); ok {
			lit = l
		}
		return true
	})
	if lit == nil {
		t.Fatal("no literal in the expansion")
	}
	var chain []string
	for x := lit.At.Expansion; x != nil; x = x.Call.Expansion {
		chain = append(chain, fmt.Sprintf("%s@%v", x.Macro, x.Call))
	}
	want := "one@2:15 two@3:15"
	if got := strings.Join(chain, " "); lit.At.String() != "1:15" || got != want {
		t.Errorf("literal at %v in expansions %q; want 1:15 in %q", lit.At, got, want)
	}
}

// TestErrors covers the errors that the golden files of lang/check do not:
// suggestions, which depend on the library, and the size limit.
func TestErrors(t *testing.T) {
	var doubling strings.Builder
	doubling.WriteString("macro m0(x) { x + x }\n")
	for i := 1; i < 20; i++ {
		fmt.Fprintf(&doubling, "macro m%d(x) { m%d(x) + m%d(x) }\n", i, i-1, i-1)
	}
	doubling.WriteString("BEGIN { print(m19(1)); }")
	isFunc := func(name string) bool { return name == "print" }
	tests := []struct {
		name, src, want string
	}{
		{
			name: "unknown name close to a macro",
			src:  "macro add_two(x) { x + 2 }\nBEGIN { print(add_tow(1)); }",
			want: `test.gt:2:15: error: unknown macro or function add_tow()
BEGIN { print(add_tow(1)); }
              ^
hint: did you mean the macro add_two(x)?`,
		},
		{
			name: "expansion too large",
			src:  doubling.String(),
			want: `test.gt:21:15: error: macro expansion is too large: the expanded program has more than 200000 syntax nodes
BEGIN { print(m19(1)); }
              ^
hint: a macro that uses an expression argument several times copies it each time; bind it to a variable once: let $v = x;`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := parser.Parse("test.gt", tt.src)
			if err != nil {
				t.Fatal(err)
			}
			out, err := macro.Expand(&diag.Source{Name: "test.gt", Text: tt.src}, prog, isFunc)
			var list *diag.List
			if !errors.As(err, &list) || out != nil {
				t.Fatalf("got program %v and error %v, want a *diag.List", out != nil, err)
			}
			if got := list.Error(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
