package ast

// Inspect traverses the tree rooted at n in depth-first order, calling f for
// each node; when f returns false, the node's children are skipped.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	for _, c := range children(n) {
		if c != nil {
			Inspect(c, f)
		}
	}
}

func children(n Node) []Node {
	var out []Node
	add := func(ns ...Node) {
		for _, c := range ns {
			if c != nil && !isNilNode(c) {
				out = append(out, c)
			}
		}
	}
	switch n := n.(type) {
	case *Macro:
		add(n.Body)
	case *Probe:
		for _, a := range n.Attach {
			add(a)
		}
		if n.Predicate != nil {
			add(n.Predicate)
		}
		add(n.Body)
	case *Block:
		for _, s := range n.Stmts {
			add(s)
		}
	case *ExprStmt:
		add(n.X)
	case *AssignStmt:
		add(n.Target, n.Value)
	case *LetStmt:
		add(n.Var)
		if n.Value != nil {
			add(n.Value)
		}
	case *IfStmt:
		add(n.Cond, n.Then)
		if n.Else != nil {
			add(n.Else)
		}
	case *UnrollStmt:
		add(n.Count, n.Body)
	case *WhileStmt:
		add(n.Cond, n.Body)
	case *ForStmt:
		add(n.Var)
		if n.Map != nil {
			add(n.Map)
		}
		if n.Lo != nil {
			add(n.Lo, n.Hi)
		}
		add(n.Body)
	case *JumpStmt:
		if n.Value != nil {
			add(n.Value)
		}
	case *MapRef:
		for _, k := range n.Keys {
			add(k)
		}
	case *Call:
		for _, a := range n.Args {
			add(a)
		}
	case *Unary:
		add(n.X)
	case *Postfix:
		add(n.X)
	case *Binary:
		add(n.X, n.Y)
	case *Ternary:
		add(n.Cond, n.Then, n.Else)
	case *Cast:
		add(n.X)
	case *FieldAccess:
		add(n.X)
	case *Index:
		add(n.X, n.Index)
	case *Tuple:
		for _, e := range n.Elems {
			add(e)
		}
	case *Paren:
		add(n.X)
	case *BlockExpr:
		for _, st := range n.Stmts {
			add(st)
		}
		if n.Value != nil {
			add(n.Value)
		}
	case *Sizeof:
		if n.X != nil {
			add(n.X)
		}
	}
	return out
}

// isNilNode reports whether n is a typed nil pointer stored in an interface.
func isNilNode(n Node) bool {
	switch v := n.(type) {
	case *Block:
		return v == nil
	case *MapRef:
		return v == nil
	case *Var:
		return v == nil
	case *BlockExpr:
		return v == nil
	}
	return false
}
