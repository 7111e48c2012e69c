package ast

// Stmt is a statement inside an action block.
type Stmt interface {
	Node
	stmtNode()
}

// Block is a `{ ... }` sequence of statements; it also opens a scope for
// `let` declarations.
type Block struct {
	At    Pos
	Stmts []Stmt
	Close Pos // position of the closing brace
}

// ExprStmt is an expression evaluated for its effect: a call such as
// printf(...), or x++.
type ExprStmt struct {
	X Expr
}

// AssignStmt is `Target Op Value` where Op is "=" or a compound operator
// such as "+=" or "<<=". Target is a *Var, *MapRef or a field/index of
// one of them.
type AssignStmt struct {
	At     Pos // position of the operator
	Target Expr
	Op     string
	Value  Expr
}

// LetStmt declares a scratch variable: `let $x`, `let $x: uint8`,
// `let $x = expr`.
type LetStmt struct {
	At    Pos
	Var   *Var
	Type  *TypeExpr // nil when not written
	Value Expr      // nil when not written
}

// IfStmt is `if (cond) { } else ...`. Else is nil, a *Block, or an *IfStmt
// for `else if`.
type IfStmt struct {
	At   Pos
	Cond Expr
	Then *Block
	Else Stmt
}

// UnrollStmt is `unroll (N) { }`.
type UnrollStmt struct {
	At    Pos
	Count Expr
	Body  *Block
}

// WhileStmt is `while (cond) { }`.
type WhileStmt struct {
	At   Pos
	Cond Expr
	Body *Block
}

// ForStmt is `for ($kv : @map) { }` (Map set) or `for ($i : lo..hi) { }`
// (Lo and Hi set).
type ForStmt struct {
	At   Pos
	Var  *Var
	Map  *MapRef
	Lo   Expr
	Hi   Expr
	Body *Block
}

// JumpStmt is `break`, `continue` or `return [value]`.
type JumpStmt struct {
	At    Pos
	Kind  string // "break", "continue" or "return"
	Value Expr   // only for return; may be nil
}

func (n *Block) Pos() Pos      { return n.At }
func (n *ExprStmt) Pos() Pos   { return n.X.Pos() }
func (n *AssignStmt) Pos() Pos { return n.Target.Pos() }
func (n *LetStmt) Pos() Pos    { return n.At }
func (n *IfStmt) Pos() Pos     { return n.At }
func (n *UnrollStmt) Pos() Pos { return n.At }
func (n *WhileStmt) Pos() Pos  { return n.At }
func (n *ForStmt) Pos() Pos    { return n.At }
func (n *JumpStmt) Pos() Pos   { return n.At }

func (*Block) stmtNode()      {}
func (*ExprStmt) stmtNode()   {}
func (*AssignStmt) stmtNode() {}
func (*LetStmt) stmtNode()    {}
func (*IfStmt) stmtNode()     {}
func (*UnrollStmt) stmtNode() {}
func (*WhileStmt) stmtNode()  {}
func (*ForStmt) stmtNode()    {}
func (*JumpStmt) stmtNode()   {}
