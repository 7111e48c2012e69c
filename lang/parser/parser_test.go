package parser

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// sx renders an expression compactly, without positions, for table tests.
func sx(x ast.Expr) string {
	switch n := x.(type) {
	case nil:
		return "nil"
	case *ast.IntLit:
		return n.Raw
	case *ast.StrLit:
		return strconv.Quote(n.Value)
	case *ast.Ident:
		return n.Name
	case *ast.Var:
		return n.Name
	case *ast.Positional:
		if n.Count {
			return "$#"
		}
		return fmt.Sprintf("$%d", n.Index)
	case *ast.MapRef:
		if n.Keys == nil {
			return n.Name
		}
		return n.Name + "[" + sxList(n.Keys, ",") + "]"
	case *ast.Call:
		return n.Name + "(" + sxList(n.Args, ",") + ")"
	case *ast.Unary:
		return "(" + n.Op + " " + sx(n.X) + ")"
	case *ast.Postfix:
		return "(post" + n.Op + " " + sx(n.X) + ")"
	case *ast.Binary:
		return "(" + n.Op + " " + sx(n.X) + " " + sx(n.Y) + ")"
	case *ast.Ternary:
		return "(? " + sx(n.Cond) + " " + sx(n.Then) + " " + sx(n.Else) + ")"
	case *ast.Cast:
		return "(cast " + n.Type.String() + " " + sx(n.X) + ")"
	case *ast.FieldAccess:
		op := "."
		if n.Arrow {
			op = "->"
		}
		return "(" + op + " " + sx(n.X) + " " + n.Name + ")"
	case *ast.Index:
		return "([] " + sx(n.X) + " " + sx(n.Index) + ")"
	case *ast.Tuple:
		if n.Names != nil {
			var parts []string
			for i, e := range n.Elems {
				parts = append(parts, n.Names[i]+"="+sx(e))
			}
			return "(record " + strings.Join(parts, " ") + ")"
		}
		return "(tuple " + sxList(n.Elems, " ") + ")"
	case *ast.Paren:
		return "(paren " + sx(n.X) + ")"
	case *ast.Sizeof:
		if n.Type != nil {
			return "(sizeof " + n.Type.String() + ")"
		}
		return "(sizeof " + sx(n.X) + ")"
	case *ast.Offsetof:
		return "(offsetof " + n.Type.String() + " " + strings.Join(n.Field, ".") + ")"
	}
	return fmt.Sprintf("?%T", x)
}

func sxList(xs []ast.Expr, sep string) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, sx(x))
	}
	return strings.Join(parts, sep)
}

