package ast

import (
	"strings"
	"testing"
)

func p(line, col int) Pos { return Pos{Line: line, Col: col, Offset: col - 1} }

func TestDumpExpr(t *testing.T) {
	x := &Binary{
		At: p(1, 3), Op: "+",
		X: &IntLit{At: p(1, 1), Raw: "1", Value: 1},
		Y: &Call{At: p(1, 5), Name: "f", Close: p(1, 9), Args: []Expr{
			&StrLit{At: p(1, 7), Value: "a\n"},
		}},
	}
	want := `(binary 1:3 "+" (int 1:1 1) (call 1:5..1:9 f (string 1:7 "a\n")))`
	if got := Dump(x); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDumpScalars(t *testing.T) {
	tests := []struct {
		n    any
		want string
	}{
		{&IntLit{At: p(1, 1), Raw: "10ms", Value: 10, Suffix: "ms"}, `(int 1:1 10 raw="10ms" suffix="ms")`},
		{&IntLit{At: p(1, 1), Raw: "0x10", Value: 16}, `(int 1:1 16 raw="0x10")`},
		{&Positional{At: p(1, 1), Index: 2}, `(positional 1:1 $2)`},
		{&Positional{At: p(1, 1), Count: true}, `(positional 1:1 $#)`},
		{&MapRef{At: p(1, 1), Name: "@"}, `(map 1:1 @)`},
		{&MapRef{At: p(1, 1), Name: "@m", Keys: []Expr{&Var{At: p(1, 4), Name: "$k"}}}, `(map 1:1 @m (keys (var 1:4 $k)))`},
		{&FieldAccess{At: p(1, 5), X: &Ident{At: p(1, 1), Name: "args"}, Name: "f", Arrow: true}, `(field 1:5 "->" f (ident 1:1 args))`},
		{&Tuple{At: p(1, 1), Elems: []Expr{&Ident{At: p(1, 6), Name: "x"}}, Names: []string{"a"}}, `(record 1:1 (a (ident 1:6 x)))`},
		{&Cast{At: p(1, 1), Type: &TypeExpr{At: p(1, 2), Name: "struct t", Pointers: 2}, X: &Ident{At: p(1, 14), Name: "x"}}, `(cast 1:1 (type 1:2 "struct t **") (ident 1:14 x))`},
		{&Offsetof{At: p(1, 1), Type: &TypeExpr{At: p(1, 10), Name: "struct s"}, Field: []string{"a", "b"}}, `(offsetof 1:1 a.b (type 1:10 "struct s"))`},
		{&JumpStmt{At: p(1, 1), Kind: "return"}, `(return 1:1)`},
		{&ExprStmt{X: &Ident{At: p(1, 1), Name: "x"}}, `(expr (ident 1:1 x))`},
		{&TypeDecl{At: p(1, 1), Kind: "enum", Body: " A "}, `(typedecl 1:1 enum <anonymous> " A ")`},
		{&BlockExpr{At: p(1, 1), Close: p(1, 9), Stmts: []Stmt{&ExprStmt{X: &Ident{At: p(1, 3), Name: "x"}}}}, `(blockexpr 1:1..1:9 (expr (ident 1:3 x)))`},
		{&BlockExpr{At: p(1, 1), Close: p(1, 6), Value: &IntLit{At: p(1, 3), Raw: "1", Value: 1}}, `(blockexpr 1:1..1:6 (value (int 1:3 1)))`},
		{&BlockExpr{At: p(2, 5), Close: p(2, 9), Macro: "one", Value: &IntLit{At: p(1, 15), Raw: "1", Value: 1}}, `(blockexpr 2:5..2:9 macro=one (value (int 1:15 1)))`},
		{&Macro{At: p(1, 1), Name: "m", Params: []string{"$a", "@b", "c"}, Body: &BlockExpr{At: p(1, 16), Close: p(1, 17)}}, `(macro 1:1 m ($a @b c) (blockexpr 1:16..1:17))`},
		{nil, `(nil)`},
		{(*Binary)(nil), `(nil)`},
		{&Binary{At: p(1, 1), Op: "+"}, `(binary 1:1 "+" (nil) (nil))`},
		{(*Block)(nil), `(nil)`},
		{&Probe{At: p(1, 1), Attach: []*AttachPoint{{At: p(1, 1), Raw: "BEGIN"}}}, `(probe 1:1 (attach 1:1 "BEGIN") (nil))`},
	}
	for _, tt := range tests {
		if got := Dump(tt.n); got != tt.want {
			t.Errorf("Dump(%T):\n got %s\nwant %s", tt.n, got, tt.want)
		}
	}
}

// TestDumpWraps checks that long nodes are broken over indented lines and
// short ones stay on one line.
func TestDumpWraps(t *testing.T) {
	var args []Expr
	for i := 0; i < 12; i++ {
		args = append(args, &Ident{At: p(1, 10+i), Name: "argument"})
	}
	prog := &Program{Probes: []*Probe{{
		At:     p(1, 1),
		Attach: []*AttachPoint{{At: p(1, 1), Raw: "BEGIN"}},
		Body: &Block{At: p(1, 7), Close: p(3, 1), Stmts: []Stmt{
			&ExprStmt{X: &Call{At: p(2, 3), Name: "printf", Close: p(2, 90), Args: args}},
		}},
	}}}
	got := Dump(prog)
	lines := strings.Split(got, "\n")
	if lines[0] != "(program" || lines[1] != "  (probe 1:1" || lines[2] != `    (attach 1:1 "BEGIN")` {
		t.Errorf("unexpected layout:\n%s", got)
	}
	for _, l := range lines {
		if len(l) > dumpWidth && !strings.HasSuffix(strings.TrimRight(l, ")"), "argument") {
			t.Errorf("line longer than %d: %q", dumpWidth, l)
		}
	}
	if strings.Count(got, "(ident") != 12 || Dump(prog) != got {
		t.Errorf("dump is incomplete or not deterministic:\n%s", got)
	}
}
