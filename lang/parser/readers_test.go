package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// peekingLexer scans src as code and returns participle's lexer over it.
func peekingLexer(t *testing.T, src string) *lexer.PeekingLexer {
	t.Helper()
	res := scan("t", src, true)
	if res.err != nil {
		t.Fatalf("scan %q: %v", src, res.err)
	}
	lex, err := lexer.Upgrade(&tokenStream{toks: res.toks})
	if err != nil {
		t.Fatal(err)
	}
	return lex
}

// TestExprReaderMatchesGrammar checks that for each form exprReader reads,
// it builds the tree participle builds from exprGrammar, and stops at the
// same token. (Inner expressions go through expr.Parse in both, so each
// form is also listed on its own.)
func TestExprReaderMatchesGrammar(t *testing.T) {
	g, err := buildGrammars()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		`1`, `"s"`, `$x`, `$1`, `$#`, `comm`, `@`, `@m`, `@m[1]`, `@m[1, "a", $x]`,
		`f()`, `f(1)`, `f(1, g(2), @m[3])`, `a.b`, `a->b`, `a.0`, `a.if`, `a.int`,
		`a[1]`, `a[1][2].c->d`, `$x++`, `$x--`, `-1`, `!$x`, `~$x`, `*$p`, `&$v`, `++$x`, `- - 1`,
		`1 + 2`, `1 + 2 * 3 - 4`, `a && b || !c`, `a == b ? c : d`, `a ? b ? c : d : e`,
		`(1)`, `(1, 2)`, `(1,)`, `(a = 1, b = 2)`, `(1, (2, 3))`, `((1))`,
		`args->filename`, `str(args.filename)`, `@x[pid, comm] + 1`,
		`1 ;`, `a b`, `f(1) }`, `@m[1] = 2`, `$x += 1`,
		// Operands the reader hands to participle's primary production.
		`(int8)$x`, `(struct task *)$x`, `1 + (uint64)2`, `sizeof(int)`, `offsetof(struct a, b)`,
		`{ 1 }`, `f(sizeof($x), { 1 })`, `typeof(1)`,
	} {
		t.Run(src, func(t *testing.T) {
			lex := peekingLexer(t, src)
			r := exprReader{lex: lex}
			got := r.expr()
			if got == nil {
				t.Fatalf("the reader declined %q (err %v)", src, r.err)
			}
			gotNext := *lex.Peek()

			lex = peekingLexer(t, src)
			want, err := g.expr.ParseFromLexer(lex, participleAllowTrailing)
			if err != nil {
				t.Fatalf("participle: %v", err)
			}
			if !reflect.DeepEqual((*exprGrammar)(got), want) {
				t.Errorf("trees differ:\nreader:     %s\nparticiple: %s", dumpTree(got), dumpTree(want))
			}
			if next := *lex.Peek(); next != gotNext {
				t.Errorf("the reader stopped at %v, participle at %v", gotNext, next)
			}
		})
	}
}

// TestExprReaderDeclines checks that the reader leaves syntax errors at
// its own level to participle, which describes them.
func TestExprReaderDeclines(t *testing.T) {
	for _, src := range []string{`1 +`, `f(1`, `a.`, `@m[1`, `(1, 2`, `a ? b`, `a ? b :`} {
		r := exprReader{lex: peekingLexer(t, src)}
		if x := r.expr(); x != nil || r.err != nil {
			t.Errorf("the reader read %q (err %v); it should leave it to participle", src, r.err)
		}
		var x expr
		if err := x.Parse(peekingLexer(t, src)); err == nil {
			t.Errorf("expr.Parse(%q) succeeded", src)
		}
	}
}