func TestParseExpr(t *testing.T) {
	tests := []struct{ in, want string }{
		// precedence and associativity
		{"1 + 2 * 3 << 1 == 14 && !x", "(&& (== (<< (+ 1 (* 2 3)) 1) 14) (! x))"},
		{"1 - 2 - 3", "(- (- 1 2) 3)"},
		{"a || b && c", "(|| a (&& b c))"},
		{"a && b || c", "(|| (&& a b) c)"},
		{"a | b ^ c & d", "(| a (^ b (& c d)))"},
		{"a & b == c", "(& a (== b c))"},
		{"a == b < c", "(== a (< b c))"},
		{"a < b << c", "(< a (<< b c))"},
		{"a << b + c", "(<< a (+ b c))"},
		{"a + b * c", "(+ a (* b c))"},
		{"a * b / c % d", "(% (/ (* a b) c) d)"},
		{"a ? b : c ? d : e", "(? a b (? c d e))"},
		{"a ? b ? c : d : e", "(? a (? b c d) e)"},
		{"a || b ? c : d", "(? (|| a b) c d)"},
		{"-a * b", "(* (- a) b)"},
		{"- - a", "(- (- a))"},
		{"!~a", "(! (~ a))"},
		{"*p + 1", "(+ (* p) 1)"},
		{"a * *p", "(* a (* p))"},
		{"a & &b", "(& a (& b))"},
		{"a - -1", "(- a (- 1))"},
		{"++$x", "(++ $x)"},
		{"$x++ + 1", "(+ (post++ $x) 1)"},
		{"-$x.f", "(- (. $x f))"},
		{"*$p->next", "(* (-> $p next))"},
		// primaries
		{"42", "42"}, {"0x2a", "0x2a"}, {"10ms", "10ms"},
		{`"s\n"`, `"s\n"`},
		{"$x", "$x"}, {"$1", "$1"}, {"$#", "$#"},
		{"@", "@"}, {"@m", "@m"}, {"@m[1]", "@m[1]"}, {"@m[1, $x, \"s\"]", `@m[1,$x,"s"]`},
		{"@m[1][2]", "([] @m[1] 2)"},
		{"pid", "pid"}, {"count()", "count()"}, {"printf(\"%d\", 1)", `printf("%d",1)`},
		{"str(args->filename, 16)", "str((-> args filename),16)"},
		{"args.f", "(. args f)"},
		{"$t.0.1", "(. (. $t 0) 1)"},
		{"a[1][2]", "([] ([] a 1) 2)"},
		{"sizeof(int)", "(sizeof int)"},
		{"sizeof(struct sk_buff)", "(sizeof struct sk_buff)"},
		{"sizeof($x)", "(sizeof $x)"},
		{"offsetof(struct task_struct, comm)", "(offsetof struct task_struct comm)"},
		{"offsetof(struct a, b.c.d)", "(offsetof struct a b.c.d)"},
		// casts versus parentheses
		{"(uint8)x", "(cast uint8 x)"},
		{"(int64)x", "(cast int64 x)"},
		{"(struct task_struct *)curtask", "(cast struct task_struct * curtask)"},
		{"(uint8 *)p", "(cast uint8 * p)"},
		{"(int8[4])x", "(cast int8[4] x)"},
		{"(unsigned long long)x", "(cast unsigned long long x)"},
		{"(char **)x", "(cast char ** x)"},
		{"(uint8)x + 1", "(+ (cast uint8 x) 1)"},
		{"(uint8)x.y", "(cast uint8 (. x y))"},
		{"(uint8)-1", "(cast uint8 (- 1))"},
		{"((uint8)x)->y", "(-> (paren (cast uint8 x)) y)"},
		{"(pid) + 1", "(+ (paren pid) 1)"},
		{"(pid)", "(paren pid)"},
		{"(a + b) * c", "(* (paren (+ a b)) c)"},
		// tuples and records
		{"(1, 2)", "(tuple 1 2)"},
		{"(1,)", "(tuple 1)"},
		{"(1, 2,)", "(tuple 1 2)"},
		{"((1, 2), 3)", "(tuple (tuple 1 2) 3)"},
		{"(a = 1, b = 2)", "(record a=1 b=2)"},
		{"(a = 1)", "(record a=1)"},
		{"(a = (1, 2),)", "(record a=(tuple 1 2))"},
		{"(a == 1)", "(paren (== a 1))"},
	}
	for _, tt := range tests {
		x, err := ParseExpr("-e", tt.in)
		if err != nil {
			t.Errorf("ParseExpr(%q): %v", tt.in, err)
			continue
		}
		if got := sx(x); got != tt.want {
			t.Errorf("ParseExpr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseExprErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "unexpected end of input, expected an expression"},
		{"1 +", "unexpected end of input, expected an expression"},
		{"1 2", `unexpected "2" after the end of the expression`},
		{")", `unexpected ")", expected an expression`},
		{"(1", "unclosed '('"},
		{"@m[1", "unclosed '['"},
		{"f(1,)", `unexpected ")", expected an expression`},
		{"(1,,2)", `unexpected ",", expected an expression`},
		{"a ? b", "unexpected end of input, expected ':'"},
		{"x.", "unexpected end of input"},
		{"x->0", "expected a field name after '->'"},
		{"$t.01", "invalid tuple index 01"},
		{"(a = 1, 2)", "record cannot mix named and unnamed elements"},
		{"(1 = 2)", "a record field name must be a plain name"},
		{"(int8[0])x", "invalid array length 0"},
		{"(int8 uint8)x", "invalid type int8 uint8"},
		{"1.5", "floating-point numbers are not supported"},
		{"$", "expected a variable name after '$'"},
		{`"abc`, "unterminated string literal"},
		{`"\x"`, `\x must be followed by one or two hexadecimal digits`},
		{`"\400"`, `octal escape \400 is out of range`},
		{"0b", "binary literal has no digits"},
		{"1u8", "invalid integer literal 1u8"},
		{"if", `unexpected "if", expected an expression`},
		{"#", "unexpected character '#'"},
	}
	for _, tt := range tests {
		_, err := ParseExpr("-e", tt.in)
		if err == nil {
			t.Errorf("ParseExpr(%q) succeeded, want error %q", tt.in, tt.want)
			continue
		}
		var list *diag.List
		if !errors.As(err, &list) {
			t.Errorf("ParseExpr(%q): error is %T, want *diag.List", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseExpr(%q) error:\n%v\nwant it to contain %q", tt.in, err, tt.want)
		}
	}
}

// TestParseErrors checks the first line of the message for scripts that
// must fail; the golden files in testdata/parser/errors check whole
// messages.
func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BEGIN { printf(\"a\") printf(\"b\") }", `-e:1:21: error: expected ';' before "printf"`},
		{"BEGIN { $x = 1 $y = 2; }", `-e:1:16: error: expected ';' before "$y"`},
		{"BEGIN { @x = 1 @y = 2 }", `-e:1:16: error: expected ';' before "@y"`},
		{"BEGIN { let $x = 1 return }", `-e:1:20: error: expected ';' before "return"`},
		{"BEGIN { $x = 1 if (1) {} }", `-e:1:16: error: expected ';' before "if"`},
		{"BEGIN { x = 1 + }", `-e:1:17: error: unexpected "}", expected an expression`},
		{"BEGIN < printf(\"x\") >", `-e:1:7: error: unexpected "<", expected '{'`},
		{"BEGIN >", `-e:1:7: error: unexpected ">", expected '{'`},
		{"kprobe:f /pid == 1 { }", `-e:1:20: error: unterminated predicate: expected '/' before "{"`},
		{"BEGIN {", `-e:1:7: error: unclosed '{'`},
		{"BEGIN { if (1) {", `-e:1:16: error: unclosed '{'`},
		{"", `-e: error: the program has no probes`},
		{"  \n // c\n", `-e: error: the program has no probes`},
		{"BEGIN { $x = 1 \x01 }", `-e:1:16: error: unexpected byte 0x01`},
		{"BEGIN { $x = \"\n\"; }", `-e:1:14: error: unterminated string literal`},
		{"BEGIN { } /* x", `-e:1:11: error: unterminated comment`},
		{"BEGIN { printf(\"a\") ) }", `-e:1:21: error: unexpected ")", expected ';' or '}'`},
		{"BEGIN { ) }", `-e:1:9: error: unexpected ")", expected a statement or '}'`},
		{"BEGIN { 1 + 1 = 2; }", `-e:1:9: error: cannot assign to this expression`},
		{"BEGIN { $1 = 2; }", `-e:1:9: error: cannot assign to a positional parameter`},
		{"BEGIN { f() = 2; }", `-e:1:9: error: cannot assign to this expression`},
		{"BEGIN { for $x : @m {} }", `-e:1:13: error: unexpected "$x", expected '('`},
		{"BEGIN { for ($x in @m) {} }", `-e:1:17: error: unexpected "in", expected ':'`},
		{"BEGIN { let x = 1; }", `-e:1:13: error: unexpected "x", expected a variable ($name)`},
		{"BEGIN { @x = sizeof(; }", `-e:1:21: error: unexpected ";", expected an expression`},
		{"BEGIN { } import \"x\";", `-e:1:11: error: import is not supported`},
		{"config = { a = 1 } BEGIN { }", ""},
		{"config = { = 1 } BEGIN { }", `-e:1:12: error: unexpected "=", expected a setting (name = value) or '}'`},
		{"struct X BEGIN { }", `-e:1:10: error: unexpected "BEGIN", expected '{'`},
		{"macro m($a { }", `-e:1:12: error: unexpected "{", expected ')'`},
		{"#include\nBEGIN {}", `-e:1:9: error: expected <file> or "file" after #include`},
		{"#include <a.h> x\nBEGIN {}", `-e:1:16: error: unexpected text after #include`},
		{"#define\nBEGIN {}", `-e:1:8: error: expected a macro name after #define`},
		{"#\nBEGIN {}", `-e:1:1: error: expected a preprocessor directive after '#'`},
		{"BEGIN { } #include <a.h>", `-e:1:11: error: unexpected character '#'`},
		{"BEGIN { $x = (1,,); }", `-e:1:17: error: unexpected ",", expected an expression`},
	}
	for _, tt := range tests {
		prog, err := Parse("-e", tt.in)
		if tt.want == "" {
			if err != nil {
				t.Errorf("Parse(%q): unexpected error:\n%v", tt.in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q; got\n%s", tt.in, tt.want, ast.Dump(prog))
			continue
		}
		var list *diag.List
		if !errors.As(err, &list) {
			t.Errorf("Parse(%q): error is %T, want *diag.List", tt.in, err)
			continue
		}
		if prog != nil {
			t.Errorf("Parse(%q): got a program and an error", tt.in)
		}
		first, _, _ := strings.Cut(err.Error(), "\n")
		if first != tt.want {
			t.Errorf("Parse(%q) error:\n%v\nwant first line %q", tt.in, err, tt.want)
		}
	}
}

// TestPositions checks the position conventions documented in lang/ast.
func TestPositions(t *testing.T) {
	src := "kprobe:f /a/ {\n  @m[k] = $x.f + $y->g[2]--;\n  $z += (uint8)$w ? 1 : 2;\n}"
	prog, err := Parse("-e", src)
	if err != nil {
		t.Fatal(err)
	}
	probe := prog.Probes[0]
	assign := probe.Body.Stmts[0].(*ast.AssignStmt)
	check := func(what string, got ast.Pos, line, col int) {
		t.Helper()
		if got.Line != line || got.Col != col {
			t.Errorf("%s at %s, want %d:%d", what, got, line, col)
		}
		if lineStart := strings.Index(src, strings.Split(src, "\n")[line-1]); got.Offset != lineStart+col-1 {
			t.Errorf("%s offset %d, want %d", what, got.Offset, lineStart+col-1)
		}
	}
	check("probe", probe.At, 1, 1)
	check("predicate", probe.Predicate.Pos(), 1, 11)
	check("block", probe.Body.At, 1, 14)
	check("block close", probe.Body.Close, 4, 1)
	check("assign op", assign.At, 2, 9)
	check("assign stmt", assign.Pos(), 2, 3)
	m := assign.Target.(*ast.MapRef)
	check("map", m.At, 2, 3)
	check("map key", m.Keys[0].Pos(), 2, 6)
	sum := assign.Value.(*ast.Binary)
	check("binary op", sum.At, 2, 16)
	check("binary", sum.Pos(), 2, 11)
	field := sum.X.(*ast.FieldAccess)
	check("field dot", field.At, 2, 13)
	check("field", field.Pos(), 2, 11)
	post := sum.Y.(*ast.Postfix)
	check("postfix op", post.At, 2, 26)
	check("postfix", post.Pos(), 2, 18)
	idx := post.X.(*ast.Index)
	check("index bracket", idx.At, 2, 23)
	arrow := idx.X.(*ast.FieldAccess)
	check("arrow", arrow.At, 2, 20)
	if !arrow.Arrow {
		t.Error("-> not marked as Arrow")
	}
	compound := probe.Body.Stmts[1].(*ast.AssignStmt)
	check("compound op", compound.At, 3, 6)
	tern := compound.Value.(*ast.Ternary)
	check("ternary ?", tern.At, 3, 19)
	check("ternary", tern.Pos(), 3, 9)
	cast := tern.Cond.(*ast.Cast)
	check("cast", cast.At, 3, 9)
	check("cast type", cast.Type.At, 3, 10)
}

func TestCallClose(t *testing.T) {
	x, err := ParseExpr("-e", "f(a,\n  b )")
	if err != nil {
		t.Fatal(err)
	}
	c := x.(*ast.Call)
	if c.Close.Line != 2 || c.Close.Col != 5 {
		t.Errorf("call closes at %s, want 2:5", c.Close)
	}
}

// TestNoInternalNames makes sure participle's vocabulary never reaches the
// user.
func TestNoInternalNames(t *testing.T) {
	inputs := []string{
		"BEGIN { $x = ; }", "BEGIN { let }", "BEGIN { let $x: ; }", "BEGIN { if }",
		"BEGIN { for ( }", "BEGIN { for ($x }", "BEGIN { for ($x : }", "BEGIN { for ($x : 1.. }",
		"BEGIN { while }", "BEGIN { unroll }", "BEGIN { @x[ }", "BEGIN { $x = ( }",
		"BEGIN { $x = (uint8 }", "BEGIN { $x = sizeof }", "BEGIN { $x = offsetof( }",
		"BEGIN { $x = offsetof(struct a }", "BEGIN { $x = offsetof(struct a, }",
		"BEGIN { $x. }", "BEGIN { $x-> }", "BEGIN { $x[ }", "BEGIN { $x = 1 ? }",
		"BEGIN { $x = a ? b : }", "BEGIN { f( }", "BEGIN { f(1 }", "BEGIN { f(1, }",
		"BEGIN { $x = (struct }", "BEGIN { $x = (struct a }", "macro", "macro m", "macro m(",
		"macro m($a", "macro m($a,", "macro m() ", "fn", "fn f(", "fn f($a", "fn f($a:",
		"config", "config =", "config = {", "config = { a", "config = { a =", "struct",
		"struct A", "struct A {", "import", "import 1", "kprobe:a,", "kprobe:a /", "kprobe:a /1",
		"kprobe:a /1/", "BEGIN { } }", "BEGIN { else }", "BEGIN { break 1 }", "BEGIN { return return }",
		"BEGIN { $x = { }", "BEGIN { (int8[ }", "BEGIN { $x = (int8[a]) }", "BEGIN { if (1) {} else",
	}
	for _, in := range inputs {
		_, err := Parse("-e", in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", in)
			continue
		}
		checkMessage(t, in, err)
	}
}

// checkMessage fails when an error message leaks grammar internals.
func checkMessage(t *testing.T, in string, err error) {
	t.Helper()
	var list *diag.List
	if !errors.As(err, &list) {
		t.Errorf("Parse(%q): error is %T, want *diag.List", in, err)
		return
	}
	if len(list.Errs) == 0 {
		t.Errorf("Parse(%q): empty error list", in)
	}
	for _, e := range list.Errs {
		for _, bad := range []string{"Expr", "Tok", "Stmt", "Decl", "Tail", "<ident>", "<int>", "(expected", "unexpected token", "internal", "Primary", "Item"} {
			if strings.Contains(e.Msg, bad) || strings.Contains(e.Hint, bad) {
				t.Errorf("Parse(%q): message leaks %q: %s", in, bad, e.Msg)
			}
		}
		if e.Pos.IsValid() && (e.Pos.Offset < 0 || e.Pos.Offset > len(in)) {
			t.Errorf("Parse(%q): error position %v outside the input", in, e.Pos)
		}
	}
}

func TestProgramFields(t *testing.T) {
	prog, err := Parse("script.gt", "#include <a.h>\n#define N 4\nconfig = { k = 1 }\nstruct S { int a; }\nmacro m() { 1 }\nBEGIN { }\nEND { }\n")
	if err != nil {
		t.Fatal(err)
	}
	if prog.File != "script.gt" || len(prog.Includes) != 1 || len(prog.Defines) != 1 || len(prog.Config) != 1 ||
		len(prog.Types) != 1 || len(prog.Macros) != 1 || len(prog.Probes) != 2 {
		t.Errorf("unexpected program shape:\n%s", ast.Dump(prog))
	}
	if prog.Includes[0].Path != "a.h" || prog.Defines[0].Name != "N" || prog.Defines[0].Value != "4" ||
		prog.Config[0].Key != "k" || prog.Types[0].Body != " int a; " || prog.Macros[0].Name != "m" {
		t.Errorf("unexpected declaration contents:\n%s", ast.Dump(prog))
	}
}

func TestConcurrentParse(t *testing.T) {
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := Parse("-e", `kprobe:f /pid == 1/ { @[comm] = count(); }`)
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestGrammarEBNF(t *testing.T) {
	g := grammarEBNF()
	if !strings.Contains(g, "Program =") || !strings.Contains(g, "Block =") {
		t.Errorf("unexpected grammar:\n%s", g)
	}
}
