// Package parser turns the text of a gotrace (bpftrace-compatible) script
// into the syntax tree of package lang/ast.
//
// It works in layers:
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
//   - exprparse.go, stmtparse.go: expressions and statements, most of a
//     script, are read by hand from the same tokens into the same parse
//     tree, since participle's trial of alternatives made large scripts
//     slow to parse; participle still parses the rarer forms and every
//     statement or expression with a syntax error, and reports the error.
//     parts.go parses a large script's top-level items on all CPUs.
//   - convert.go: turns the participle parse tree into lang/ast nodes,
//     applying C operator precedence, and reports the errors that are
//     easier to find on the tree (a missing ';', a bad assignment target).
//   - errors.go: turns participle's messages ("unexpected token ... (expected
//     UnaryExpr)") into plain words with a position, a caret and a hint,
//     as *diag.List.
//
// The participle parser is built once, on first use, and is immutable; the
// package has no other state, so Parse is safe for concurrent use.
package parser

import (
	"fmt"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
)

// grammars holds the participle parsers: for a whole program, for a lone
// expression, for an operand and for a statement (see exprparse.go and
// stmtparse.go for the last three).
type grammars struct {
	program *participle.Parser[program]
	expr    *participle.Parser[exprGrammar]
	primary *participle.Parser[primary]
	item    *participle.Parser[itemGrammar]
}

// buildGrammars builds the participle parsers; it runs once.
var buildGrammars = sync.OnceValues(func() (*grammars, error) {
	opts := []participle.Option{participle.Lexer(lexDef{}), participle.UseLookahead(0)}
	p, err := participle.Build[program](opts...)
	if err != nil {
		return nil, err
	}
	e, err := participle.Build[exprGrammar](opts...)
	if err != nil {
		return nil, err
	}
	prim, err := participle.ParserForProduction[primary](e)
	if err != nil {
		return nil, err
	}
	it, err := participle.Build[itemGrammar](opts...)
	if err != nil {
		return nil, err
	}
	return &grammars{program: p, expr: e, primary: prim, item: it}, nil
})

// Parse parses a script. name is what errors show ("-e" or a file path).
// On failure the error is a *diag.List (possibly several errors) whose
// messages have file:line:col, the source line, and a caret; the returned
// program is then nil.
func Parse(name, text string) (*ast.Program, error) {
	src := &diag.Source{Name: name, Text: text}
	errs := &diag.List{Src: src}
	tree := parseTree[program](errs, name, text, false, func(g *grammars) *participle.Parser[program] { return g.program })
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
	tree := parseTree[exprGrammar](errs, name, text, true, func(g *grammars) *participle.Parser[exprGrammar] { return g.expr })
	if tree == nil {
		return nil, errs.Err()
	}
	c := &converter{errs: errs}
	x := c.expr((*expr)(tree))
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return x, nil
}

// parseTree lexes text and runs the participle parser chosen by pick. On
// failure it records the error in errs and returns nil.
func parseTree[G any](errs *diag.List, name, text string, exprOnly bool, pick func(*grammars) *participle.Parser[G]) (tree *G) {
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
	res := scan(name, text, exprOnly)
	if p, ok := any(pick(g)).(*participle.Parser[program]); ok && res.err == nil {
		if tree := parseInParts(p, res.toks); tree != nil {
			return any(tree).(*G)
		}
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