// TestStmtReaderMatchesGrammar is TestExprReaderMatchesGrammar for
// statements.
func TestStmtReaderMatchesGrammar(t *testing.T) {
	g, err := buildGrammars()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{
		`;`, `f();`, `f()`, `@x = 1;`, `@x[1] += $y`, `$x++;`, `{ }`, `{ f(); g() }`, `{ { ; } }`,
		`if (a) { }`, `if a { f(); } else { g(); }`, `if (a) { } else if (b) { @x = 1; } else { }`,
		`if (a) { if (b) { c() } }`, `@x = count(); @y = 2`,
	} {
		t.Run(src, func(t *testing.T) {
			lex := peekingLexer(t, src)
			r := stmtReader{exprReader{lex: lex}}
			got := r.item()
			if got == nil {
				t.Fatalf("the reader declined %q (err %v)", src, r.err)
			}
			gotNext := *lex.Peek()

			lex = peekingLexer(t, src)
			want, err := g.item.ParseFromLexer(lex, participleAllowTrailing)
			if err != nil {
				t.Fatalf("participle: %v", err)
			}
			if !reflect.DeepEqual((*itemGrammar)(got), want) {
				t.Errorf("trees differ:\nreader:     %s\nparticiple: %s", dumpTree(got), dumpTree(want))
			}
			if next := *lex.Peek(); next != gotNext {
				t.Errorf("the reader stopped at %v, participle at %v", gotNext, next)
			}
		})
	}
}

// TestNestedErrorsAreLinear checks that a syntax error deep inside nested
// expressions is reported without parsing the levels above it again and
// again: each level re-parsed would double the work, and 60 levels would
// never finish.
func TestNestedErrorsAreLinear(t *testing.T) {
	for _, c := range []struct{ tmpl, open string }{
		{"BEGIN { @x = %s1 + ; }", "(1 + sizeof($x) + ("},
		{"BEGIN { @x = %s(int8)1 + ; }", "(1 + sizeof($x) + ("},
		{"BEGIN { @x = %sf(1, sizeof($x), ; }", "(1 + sizeof($x) + ("},
		{"BEGIN { %s @x = ; }", "if (a) { f(); "},
		{"BEGIN { %s @x = ; }", "{ @y = (int8)1; "},
	} {
		src := fmt.Sprintf(c.tmpl, strings.Repeat(c.open, 60))
		if _, err := Parse("deep.gt", src); err == nil {
			t.Errorf("%q parsed without error", src)
		}
	}
}

// TestPartsMatchSequential parses one long script made of every golden
// script, in parts and in one piece, and compares the trees.
func TestPartsMatchSequential(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.gt"))
	var b strings.Builder
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(src, []byte("#!")) {
			src = src[bytes.IndexByte(src, '\n')+1:] // only the first line may be one
		}
		b.Write(src)
		b.WriteString("\n")
	}
	text := b.String()
	res := scan("all.gt", text, false)
	if res.err != nil {
		t.Fatal(res.err)
	}
	g, err := buildGrammars()
	if err != nil {
		t.Fatal(err)
	}
	peek, err := lexer.Upgrade(&tokenStream{toks: res.toks})
	if err != nil {
		t.Fatal(err)
	}
	whole, err := g.program.ParseFromLexer(peek)
	if err != nil {
		t.Fatalf("the joined golden scripts do not parse: %v", err)
	}
	want := ast.Dump((&converter{errs: &diag.List{}}).program("all.gt", whole))
	for _, n := range []int{2, 3, 7, 50} {
		parts := cutParts(res.toks, n)
		if len(parts) < 2 {
			t.Fatalf("%d: the script was not cut", n)
		}
		tree := parseParts(g.program, parts)
		if tree == nil {
			t.Fatalf("%d: a part failed to parse", n)
		}
		if got := ast.Dump((&converter{errs: &diag.List{}}).program("all.gt", tree)); got != want {
			t.Errorf("%d parts: the tree differs from the sequential parse", n)
		}
	}
	// A part that fails makes the whole parse fall back.
	broken := strings.Replace(text, "}", "} }", 1)
	if _, err := Parse("broken.gt", broken); err == nil {
		t.Error("a script with a stray '}' parsed")
	}
}

// participleAllowTrailing lets a production's parse stop before the end.
var participleAllowTrailing = participle.AllowTrailing(true)

func dumpTree(x any) string {
	b, err := json.Marshal(x)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
