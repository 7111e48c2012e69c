package ast

// Expr is an expression.
type Expr interface {
	Node
	exprNode()
}

// IntLit is an integer literal. Raw is the text as written (for error
// messages and dumps); Value is its value after removing `_` separators and
// applying an exponent (`1e6`). Suffix is any letters that followed the
// digits (`ms`, `u`, ...), left for the checker to interpret.
type IntLit struct {
	At     Pos
	Raw    string
	Value  uint64
	Suffix string
}

// StrLit is a string literal with escapes already decoded.
type StrLit struct {
	At    Pos
	Value string
}

// Ident is a bare identifier in expression position: a builtin variable
// (pid, comm, args, ...), a constant from #define, or an enum value.
type Ident struct {
	At   Pos
	Name string
}

// Var is a scratch variable such as `$x`. Name includes the `$`.
type Var struct {
	At   Pos
	Name string
}

// Positional is a positional parameter: `$1`..`$N` (Index >= 1) or `$#`
// (Count is true).
type Positional struct {
	At    Pos
	Index int
	Count bool
}

// MapRef is a map, `@name` or the anonymous `@`, with its key expressions
// when indexed (`@m[a, b]`). Name includes the `@`. Keys is nil when the map
// is used without brackets.
type MapRef struct {
	At   Pos
	Name string
	Keys []Expr
}

// Call is a function call: `printf("%d", x)`, `count()`, `str(p, 16)`.
type Call struct {
	At   Pos
	Name string
	Args []Expr
	// Close is the position of the closing parenthesis.
	Close Pos
}

// Unary is a prefix operator: "-", "!", "~", "*" (dereference), "&"
// (address of), "++" or "--" (pre-increment).
type Unary struct {
	At Pos
	Op string
	X  Expr
}

// Postfix is `x++` or `x--`.
type Postfix struct {
	At Pos // position of the operator
	Op string
	X  Expr
}

// Binary is `X Op Y` for arithmetic, comparison, bitwise, shift and
// logical operators. The parser has already applied C precedence.
type Binary struct {
	At Pos // position of the operator
	Op string
	X  Expr
	Y  Expr
}

// Ternary is `Cond ? Then : Else`.
type Ternary struct {
	At   Pos
	Cond Expr
	Then Expr
	Else Expr
}

// Cast is `(Type) X`.
type Cast struct {
	At   Pos
	Type *TypeExpr
	X    Expr
}

// FieldAccess is `X.Name` or `X->Name` (Arrow true). Tuple element access
// `X.0` is a FieldAccess whose Name is the decimal index.
type FieldAccess struct {
	At    Pos // position of the '.' or '->'
	X     Expr
	Name  string
	Arrow bool
}

// Index is `X[Index]` on an array or pointer (maps use MapRef.Keys).
type Index struct {
	At    Pos // position of '['
	X     Expr
	Index Expr
}

// Tuple is `(a, b, ...)` with at least two elements, or a record
// `(a = 1, b = 2)` when Names is non-nil.
type Tuple struct {
	At    Pos
	Elems []Expr
	Names []string
}

// Paren is a parenthesized expression, kept so that dumps and error
// positions reflect the source.
type Paren struct {
	At Pos
	X  Expr
}

// BlockExpr is a block used as an expression: `{ let $b = 1; $b + 1 }`.
// Stmts run in a scope of their own, then Value is the block's value.
// Value is nil when the block ends with a statement or with a ';': such a
// block has no value and is only useful for its effects.
//
// A macro call expands to a BlockExpr whose Macro is the macro's name; its
// At and Close are then the call's, while the statements and value come
// from the macro's body.
type BlockExpr struct {
	At    Pos
	Stmts []Stmt
	Value Expr
	Close Pos // position of the closing brace (of a macro call: its ')')
	Macro string
}

// Sizeof is `sizeof(Type)` or `sizeof(expr)`: exactly one of Type and X is
// set.
type Sizeof struct {
	At   Pos
	Type *TypeExpr
	X    Expr
}

// Offsetof is `offsetof(Type, field.path)`.
type Offsetof struct {
	At    Pos
	Type  *TypeExpr
	Field []string
}

// TypeExpr names a type in a cast, `let` or sizeof: `uint8`, `int64`,
// `struct task_struct *`, `char[16]`.
type TypeExpr struct {
	At       Pos
	Name     string // "uint8", "struct task_struct", "string", ...
	Pointers int    // number of trailing '*'
	ArrayLen int    // N in `T[N]`, 0 if not an array
}

func (t *TypeExpr) String() string {
	s := t.Name
	if t.Pointers > 0 {
		s += " "
		for i := 0; i < t.Pointers; i++ {
			s += "*"
		}
	}
	if t.ArrayLen > 0 {
		s += "[" + itoa(t.ArrayLen) + "]"
	}
	return s
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func (n *IntLit) Pos() Pos      { return n.At }
func (n *StrLit) Pos() Pos      { return n.At }
func (n *Ident) Pos() Pos       { return n.At }
func (n *Var) Pos() Pos         { return n.At }
func (n *Positional) Pos() Pos  { return n.At }
func (n *MapRef) Pos() Pos      { return n.At }
func (n *Call) Pos() Pos        { return n.At }
func (n *Unary) Pos() Pos       { return n.At }
func (n *Postfix) Pos() Pos     { return n.X.Pos() }
func (n *Binary) Pos() Pos      { return n.X.Pos() }
func (n *Ternary) Pos() Pos     { return n.Cond.Pos() }
func (n *Cast) Pos() Pos        { return n.At }
func (n *FieldAccess) Pos() Pos { return n.X.Pos() }
func (n *Index) Pos() Pos       { return n.X.Pos() }
func (n *Tuple) Pos() Pos       { return n.At }
func (n *Paren) Pos() Pos       { return n.At }
func (n *BlockExpr) Pos() Pos   { return n.At }
func (n *Sizeof) Pos() Pos      { return n.At }
func (n *Offsetof) Pos() Pos    { return n.At }
func (n *TypeExpr) Pos() Pos    { return n.At }

func (*IntLit) exprNode()      {}
func (*StrLit) exprNode()      {}
func (*Ident) exprNode()       {}
func (*Var) exprNode()         {}
func (*Positional) exprNode()  {}
func (*MapRef) exprNode()      {}
func (*Call) exprNode()        {}
func (*Unary) exprNode()       {}
func (*Postfix) exprNode()     {}
func (*Binary) exprNode()      {}
func (*Ternary) exprNode()     {}
func (*Cast) exprNode()        {}
func (*FieldAccess) exprNode() {}
func (*Index) exprNode()       {}
func (*Tuple) exprNode()       {}
func (*Paren) exprNode()       {}
func (*BlockExpr) exprNode()   {}
func (*Sizeof) exprNode()      {}
func (*Offsetof) exprNode()    {}

// KeyExprs returns the map key expressions a function argument stands for:
// delete(@m, (a, b)) and has_key(@m, (a, b)) name the key @m[a, b], so a
// tuple's elements, and any other expression on its own.
func KeyExprs(e Expr) []Expr {
	if tup, ok := e.(*Tuple); ok && tup.Names == nil {
		return tup.Elems
	}
	return []Expr{e}
}
