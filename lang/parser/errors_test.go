package parser

import (
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

func TestFirstSet(t *testing.T) {
	tests := []struct{ ebnf, want string }{
		{`Expr`, `Expr`},
		{`"}"`, `"}"`},
		{`<predclose> Block`, `<predclose>`},
		{`("," AttachTok)* (<predopen> Expr <predclose>)? Block`, `"," <predopen> Block`},
		{`(TypeName ")" UnaryExpr | ParenElem CommaElem* ")")`, `TypeName ParenElem`},
		{`(?= "}") ";"`, `";"`},
		{`~"x" Expr`, ``},
		{`"a"? "b"* "c"+ "d"`, `"a" "b" "c"`},
		{`("|" | ")") X`, `"|" ")"`},
	}
	for _, tt := range tests {
		if got := strings.Join(firstSet(tt.ebnf), " "); got != tt.want {
			t.Errorf("firstSet(%s) = %s, want %s", tt.ebnf, got, tt.want)
		}
	}
}

func TestExpectedPart(t *testing.T) {
	tok := lexer.Token{Type: tokPunct, Value: "}"}
	if got := expectedPart(`unexpected token "}" (expected Expr ")")`, tok); got != `Expr ")"` {
		t.Errorf("expectedPart = %q", got)
	}
	if got := expectedPart(`unexpected token "}"`, tok); got != "" {
		t.Errorf("expectedPart without expectation = %q", got)
	}
}

func TestDescribeAll(t *testing.T) {
	tests := []struct {
		items []string
		want  string
	}{
		{[]string{"Expr"}, "an expression"},
		{[]string{`")"`, `","`}, "')' or ','"},
		{[]string{"TypeName", "Expr"}, "an expression"},
		{[]string{"<ident>", "<keyword>", "<typeword>", "<int>"}, "a field name"},
		{[]string{"Block", `"{"`}, "'{'"},
		{[]string{"SomethingInternal", "<rawbody>"}, ""},
		{[]string{`"a"`, `"b"`, `"c"`}, "'a', 'b' or 'c'"},
	}
	for _, tt := range tests {
		if got := describeAll(tt.items); got != tt.want {
			t.Errorf("describeAll(%v) = %q, want %q", tt.items, got, tt.want)
		}
	}
}
