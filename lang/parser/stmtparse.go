package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// This file parses statements the way exprparse.go parses expressions:
// item implements participle.Parseable, a hand-written reader takes the
// common statements (expression statements and assignments, if/else,
// nested blocks, a stray ';'), and participle parses the rest with the
// itemGrammar production: let, loops, break/continue/return, and any
// statement with a syntax error, which participle then reports.
//
// Without this, participle tried each of a statement's nine alternatives
// in turn, and all of them once more at every block's closing brace.

// item is a statement: itemGrammar, parsed by Parse.
type item itemGrammar

var _ participle.Parseable = (*item)(nil)

// Parse implements participle.Parseable: it reads a statement at the
// lexer's position, or reports participle.NextMatch when none starts there.
func (it *item) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	switch t.Value {
	case "let", "while", "for", "unroll", "break", "continue", "return":
		return it.parseWithGrammar(lex)
	}
	if t.Value != "if" && t.Value != "{" && t.Value != ";" && !startsExpr(t) {
		return participle.NextMatch
	}
	start := lex.MakeCheckpoint()
	r := stmtReader{exprReader{lex: lex}}
	if s := r.item(); s != nil {
		*it = *s
		return nil
	}
	if r.err != nil {
		return r.err // see expr.Parse
	}
	lex.LoadCheckpoint(start)
	return it.parseWithGrammar(lex)
}

// parseWithGrammar parses the statement at the lexer's position with
// participle.
func (it *item) parseWithGrammar(lex *lexer.PeekingLexer) error {
	g, err := buildGrammars()
	if err != nil {
		return err
	}
	tree, err := g.item.ParseFromLexer(lex, participle.AllowTrailing(true))
	if err != nil {
		return err
	}
	*it = item(*tree)
	return nil
}

// stmtReader reads the common statements straight from the token stream.
// Like exprReader's, its methods return nil for anything they do not
// handle, with err set when participle has already reported an error.
type stmtReader struct {
	exprReader
}

// item reads an if statement, a block, a ';', or an expression statement
// or assignment with its optional ';'.
func (r *stmtReader) item() *item {
	start := r.lex.RawCursor()
	t := r.lex.Peek()
	it := &item{}
	switch t.Value {
	case "if":
		if it.If = r.ifStmt(); it.If == nil {
			return nil
		}
	case "{":
		if it.Block = r.block(); it.Block == nil {
			return nil
		}
	case ";":
		r.lex.Next()
		it.Semi = true
	default:
		x := r.nested()
		if x == nil {
			return nil
		}
		it.Expr = &exprStmt{X: x}
		if a := r.lex.Peek(); a.Type == tokAssign {
			r.lex.Next()
			value := r.nested()
			if value == nil {
				return nil
			}
			it.Expr.Assign = &assignTail{Pos: a.Pos, Op: a.Value, Value: value}
		}
		it.Term = r.accept(";")
	}
	it.Tokens = r.lex.Range(start, r.lex.RawCursor())
	return it
}

// ifStmt reads `if cond { ... }` and its else branch.
func (r *stmtReader) ifStmt() *ifStmt {
	s := &ifStmt{Pos: r.lex.Next().Pos}
	if s.Cond = r.nested(); s.Cond == nil {
		return nil
	}
	if s.Then = r.block(); s.Then == nil {
		return nil
	}
	if !r.accept("else") {
		return s
	}
	switch r.lex.Peek().Value {
	case "if":
		s.ElseIf = r.ifStmt()
		if s.ElseIf == nil {
			return nil
		}
	case "{":
		if s.Else = r.block(); s.Else == nil {
			return nil
		}
	default:
		return nil
	}
	return s
}

// block reads `{ items }`.
func (r *stmtReader) block() *block {
	open := r.lex.Peek()
	if open.Value != "{" {
		return nil
	}
	start := r.lex.RawCursor()
	r.lex.Next()
	b := &block{Pos: open.Pos}
	for !r.accept("}") {
		it := new(item)
		if err := it.Parse(r.lex); err != nil {
			if err != participle.NextMatch {
				r.err = err
			}
			return nil
		}
		b.Items = append(b.Items, it)
	}
	b.Tokens = r.lex.Range(start, r.lex.RawCursor())
	return b
}
