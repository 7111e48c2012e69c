// Package parser turns the text of a gotrace (bpftrace-compatible) script
// into the syntax tree of package lang/ast.
//
// It works in these layers, one file each:
//
//   - lexer.go: a hand-written, context-sensitive lexer. bpftrace cannot be
//     tokenized without knowing where you are: at the top level
//     "uprobe:/bin/bash:readline" is one raw attach point and '/' opens a
//     predicate, while inside an action block '/' divides. The lexer tracks
//     braces, predicates and declarations to decide, and it also handles
//     comments, "#!", #include and #define lines. It implements participle's
//     lexer.Definition. literal.go decodes integer and string literals for it.
//   - grammar.go: a participle grammar (structs with tags) over those tokens.
//     It is deliberately LL(1) and flat: binary expressions are a plain
//     operand/operator list, and optional ';' separators are checked later,
//     so the grammar stays small and every error is found at the first token
//     that cannot fit.
//   - fast.go: a recursive-descent parser for the same grammar, which
//     builds the same parse tree. Every script that parses is parsed by
//     it: building participle's parser takes milliseconds, most of the
//     start-up of a small script. At the first token that does not fit it
//     gives up, and participle parses the script for its error.
//   - convert.go: turns the participle parse tree into lang/ast nodes,
//     applying C operator precedence, and reports the errors that are
//     easier to find on the tree (a missing ';', a bad assignment target).
//   - errors.go: turns participle's messages ("unexpected token ... (expected
//     UnaryExpr)") into plain words with a position, a caret and a hint,
//     as *diag.List.
//
// The participle parser is built once, when first needed (for a script
// with a syntax error, or ParseExpr), and is immutable; the package has no
// other state, so Parse is safe for concurrent use.
package parser

import (
	"fmt"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// grammars holds the participle parsers for a whole program and for a lone
// expression. Both share one grammar.
type grammars struct {
	program *participle.Parser[program]
	expr    *participle.Parser[expr]
}

// buildGrammars builds the participle parsers; it runs once.
var buildGrammars = sync.OnceValues(func() (*grammars, error) {
	p, err := participle.Build[program](
		participle.Lexer(lexDef{}),
		participle.UseLookahead(0),
	)
	if err != nil {
		return nil, err
	}
	e, err := participle.ParserForProduction[expr](p)
	if err != nil {
		return nil, err
	}
	return &grammars{program: p, expr: e}, nil
})

// Parse parses a script. name is what errors show ("-e" or a file path).
// On failure the error is a *diag.List (possibly several errors) whose
// messages have file:line:col, the source line, and a caret; the returned
// program is then nil.
func Parse(name, text string) (*ast.Program, error) {
	src := &diag.Source{Name: name, Text: text}
	errs := &diag.List{Src: src}
	res := scan(name, text, false)
	tree, ok := parseFast(res)
	if !ok {
		tree = parseTree[program](errs, res, false, func(g *grammars) *participle.Parser[program] { return g.program })
	}
	if tree == nil {
		return nil, errs.Err()
	}
	c := &converter{errs: errs}
	prog := c.program(name, tree)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return prog, nil
}

// ParseExpr parses a single expression (used by tests and by the REPL).
// Errors are reported as by Parse.
func ParseExpr(name, text string) (ast.Expr, error) {
	src := &diag.Source{Name: name, Text: text}
	errs := &diag.List{Src: src}
	tree := parseTree[expr](errs, scan(name, text, true), true, func(g *grammars) *participle.Parser[expr] { return g.expr })
	if tree == nil {
		return nil, errs.Err()
	}
	c := &converter{errs: errs}
	x := c.expr(tree)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return x, nil
}

// parseTree runs the participle parser chosen by pick on the tokens of a
// scan. On failure it records the error in errs and returns nil.
func parseTree[G any](errs *diag.List, res *scanResult, exprOnly bool, pick func(*grammars) *participle.Parser[G]) (tree *G) {
	defer func() {
		// The grammar is built to never panic; should it happen anyway,
		// report it as an error rather than crash the tracer.
		if r := recover(); r != nil {
			errs.Add(ast.Pos{}, "internal parser error: %v", r)
			tree = nil
		}
	}()
	g, err := buildGrammars()
	if err != nil {
		errs.Add(ast.Pos{}, "internal parser error: %v", err)
		return nil
	}
	peek, err := lexer.Upgrade(&tokenStream{toks: res.toks})
	if err != nil {
		errs.Add(ast.Pos{}, "internal parser error: %v", err)
		return nil
	}
	tree, err = pick(g).ParseFromLexer(peek)
	if err != nil {
		t := &translator{res: res, exprOnly: exprOnly}
		errs.Errs = append(errs.Errs, t.translate(err))
		return nil
	}
	if res.err != nil {
		// Unreachable: the tokInvalid token matches nothing. Be safe.
		errs.Errs = append(errs.Errs, res.err)
		return nil
	}
	return tree
}

// grammarEBNF returns the grammar in EBNF form, for documentation and
// debugging.
func grammarEBNF() string {
	g, err := buildGrammars()
	if err != nil {
		return fmt.Sprint("error: ", err)
	}
	return g.program.String()
}
