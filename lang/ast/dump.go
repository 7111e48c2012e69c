package ast

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Dump renders a syntax tree as an indented s-expression, for golden tests
// and `gotrace -d`. n may be a *Program, a Stmt, an Expr or any other node.
// Every node shows its position as line:col (blocks and calls also show
// where they close, as line:col..line:col). The output is deterministic: a
// node is written on one line when that fits in dumpWidth columns,
// otherwise its children go on their own lines, indented by two spaces.
//
//	(program
//	  (probe 1:1
//	    (attach 1:1 "tracepoint:syscalls:sys_enter_openat")
//	    (pred (binary 1:44 "==" (ident 1:39 comm) (string 1:47 "nginx")))
//	    (block 1:56..1:87
//	      (assign 1:69 "=" (map 1:58 @ (call 1:60..1:67 str ...)) (call ... count)))))
func Dump(n any) string {
	var b strings.Builder
	dumpNode(n).write(&b, 0)
	return b.String()
}

const dumpWidth = 100

// sexp is one parenthesised dump node: its head (name, position and
// scalar attributes) and its children.
type sexp struct {
	head string
	kids []*sexp
}

// writeFlat writes the node on one line.
func (s *sexp) writeFlat(b *strings.Builder) {
	b.WriteString("(")
	b.WriteString(s.head)
	for _, k := range s.kids {
		b.WriteByte(' ')
		k.writeFlat(b)
	}
	b.WriteByte(')')
}

// fits reports whether the node written on one line takes at most width
// columns. It stops counting once over, so that deciding costs no more
// than the line it is about.
func (s *sexp) fits(width int) bool {
	return s.flatWidth(width) <= width
}

// flatWidth is the node's one-line width, or some number over limit.
func (s *sexp) flatWidth(limit int) int {
	n := len(s.head) + 2
	for _, k := range s.kids {
		if n > limit {
			return n
		}
		n += 1 + k.flatWidth(limit-n-1)
	}
	return n
}

func (s *sexp) write(b *strings.Builder, indent int) {
	if len(s.kids) == 0 || s.fits(dumpWidth-indent) {
		s.writeFlat(b)
		return
	}
	b.WriteString("(" + s.head)
	for _, k := range s.kids {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(" ", indent+2))
		k.write(b, indent+2)
	}
	b.WriteByte(')')
}

func node(head string, kids ...*sexp) *sexp {
	var ks []*sexp
	for _, k := range kids {
		if k != nil {
			ks = append(ks, k)
		}
	}
	return &sexp{head: head, kids: ks}
}

func span(from, to Pos) string { return from.String() + ".." + to.String() }

func q(s string) string { return strconv.Quote(s) }

// isNil reports whether n is nil or a typed nil pointer.
func isNil(n any) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func dumpNode(n any) *sexp {
	if isNil(n) {
		return node("nil")
	}
	switch n := n.(type) {
	case *Program:
		return dumpProgram(n)
	case *Probe:
		return dumpProbe(n)
	case *AttachPoint:
		return node(fmt.Sprintf("attach %s %s", n.At, q(n.Raw)))
	case *Include:
		return node(fmt.Sprintf("include %s %s", n.At, q(n.Path)))
	case *Define:
		return node(fmt.Sprintf("define %s %s %s", n.At, n.Name, q(n.Value)))
	case *ConfigEntry:
		return node(fmt.Sprintf("config %s %s", n.At, n.Key), dumpExpr(n.Value))
	case *TypeDecl:
		return node(fmt.Sprintf("typedecl %s %s %s %s", n.At, n.Kind, orAnon(n.Name), q(n.Body)))
	case *Macro:
		return node(fmt.Sprintf("macro %s %s (%s)", n.At, n.Name, strings.Join(n.Params, " ")), dumpExpr(n.Body))
	case *TypeExpr:
		return dumpType(n)
	case Stmt:
		return dumpStmt(n)
	case Expr:
		return dumpExpr(n)
	}
	return node(fmt.Sprintf("unknown %T", n))
}

func orAnon(name string) string {
	if name == "" {
		return "<anonymous>"
	}
	return name
}

func dumpProgram(p *Program) *sexp {
	s := node("program")
	for _, n := range p.Includes {
		s.kids = append(s.kids, dumpNode(n))
	}
	for _, n := range p.Defines {
		s.kids = append(s.kids, dumpNode(n))
	}
	for _, n := range p.Config {
		s.kids = append(s.kids, dumpNode(n))
	}
	for _, n := range p.Types {
		s.kids = append(s.kids, dumpNode(n))
	}
	for _, n := range p.Macros {
		s.kids = append(s.kids, dumpNode(n))
	}
	for _, n := range p.Probes {
		s.kids = append(s.kids, dumpNode(n))
	}
	return s
}

func dumpProbe(p *Probe) *sexp {
	s := node("probe " + p.At.String())
	for _, a := range p.Attach {
		s.kids = append(s.kids, dumpNode(a))
	}
	if p.Predicate != nil {
		s.kids = append(s.kids, node("pred", dumpExpr(p.Predicate)))
	}
	s.kids = append(s.kids, dumpStmt(p.Body))
	return s
}

func dumpType(t *TypeExpr) *sexp {
	if t == nil {
		return nil
	}
	return node(fmt.Sprintf("type %s %s", t.At, q(t.String())))
}

