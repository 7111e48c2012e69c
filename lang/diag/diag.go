// Package diag reports problems in a script the way a user wants to read
// them: file:line:col, the message, the offending source line and a caret
// under the column, and optionally a hint saying what to do.
//
// Every stage (parser, checker, code generator, verifier-log mapper) reports
// through a List, so errors are collected rather than aborting at the first.
package diag

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gotrace/gotrace/lang/ast"
)

// Source is a script's text and the name to show for it.
type Source struct {
	Name string // "-e", or the file path
	Text string

	// lines is Text split into lines, made on the first call of Line:
	// the code generator asks for the line of every instruction, and
	// splitting the text each time made compiling quadratic.
	lines []string
}

// Line returns the text of 1-based line n without its newline.
func (s *Source) Line(n int) string {
	if s.lines == nil {
		s.lines = strings.Split(s.Text, "\n")
	}
	if n < 1 || n > len(s.lines) {
		return ""
	}
	return strings.TrimRight(s.lines[n-1], "\r")
}

// Error is one problem at one position.
type Error struct {
	Pos  ast.Pos
	Msg  string
	Hint string // optional: what the user can do about it
}

// List collects errors for one source.
type List struct {
	Src  *Source
	Errs []*Error
}

// Add records an error at pos.
func (l *List) Add(pos ast.Pos, format string, args ...any) *Error {
	e := &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
	l.Errs = append(l.Errs, e)
	return e
}

// Len is the number of errors collected.
func (l *List) Len() int { return len(l.Errs) }

// Err returns l as an error, or nil when it holds no errors. Errors are
// sorted by position and exact duplicates are dropped.
func (l *List) Err() error {
	if len(l.Errs) == 0 {
		return nil
	}
	sort.SliceStable(l.Errs, func(i, j int) bool {
		return l.Errs[i].Pos.Offset < l.Errs[j].Pos.Offset
	})
	out := l.Errs[:0]
	for i, e := range l.Errs {
		if i > 0 && e.Pos == l.Errs[i-1].Pos && e.Msg == l.Errs[i-1].Msg {
			continue
		}
		out = append(out, e)
	}
	l.Errs = out
	return l
}

// Error renders every error, each with its source line and caret.
func (l *List) Error() string {
	var b strings.Builder
	for i, e := range l.Errs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(Format(l.Src, e))
	}
	return b.String()
}

// maxExpansionNotes bounds the "in macro" notes of one error.
const maxExpansionNotes = 64

// writeLine writes the source line of pos and a caret under its column,
// each on a new line, when both are known.
func writeLine(b *strings.Builder, src *Source, pos ast.Pos) {
	if src == nil || !pos.IsValid() {
		return
	}
	line := src.Line(pos.Line)
	// Expand tabs so that the caret lines up whatever the terminal's tab width.
	var shown, pad strings.Builder
	for i, r := range line {
		if r == '\t' {
			shown.WriteString("    ")
			if i < pos.Col-1 {
				pad.WriteString("    ")
			}
			continue
		}
		shown.WriteRune(r)
		if i < pos.Col-1 {
			pad.WriteByte(' ')
		}
	}
	fmt.Fprintf(b, "\n%s\n%s^", shown.String(), pad.String())
}

// Format renders one error as
//
//	NAME:LINE:COL: error: MSG
//	    the source line
//	        ^
//	hint: HINT
//
// An error in code that a macro expansion copied gets, before the hint, a
// note for each macro call that led to it:
//
//	note: in macro NAME, used at NAME:LINE:COL
//	    the line of the call
//	        ^
func Format(src *Source, e *Error) string {
	var b strings.Builder
	name := "<input>"
	if src != nil && src.Name != "" {
		name = src.Name
	}
	if e.Pos.IsValid() {
		fmt.Fprintf(&b, "%s:%d:%d: error: %s", name, e.Pos.Line, e.Pos.Col, e.Msg)
	} else {
		fmt.Fprintf(&b, "%s: error: %s", name, e.Msg)
	}
	writeLine(&b, src, e.Pos)
	// Code copied from a macro's body names the calls that copied it,
	// innermost first. Each expansion's call was made before the
	// expansion, so following Call.Expansion always ends; the depth bound
	// only guards against a malformed chain.
	for x, depth := e.Pos.Expansion, 0; x != nil && depth < maxExpansionNotes; x, depth = x.Call.Expansion, depth+1 {
		fmt.Fprintf(&b, "\nnote: in macro %s, used at %s", x.Macro, name)
		if x.Call.IsValid() {
			fmt.Fprintf(&b, ":%d:%d", x.Call.Line, x.Call.Col)
		}
		writeLine(&b, src, x.Call)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\nhint: %s", e.Hint)
	}
	return b.String()
}
