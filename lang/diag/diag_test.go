package diag

import (
	"testing"

	"github.com/gotrace/gotrace/lang/ast"
)

// TestFormatExpansionNotes checks that an error in code copied from a
// macro's body names each call that led to it, innermost first, before
// the hint.
func TestFormatExpansionNotes(t *testing.T) {
	src := &Source{Name: "m.gt", Text: "macro one() { \"a\" + 1 }\nmacro two() { one }\nBEGIN {\n\tprint(two);\n}"}
	outer := &ast.Expansion{Macro: "two", Call: ast.Pos{Line: 4, Col: 8, Offset: 52}}
	inner := &ast.Expansion{Macro: "one", Call: ast.Pos{Line: 2, Col: 15, Offset: 39, Expansion: outer}}
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{
			name: "no expansion",
			err:  &Error{Pos: ast.Pos{Line: 1, Col: 19, Offset: 18}, Msg: "+ needs integers", Hint: "convert it"},
			want: "m.gt:1:19: error: + needs integers\n" +
				"macro one() { \"a\" + 1 }\n" +
				"                  ^\n" +
				"hint: convert it",
		},
		{
			name: "nested expansions",
			err:  &Error{Pos: ast.Pos{Line: 1, Col: 19, Offset: 18, Expansion: inner}, Msg: "+ needs integers", Hint: "convert it"},
			want: "m.gt:1:19: error: + needs integers\n" +
				"macro one() { \"a\" + 1 }\n" +
				"                  ^\n" +
				"note: in macro one, used at m.gt:2:15\n" +
				"macro two() { one }\n" +
				"              ^\n" +
				"note: in macro two, used at m.gt:4:8\n" +
				"    print(two);\n" +
				"          ^\n" +
				"hint: convert it",
		},
		{
			name: "call of unknown position",
			err:  &Error{Pos: ast.Pos{Line: 1, Col: 15, Offset: 14, Expansion: &ast.Expansion{Macro: "one"}}, Msg: "bad"},
			want: "m.gt:1:15: error: bad\n" +
				"macro one() { \"a\" + 1 }\n" +
				"              ^\n" +
				"note: in macro one, used at m.gt",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(src, tt.err); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestErrDistinguishesExpansions checks that the same error in two copies
// of one macro body is kept twice: each names a different call.
func TestErrDistinguishesExpansions(t *testing.T) {
	at := ast.Pos{Line: 1, Col: 1, Offset: 0}
	first, second := at, at
	first.Expansion = &ast.Expansion{Macro: "m", Call: ast.Pos{Line: 2, Col: 1, Offset: 10}}
	second.Expansion = &ast.Expansion{Macro: "m", Call: ast.Pos{Line: 3, Col: 1, Offset: 20}}
	l := &List{}
	l.Add(first, "bad")
	l.Add(second, "bad")
	l.Add(second, "bad")
	if l.Err(); l.Len() != 2 {
		t.Errorf("got %d errors, want 2", l.Len())
	}
}