func dumpStmt(st Stmt) *sexp {
	if isNil(st) {
		return node("nil")
	}
	switch n := st.(type) {
	case *Block:
		s := node("block " + span(n.At, n.Close))
		for _, k := range n.Stmts {
			s.kids = append(s.kids, dumpStmt(k))
		}
		return s
	case *ExprStmt:
		return node("expr", dumpExpr(n.X))
	case *AssignStmt:
		return node(fmt.Sprintf("assign %s %s", n.At, q(n.Op)), dumpExpr(n.Target), dumpExpr(n.Value))
	case *LetStmt:
		var v *sexp
		if n.Value != nil {
			v = dumpExpr(n.Value)
		}
		return node("let "+n.At.String(), dumpExpr(n.Var), dumpType(n.Type), v)
	case *IfStmt:
		var e *sexp
		if n.Else != nil {
			e = node("else", dumpStmt(n.Else))
		}
		return node("if "+n.At.String(), dumpExpr(n.Cond), dumpStmt(n.Then), e)
	case *UnrollStmt:
		return node("unroll "+n.At.String(), dumpExpr(n.Count), dumpStmt(n.Body))
	case *WhileStmt:
		return node("while "+n.At.String(), dumpExpr(n.Cond), dumpStmt(n.Body))
	case *ForStmt:
		var over *sexp
		if n.Map != nil {
			over = dumpExpr(n.Map)
		} else {
			var hi *sexp
			if n.Hi != nil {
				hi = dumpExpr(n.Hi)
			}
			over = node("range", dumpExpr(n.Lo), hi)
		}
		return node("for "+n.At.String(), dumpExpr(n.Var), over, dumpStmt(n.Body))
	case *JumpStmt:
		var v *sexp
		if n.Value != nil {
			v = dumpExpr(n.Value)
		}
		return node(n.Kind+" "+n.At.String(), v)
	}
	return node(fmt.Sprintf("unknown %T", st))
}

func dumpExpr(x Expr) *sexp {
	if isNil(x) {
		return node("nil")
	}
	switch n := x.(type) {
	case *IntLit:
		h := fmt.Sprintf("int %s %d", n.At, n.Value)
		if n.Raw != strconv.FormatUint(n.Value, 10) {
			h += " raw=" + q(n.Raw)
		}
		if n.Suffix != "" {
			h += " suffix=" + q(n.Suffix)
		}
		return node(h)
	case *StrLit:
		return node(fmt.Sprintf("string %s %s", n.At, q(n.Value)))
	case *Ident:
		return node(fmt.Sprintf("ident %s %s", n.At, n.Name))
	case *Var:
		return node(fmt.Sprintf("var %s %s", n.At, n.Name))
	case *Positional:
		if n.Count {
			return node(fmt.Sprintf("positional %s $#", n.At))
		}
		return node(fmt.Sprintf("positional %s $%d", n.At, n.Index))
	case *MapRef:
		s := node(fmt.Sprintf("map %s %s", n.At, n.Name))
		if n.Keys != nil {
			k := node("keys")
			for _, e := range n.Keys {
				k.kids = append(k.kids, dumpExpr(e))
			}
			s.kids = append(s.kids, k)
		}
		return s
	case *Call:
		s := node(fmt.Sprintf("call %s %s", span(n.At, n.Close), n.Name))
		for _, a := range n.Args {
			s.kids = append(s.kids, dumpExpr(a))
		}
		return s
	case *Unary:
		return node(fmt.Sprintf("unary %s %s", n.At, q(n.Op)), dumpExpr(n.X))
	case *Postfix:
		return node(fmt.Sprintf("postfix %s %s", n.At, q(n.Op)), dumpExpr(n.X))
	case *Binary:
		return node(fmt.Sprintf("binary %s %s", n.At, q(n.Op)), dumpExpr(n.X), dumpExpr(n.Y))
	case *Ternary:
		return node("ternary "+n.At.String(), dumpExpr(n.Cond), dumpExpr(n.Then), dumpExpr(n.Else))
	case *Cast:
		return node("cast "+n.At.String(), dumpType(n.Type), dumpExpr(n.X))
	case *FieldAccess:
		op := "."
		if n.Arrow {
			op = "->"
		}
		return node(fmt.Sprintf("field %s %s %s", n.At, q(op), n.Name), dumpExpr(n.X))
	case *Index:
		return node("index "+n.At.String(), dumpExpr(n.X), dumpExpr(n.Index))
	case *Tuple:
		if n.Names != nil {
			s := node("record " + n.At.String())
			for i, e := range n.Elems {
				name := "?"
				if i < len(n.Names) {
					name = n.Names[i]
				}
				s.kids = append(s.kids, node(name, dumpExpr(e)))
			}
			return s
		}
		s := node("tuple " + n.At.String())
		for _, e := range n.Elems {
			s.kids = append(s.kids, dumpExpr(e))
		}
		return s
	case *Paren:
		return node("paren "+n.At.String(), dumpExpr(n.X))
	case *BlockExpr:
		// An expanded macro call shows the call's span and the macro's
		// name; the nodes inside keep the positions of the macro's body.
		h := "blockexpr " + span(n.At, n.Close)
		if n.Macro != "" {
			h += " macro=" + n.Macro
		}
		s := node(h)
		for _, k := range n.Stmts {
			s.kids = append(s.kids, dumpStmt(k))
		}
		if n.Value != nil {
			s.kids = append(s.kids, node("value", dumpExpr(n.Value)))
		}
		return s
	case *Sizeof:
		if n.Type != nil {
			return node("sizeof "+n.At.String(), dumpType(n.Type))
		}
		return node("sizeof "+n.At.String(), dumpExpr(n.X))
	case *Offsetof:
		return node(fmt.Sprintf("offsetof %s %s", n.At, strings.Join(n.Field, ".")), dumpType(n.Type))
	}
	return node(fmt.Sprintf("unknown %T", x))
}
