package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// kinds renders the token stream of src compactly: Type:value ...
func kinds(src string, exprOnly bool) string {
	names := map[lexer.TokenType]string{}
	for name, typ := range symbolNames() {
		names[typ] = name
	}
	res := scan("-e", src, exprOnly)
	var parts []string
	for _, tok := range res.toks {
		if tok.Type == tokEOF || tok.Type == tokInvalid {
			break
		}
		parts = append(parts, names[tok.Type]+":"+tok.Value)
	}
	if res.err != nil {
		parts = append(parts, "error("+res.err.Msg+")")
	}
	return strings.Join(parts, " ")
}

func TestLexTopLevel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"BEGIN {}", "Attach:BEGIN Punct:{ Punct:}"},
		{"BEGIN{}", "Attach:BEGIN Punct:{ Punct:}"},
		{"begin,end{}", "Attach:begin Punct:, Attach:end Punct:{ Punct:}"},
		{"tracepoint:syscalls:sys_enter_* {", "Attach:tracepoint:syscalls:sys_enter_* Punct:{"},
		{"uprobe:/usr/lib/libc.so.6:malloc {", "Attach:uprobe:/usr/lib/libc.so.6:malloc Punct:{"},
		{"uprobe:/bin/bash:readline/pid/{", "Attach:uprobe:/bin/bash:readline PredOpen:/ Ident:pid PredClose:/ Punct:{"},
		{"usdt:/path:prov:probe {", "Attach:usdt:/path:prov:probe Punct:{"},
		{`uprobe:"/a b/c":f {`, `Attach:uprobe:"/a b/c":f Punct:{`},
		{"uprobe:../bin/x:main {", "Attach:uprobe:../bin/x:main Punct:{"},
		{"kprobe:tcp_sendmsg+0x10 {", "Attach:kprobe:tcp_sendmsg+0x10 Punct:{"},
		{"software:page-faults:100 {", "Attach:software:page-faults:100 Punct:{"},
		{"watchpoint:0x10000:8:rw {", "Attach:watchpoint:0x10000:8:rw Punct:{"},
		{"*:foo {", "Attach:*:foo Punct:{"},
		{"kprobe:a,\n  kprobe:b\n{", "Attach:kprobe:a Punct:, Attach:kprobe:b Punct:{"},
		{"BEGIN // c\n{", "Attach:BEGIN Punct:{"},
		{"BEGIN < x >", "Attach:BEGIN BinOp:< Attach:x BinOp:>"},
		{"BEGIN<x>", "Attach:BEGIN BinOp:< Attach:x BinOp:>"},
		// predicates: only a '/' followed by '{' closes
		{"k /pid / 2 == 1/ {", "Attach:k PredOpen:/ Ident:pid BinOp:/ Int:2 BinOp:== Int:1 PredClose:/ Punct:{"},
		{"k /a/ /* c */ {", "Attach:k PredOpen:/ Ident:a PredClose:/ Punct:{"},
		{"k /a/\n// c\n{", "Attach:k PredOpen:/ Ident:a PredClose:/ Punct:{"},
		{"k /a/ <", "Attach:k PredOpen:/ Ident:a PredClose:/ BinOp:<"},
		{"k /a {", "Attach:k PredOpen:/ Ident:a Punct:{"},
		{"k /a/", "Attach:k PredOpen:/ Ident:a PredClose:/"},
		// code mode
		{"k { a / b }", "Attach:k Punct:{ Ident:a BinOp:/ Ident:b Punct:}"},
		{"k { { } } x", "Attach:k Punct:{ Punct:{ Punct:} Punct:} Attach:x"},
		// declarations
		{"config = { a = 1 }", "Keyword:config Assign:= Punct:{ Ident:a Assign:= Int:1 Punct:}"},
		{"config=", "Keyword:config Assign:="},
		{"struct X { int a; } ;", "Keyword:struct Ident:X Punct:{ RawBody: int a;  Punct:} Punct:;"},
		{"enum { A = '}' /* } */ }", "Keyword:enum Punct:{ RawBody: A = '}' /* } */  Punct:}"},
		{"macro m($a, @b, c) { $a }", "Keyword:macro Ident:m Punct:( Var:$a Punct:, Map:@b Punct:, Ident:c Punct:) Punct:{ Var:$a Punct:}"},
		{"import \"x\" BEGIN", "Keyword:import String:\"x\" Attach:BEGIN"},
		{"structs:x {", "Attach:structs:x Punct:{"},
		{"config:x {", "Attach:config:x Punct:{"},
		// preprocessor
		{"#include <linux/sched.h>\nBEGIN", "Include:<linux/sched.h> Attach:BEGIN"},
		{"#include \"a.h\" // c\n", `Include:"a.h"`},
		{"#define A 1 + \\\n 2\nBEGIN", "Define:A DefineValue:1 + 2 Attach:BEGIN"},
		{"#define A\n", "Define:A DefineValue:"},
		{"#define S \"a  b\"  /* c */ x\n", `Define:S DefineValue:"a  b" x`},
		{"#!/usr/bin/gotrace\nBEGIN", "Attach:BEGIN"},
		{"#pragma once", "error(unsupported preprocessor directive #pragma)"},
		{"BEGIN #x", "Attach:BEGIN error(unexpected character '#')"},
	}
	for _, tt := range tests {
		if got := kinds(tt.in, false); got != tt.want {
			t.Errorf("lex(%q):\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestLexCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"$x $1 $# @ @m @_m x_1", "Var:$x Positional:$1 Positional:$# Map:@ Map:@m Map:@_m Ident:x_1"},
		{"if else while for unroll break continue return let sizeof offsetof struct",
			"Keyword:if Keyword:else Keyword:while Keyword:for Keyword:unroll Keyword:break Keyword:continue Keyword:return Keyword:let Keyword:sizeof Keyword:offsetof Keyword:struct"},
		{"uint8 unsigned long string", "TypeWord:uint8 TypeWord:unsigned TypeWord:long TypeWord:string"},
		{"a->b.c", "Ident:a Member:-> Ident:b Member:. Ident:c"},
		{"<<= >>= << >> <= >= < >", "Assign:<<= Assign:>>= BinOp:<< BinOp:>> BinOp:<= BinOp:>= BinOp:< BinOp:>"},
		{"++ -- + - * & ! ~", "IncDec:++ IncDec:-- BinOp:+ AmbOp:- AmbOp:* AmbOp:& UnOp:! UnOp:~"},
		{"&& || == != ^ | %", "BinOp:&& BinOp:|| BinOp:== BinOp:!= BinOp:^ BinOp:| BinOp:%"},
		{"= += -= *= /= %= &= |= ^=", "Assign:= Assign:+= Assign:-= Assign:*= Assign:/= Assign:%= Assign:&= Assign:|= Assign:^="},
		{"0..10", "Int:0 Punct:.. Int:10"},
		{"? : ; , ( ) [ ]", "Punct:? Punct:: Punct:; Punct:, Punct:( Punct:) Punct:[ Punct:]"},
		{"$t.0.1", "Var:$t Member:. Int:0 Member:. Int:1"},
		{"10ms 0x1F 0b11 0755 1_000 1e6 2ul", "Int:10ms Int:0x1F Int:0b11 Int:0755 Int:1_000 Int:1e6 Int:2ul"},
		{`"a\"b" "" "/* no */"`, `String:"a\"b" String:"" String:"/* no */"`},
		{"a /* x */ b // y\nc", "Ident:a Ident:b Ident:c"},
		{"1.5", "error(floating-point numbers are not supported)"},
		{"'a'", "error(unexpected character ''')"},
		{"$", "error(expected a variable name after '$')"},
		{"$0", "error(there is no positional parameter $0; they start at $1)"},
		{"a \x00", "Ident:a error(unexpected byte 0x00)"},
		{"a é", "Ident:a error(unexpected character 'é' (U+00E9))"},
		{"/* x", "error(unterminated comment)"},
		{"a" + strings.Repeat("[", maxNesting+1), "error(too many nested brackets)"},
		{strings.Repeat("(", maxNesting+1), "error(expression is nested too deeply)"},
		{strings.Repeat("- ", maxNesting+1) + "x", "error(expression is nested too deeply)"},
	}
	for _, tt := range tests {
		got := kinds(tt.in, true)
		if strings.HasPrefix(tt.want, "error(") {
			if !strings.HasSuffix(got, tt.want) {
				t.Errorf("lex(%q):\n got %s\nwant ... %s", tt.in, got, tt.want)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("lex(%q):\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestLexPositions(t *testing.T) {
	res := scan("-e", "BEGIN {\n\t$x = \"é\" + 1;\n}", false)
	var got []string
	for _, tok := range res.toks {
		got = append(got, fmt.Sprintf("%s@%d:%d/%d", tok.Value, tok.Pos.Line, tok.Pos.Column, tok.Pos.Offset))
	}
	want := `BEGIN@1:1/0 {@1:7/6 $x@2:2/9 =@2:5/12 "é"@2:7/14 +@2:12/19 1@2:14/21 ;@2:15/22 }@3:1/24 @3:2/25`
	if s := strings.Join(got, " "); s != want {
		t.Errorf("positions:\n got %s\nwant %s", s, want)
	}
}

func TestScanInt(t *testing.T) {
	tests := []struct {
		in     string
		value  uint64
		suffix string
		err    string
	}{
		{"0", 0, "", ""},
		{"42", 42, "", ""},
		{"0x2A", 42, "", ""},
		{"0X_ff", 255, "", ""},
		{"0b101", 5, "", ""},
		{"0B1_0", 2, "", ""},
		{"017", 15, "", ""},
		{"1_000", 1000, "", ""},
		{"1e3", 1000, "", ""},
		{"2E0", 2, "", ""},
		{"0e5", 0, "", ""},
		{"10ms", 10, "ms", ""},
		{"1e3us", 1000, "us", ""},
		{"0x10u", 16, "u", ""},
		{"18446744073709551615", 1<<64 - 1, "", ""},
		{"0xffffffffffffffff", 1<<64 - 1, "", ""},
		{"18446744073709551616", 0, "", "too large"},
		{"1e20", 0, "", "too large"},
		{"0x", 0, "", "no digits"},
		{"0b2", 0, "", "no digits"},
		{"08", 0, "", "invalid digit '8' in octal literal"},
		{"1x2", 0, "", "invalid integer literal 1x2"},
		{"1_u_", 0, "", "invalid integer literal 1_u_"},
	}
	for _, tt := range tests {
		end, lit, msg, _ := scanInt(tt.in, 0)
		switch {
		case tt.err != "":
			if !strings.Contains(msg, tt.err) {
				t.Errorf("scanInt(%q): error %q, want %q", tt.in, msg, tt.err)
			}
		case msg != "":
			t.Errorf("scanInt(%q): unexpected error %q", tt.in, msg)
		case lit.value != tt.value || lit.suffix != tt.suffix || end != len(tt.in):
			t.Errorf("scanInt(%q) = %d %q (end %d), want %d %q", tt.in, lit.value, lit.suffix, end, tt.value, tt.suffix)
		}
	}
}

// TestParseUint checks numbers as attach points spell them: integer
// literals without a suffix.
func TestParseUint(t *testing.T) {
	tests := []struct {
		in    string
		value uint64
		err   string
	}{
		{"100", 100, ""},
		{"1e6", 1000000, ""},
		{"1_000_000", 1000000, ""},
		{"0x10", 16, ""},
		{"0", 0, ""},
		{"", 0, `"" is not a whole number`},
		{"-1", 0, `"-1" is not a whole number`},
		{"10ms", 0, `"10ms" is not a whole number`},
		{"1.5", 0, `"1.5" is not a whole number`},
		{"1e20", 0, "integer literal 1e20 is too large"},
		{"12abc", 0, `"12abc" is not a whole number`},
		{"1x2", 0, "invalid integer literal 1x2"},
	}
	for _, tt := range tests {
		v, err := ParseUint(tt.in)
		switch {
		case tt.err != "":
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseUint(%q) = %d, %v; want error %q", tt.in, v, err, tt.err)
			}
		case err != nil || v != tt.value:
			t.Errorf("ParseUint(%q) = %d, %v; want %d", tt.in, v, err, tt.value)
		}
	}
}

func TestScanString(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{`""`, "", ""},
		{`"abc"`, "abc", ""},
		{`"\n\t\r\\\"\'\0"`, "\n\t\r\\\"'\x00", ""},
		{`"\a\b\f\v\e\?"`, "\a\b\f\v\x1b?", ""},
		{`"\x41\x4a\x4Ag"`, "AJJg", ""},
		{`"\101\0101\7"`, "A\x081\x07", ""},
		{`"\377"`, "\xff", ""},
		{`"é"`, "é", ""},
		{`"\400"`, "", "out of range"},
		{`"\xg"`, "", `\x must be followed`},
		{`"\q"`, "", `unknown escape sequence \q`},
		{`"abc`, "", "unterminated string literal"},
		{"\"ab\ncd\"", "", "unterminated string literal"},
		{`"ab\`, "", "unterminated string literal"},
	}
	for _, tt := range tests {
		end, v, msg, _ := scanString(tt.in, 0)
		switch {
		case tt.err != "":
			if !strings.Contains(msg, tt.err) {
				t.Errorf("scanString(%q): error %q, want %q", tt.in, msg, tt.err)
			}
		case msg != "":
			t.Errorf("scanString(%q): unexpected error %q", tt.in, msg)
		case v != tt.want || end != len(tt.in):
			t.Errorf("scanString(%q) = %q (end %d), want %q", tt.in, v, end, tt.want)
		}
	}
}

// TestLexDefinition uses the lexer through participle's interface.
func TestLexDefinition(t *testing.T) {
	lex, err := lexDef{}.Lex("-e", strings.NewReader("BEGIN { $x = 1; }"))
	if err != nil {
		t.Fatal(err)
	}
	toks, err := lexer.ConsumeAll(lex)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 8 || toks[0].Type != tokAttach || !toks[7].EOF() {
		t.Errorf("unexpected tokens %v", toks)
	}
}
