package main

import (
	"errors"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
	"github.com/gotrace/gotrace/lang/diag"
	"github.com/gotrace/gotrace/lang/parser"
)

// What the REPL does with the lines typed so far.
type inputKind int

const (
	// inputEmpty is nothing but blanks: a new prompt.
	inputEmpty inputKind = iota
	// inputMore needs another line: a brace, parenthesis or bracket is
	// open, a /* comment is, or the text ends where more must follow
	// (a probe without its block).
	inputMore
	// inputProgram is a program, to compile and run (or compile to show
	// its errors).
	inputProgram
	// inputStatements are statements, such as `print(@x)` or `@x = 0`,
	// run as the program statementsProgram makes of them.
	inputStatements
)

// classify decides what the lines typed so far (joined by newlines) are.
// done is set when the user entered an empty line to say the input is
// complete: then an input that is not a program is compiled anyway, to
// show its errors, unless something is still open.
func classify(text string, done bool) inputKind {
	if strings.TrimSpace(text) == "" {
		return inputEmpty
	}
	depth, comment := nesting(text)
	if depth > 0 || comment {
		return inputMore
	}
	_, err := parser.Parse(replSource, text)
	if err == nil {
		return inputProgram
	}
	stmts := statementsProgram(text)
	_, serr := parser.Parse(replSource, stmts)
	if serr == nil {
		return inputStatements
	}
	// Cut short, as a probe without its block or `@x =` are, unless
	// something was closed that was never opened.
	if !done && depth == 0 && (errorAtEnd(err, text) || errorAtEnd(serr, strings.TrimSuffix(stmts, statementsSuffix))) {
		return inputMore
	}
	if looksLikeStatements(text) {
		// Compiled as statements, to show the errors that say why.
		return inputStatements
	}
	return inputProgram
}

// looksLikeStatements reports whether text starts as statements do and
// no program can: with a map or a variable.
func looksLikeStatements(text string) bool {
	t := strings.TrimSpace(text)
	return strings.HasPrefix(t, "@") || strings.HasPrefix(t, "$")
}

// replSource names what is typed at the prompt in error messages.
const replSource = "<input>"

// nesting scans a program's text and returns how many (, [ and { are
// left open at its end (negative when more are closed than opened), and
// whether it ends inside a /* comment.
func nesting(text string) (depth int, inComment bool) {
	st := scan(text)
	return st.depth, st.inComment
}

// scanState is where the end of a program's text is.
type scanState struct {
	// depth counts the (, [ and { left open.
	depth int
	// inComment and inString are set when the text ends in a /* comment
	// or a string (a string ends at the end of its line).
	inComment, inString bool
	// inPredicate is set when the text ends between the slashes of a
	// probe's predicate.
	inPredicate bool
}

// scan reads text as the lexer would, as far as nesting goes: strings and
// comments are skipped, and a '/' outside any brackets opens or closes a
// predicate.
func scan(text string) scanState {
	var st scanState
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '"':
			st.inString = true
			for i++; i < len(text); i++ {
				if text[i] == '"' || text[i] == '\n' {
					st.inString = false
					break
				}
				if text[i] == '\\' && i+1 < len(text) && text[i+1] != '\n' {
					i++
				}
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				st.inComment = true
				return st
			}
			i += 2 + end + 1
		case c == '/' && st.depth == 0:
			st.inPredicate = !st.inPredicate
		case c == '(' || c == '[' || c == '{':
			st.depth++
			if c == '{' {
				st.inPredicate = false
			}
		case c == ')' || c == ']' || c == '}':
			st.depth--
		}
	}
	return st
}

// errorAtEnd reports whether the parser stopped at the end of the text
// (only blanks follow), where more input could make it a program.
func errorAtEnd(err error, text string) bool {
	var dl *diag.List
	if !errors.As(err, &dl) || len(dl.Errs) == 0 {
		return false
	}
	end := len(strings.TrimRight(text, " \t\r\n"))
	for _, e := range dl.Errs {
		if !e.Pos.IsValid() || e.Pos.Offset < end {
			return false
		}
	}
	return true
}

// Statements typed at the prompt run in a BEGIN probe, which a second
// BEGIN probe follows with exit(). The maps are not printed at exit: a
// statement prints what it means to (print(@x)). The user's text starts
// on the second line so that errors can be mapped back to it.
const (
	statementsPrefix = "config = { print_maps_on_exit = false } BEGIN {\n"
	statementsSuffix = "\n}\nBEGIN { exit(); }\n"
)

// statementText is what the statements typed mean: a bare map name is
// print() of it.
func statementText(text string) string {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), ";"))
	if isMapName(t) {
		return "print(" + t + ")"
	}
	return text
}

// isMapName reports whether s is a map's name: @ or @name.
func isMapName(s string) bool {
	if !strings.HasPrefix(s, "@") {
		return false
	}
	for _, c := range s[1:] {
		if !isIdentChar(c) {
			return false
		}
	}
	return true
}

func isIdentChar(c rune) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// statementsProgram is the program that runs the statements typed.
func statementsProgram(text string) string {
	return statementsPrefix + statementText(text) + statementsSuffix
}

// statementErrors rewrites the errors of compiling statementsProgram(text)
// so that they point into the statements as typed (after statementText):
// same lines and columns, and that text shown under the message. Other
// errors are returned as they are.
func statementErrors(err error, text string) error {
	var dl *diag.List
	if !errors.As(err, &dl) {
		return err
	}
	stmts := statementText(text)
	lines := strings.Count(stmts, "\n") + 1
	out := &diag.List{Src: &diag.Source{Name: replSource, Text: stmts}}
	for _, e := range dl.Errs {
		c := *e
		switch {
		case !c.Pos.IsValid() || c.Pos.Expansion != nil:
		case c.Pos.Line >= 2 && c.Pos.Line <= lines+1:
			c.Pos.Line--
			c.Pos.Offset -= len(statementsPrefix)
		default:
			// In the code around the statements: no position to show.
			c.Pos = ast.Pos{}
		}
		out.Errs = append(out.Errs, &c)
	}
	return out
}

// historyEntry is how an input is kept in the history: one line, so that
// Up brings all of it back. Lines are joined with spaces, as newlines mean
// nothing in the language, unless a // comment would then swallow the
// rest: such an input is kept as it was typed, a line per entry.
func historyEntry(lines []string) []string {
	var kept []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			kept = append(kept, strings.TrimSpace(l))
		}
	}
	joined := strings.Join(kept, " ")
	if len(kept) <= 1 || !strings.Contains(joined, "//") {
		if joined == "" {
			return nil
		}
		return []string{joined}
	}
	return kept
}
