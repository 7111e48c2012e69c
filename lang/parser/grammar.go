package parser

import "github.com/alecthomas/participle/v2/lexer"

// This file is the participle grammar: plain structs whose tags describe
// the syntax. The tree they form is a parse tree, not the AST; convert.go
// turns it into lang/ast nodes.
//
// The parser is built with UseLookahead(0): an alternative that consumed a
// token and then failed is an error, never a reason to backtrack. That keeps
// error positions exact and parsing fast, and it means every choice point
// below is decided by its first token. In particular:
//
//   - binary expressions are a flat `unary (op unary)*` list; precedence is
//     applied by the converter;
//   - a parenthesis starts either a cast (when a type name follows) or a
//     parenthesised expression, tuple or record, all in one production;
//   - an assignment is an expression statement followed by an optional
//     `op= value` tail;
//   - the ';' after a simple statement is optional in the grammar and the
//     converter reports the missing ones, so the message can name the
//     statement that follows.
//
// fast.go parses the same grammar by hand, for speed: a change here must
// be made there too (TestFastParserAgrees compares the two).
//
// Type and field names matter: the error translator (errors.go) describes
// what the parser expected using the capitalized struct names (Expr,
// Block, TypeName, ...), so keep those in sync with describeProduction.

// program is a whole script.
type program struct {
	Items []*topItem `parser:"@@*"`
}

// topItem is one top-level construct.
type topItem struct {
	Probe   *probe       `parser:"  @@"`
	Include *includeDecl `parser:"| @@"`
	Define  *defineDecl  `parser:"| @@"`
	Config  *configDecl  `parser:"| @@"`
	Type    *typeDecl    `parser:"| @@"`
	Macro   *macroDecl   `parser:"| @@"`
	Fn      *fnDecl      `parser:"| @@"`
	Import  *importDecl  `parser:"| @@"`
	Semi    bool         `parser:"| @';'"`
}

type includeDecl struct {
	Pos  lexer.Position
	Path string `parser:"@Include"`
}

type defineDecl struct {
	Pos   lexer.Position
	Name  string `parser:"@Define"`
	Value string `parser:"@DefineValue"`
}

type configDecl struct {
	Pos     lexer.Position
	Entries []*configEntry `parser:"'config' '=' '{' @@* '}' ';'?"`
}

type configEntry struct {
	Pos    lexer.Position
	Key    string `parser:"@Ident '='"`
	Value  *expr  `parser:"@@"`
	Semi   bool   `parser:"@';'?"`
	Tokens []lexer.Token
}

type typeDecl struct {
	Pos  lexer.Position
	Kind string `parser:"@('struct' | 'union' | 'enum')"`
	Name string `parser:"@Ident?"`
	Body string `parser:"'{' @RawBody '}' ';'?"`
}

type macroDecl struct {
	Pos    lexer.Position
	Name   string   `parser:"'macro' @Ident '('"`
	Params []string `parser:"( @(Var | Map | Ident) ( ',' @(Var | Map | Ident) )* )? ')'"`
	Body   *block   `parser:"@@"`
}

type fnDecl struct {
	Pos    lexer.Position
	Name   string     `parser:"'fn' @Ident '('"`
	Params []*fnParam `parser:"( @@ ( ',' @@ )* )? ')'"`
	Result *typeName  `parser:"( ':' @@ )?"`
	Body   *block     `parser:"@@"`
}

type fnParam struct {
	Var  *varTok   `parser:"@@ ':'"`
	Type *typeName `parser:"@@"`
}

type importDecl struct {
	Pos  lexer.Position
	Path string `parser:"'import' @String ';'?"`
}

// probe is `parser:"attach, attach /pred/ { ... }"`.
type probe struct {
	Pos    lexer.Position
	Attach []*attachTok `parser:"@@ ( ',' @@ )*"`
	Pred   *expr        `parser:"( PredOpen @@ PredClose )?"`
	Body   *block       `parser:"@@"`
}

type attachTok struct {
	Pos lexer.Position
	Raw string `parser:"@Attach"`
}

// block is `parser:"{ items }"`. Tokens gives the position of the closing brace.
type block struct {
	Pos    lexer.Position
	Items  []*item `parser:"'{' @@* '}'"`
	Tokens []lexer.Token
}

// item is one statement, or a stray ';'. Statements that end with a block
// need no ';'; the others take an optional one (see converter.block). A
// '{' at the start of a statement opens a nested block, never a block
// expression, so Block comes before Expr.
type item struct {
	Block  *block      `parser:"  @@"`
	Expr   *exprStmt   `parser:"| ( @@"`
	Let    *letStmt    `parser:"  | @@"`
	Jump   *jumpStmt   `parser:"  | @@ )"`
	Term   bool        `parser:"  @';'?"`
	If     *ifStmt     `parser:"| @@"`
	Unroll *unrollStmt `parser:"| @@"`
	While  *whileStmt  `parser:"| @@"`
	For    *forStmt    `parser:"| @@"`
	Semi   bool        `parser:"| @';'"`
	Tokens []lexer.Token
}

type ifStmt struct {
	Pos    lexer.Position
	Cond   *expr   `parser:"'if' @@"`
	Then   *block  `parser:"@@"`
	ElseIf *ifStmt `parser:"( 'else' ( @@"`
	Else   *block  `parser:"        | @@ ) )?"`
}

type unrollStmt struct {
	Pos   lexer.Position
	Count *expr  `parser:"'unroll' @@"`
	Body  *block `parser:"@@"`
}

type whileStmt struct {
	Pos  lexer.Position
	Cond *expr  `parser:"'while' @@"`
	Body *block `parser:"@@"`
}

type forStmt struct {
	Pos  lexer.Position
	Var  *varTok `parser:"'for' '(' @@ ':'"`
	Lo   *expr   `parser:"@@"`
	Hi   *expr   `parser:"( '..' @@ )? ')'"`
	Body *block  `parser:"@@"`
}

type letStmt struct {
	Pos   lexer.Position
	Var   *varTok   `parser:"'let' @@"`
	Type  *typeName `parser:"( ':' @@ )?"`
	Value *expr     `parser:"( '=' @@ )?"`
}

type jumpStmt struct {
	Pos   lexer.Position
	Kind  string `parser:"@('break' | 'continue') | @'return'"`
	Value *expr  `parser:"@@?"`
}

// exprStmt is an expression, or an assignment when Assign is set.
type exprStmt struct {
	X      *expr       `parser:"@@"`
	Assign *assignTail `parser:"@@?"`
}

type assignTail struct {
	Pos   lexer.Position
	Op    string `parser:"@Assign"`
	Value *expr  `parser:"@@"`
}

// expr is a conditional expression, the loosest-binding expression form.
// Its binary operators are a flat operand/operator list; see
// converter.binary.
type expr struct {
	Head *unaryExpr    `parser:"@@"`
	Tail []*binaryTail `parser:"@@*"`
	Tern *ternaryTail  `parser:"@@?"`
}

type ternaryTail struct {
	Pos  lexer.Position
	Then *expr `parser:"'?' @@ ':'"`
	Else *expr `parser:"@@"`
}

type binaryTail struct {
	Pos lexer.Position
	Op  string     `parser:"@(BinOp | AmbOp)"`
	Y   *unaryExpr `parser:"@@"`
}

// unaryExpr is a prefix operator applied to a unary expression, or a
// primary expression with its postfix operators.
type unaryExpr struct {
	Pos    lexer.Position
	Op     string     `parser:"( @(UnOp | AmbOp | IncDec)"`
	X      *unaryExpr `parser:"  @@ )"`
	Prim   *primary   `parser:"| @@"`
	Suffix []*suffix  `parser:"  @@*"`
}

// suffix is one postfix operator: .f, ->f, .0, [i], ++ or --.
type suffix struct {
	Pos   lexer.Position
	Dot   string `parser:"( @Member"`
	Name  string `parser:"  @(Ident | Keyword | TypeWord | Int) )"`
	Index *expr  `parser:"| '[' @@ ']'"`
	Incr  string `parser:"| @IncDec"`
}

// primary is an operand; Block is a block expression `{ stmts; value }`.
type primary struct {
	Pos      lexer.Position
	Tok      lexer.Token   `parser:"  @(Int | String | Var | Positional)"`
	Ident    *identExpr    `parser:"| @@"`
	Map      *mapExpr      `parser:"| @@"`
	Paren    *parenExpr    `parser:"| @@"`
	Sizeof   *sizeofExpr   `parser:"| @@"`
	Offsetof *offsetofExpr `parser:"| @@"`
	Typeof   *typeofExpr   `parser:"| @@"`
	Block    *block        `parser:"| @@"`
}

type mapExpr struct {
	Pos  lexer.Position
	Name string  `parser:"@Map"`
	Keys []*expr `parser:"( '[' @@ ( ',' @@ )* ']' )?"`
}

// identExpr is an identifier, or a call when Call is set.
type identExpr struct {
	Pos  lexer.Position
	Name string    `parser:"@Ident"`
	Call *callArgs `parser:"@@?"`
}

type callArgs struct {
	Args   []*expr `parser:"'(' ( @@ ( ',' @@ )* )? ')'"`
	Tokens []lexer.Token
}

type sizeofExpr struct {
	Pos  lexer.Position
	Type *typeName `parser:"'sizeof' '(' ( @@"`
	X    *expr     `parser:"            | @@ ) ')'"`
}

// typeofExpr is bpftrace's `typeof(type)` or `typeof(expr)`, which passes
// types to macros. It is parsed so that the converter can say it is not
// supported, rather than report a syntax error.
type typeofExpr struct {
	Pos  lexer.Position
	Type *typeName `parser:"'typeof' '(' ( @@"`
	X    *expr     `parser:"            | @@ ) ')'"`
}

type offsetofExpr struct {
	Pos   lexer.Position
	Type  *typeName `parser:"'offsetof' '(' ( @@"`
	Named *nameTok  `parser:"              | @@ ) ','"`
	Field []string  `parser:"@(Ident | Keyword | TypeWord) ( '.' @(Ident | Keyword | TypeWord) )* ')'"`
}

// parenExpr is everything that starts with '(': a cast `parser:"(T) x"`, or a
// parenthesised expression, tuple or record.
type parenExpr struct {
	Pos   lexer.Position
	Cast  *typeName    `parser:"'(' ( @@ ')'"`
	CastX *unaryExpr   `parser:"      @@"`
	First *parenElem   `parser:"    | @@"`
	Rest  []*commaElem `parser:"      @@* ')' )"`
}

// parenElem is a tuple element, or a record field `parser:"name = value"`.
type parenElem struct {
	X     *expr `parser:"@@"`
	Value *expr `parser:"( '=' @@ )?"`
}

// commaElem is `parser:", elem"`; Elem is nil for a trailing comma.
type commaElem struct {
	Pos  lexer.Position
	Elem *parenElem `parser:"',' @@?"`
}

// typeName is a type in a cast, let, sizeof or offsetof.
type typeName struct {
	Pos   lexer.Position
	Kind  string   `parser:"( @('struct' | 'union' | 'enum')"`
	Tag   string   `parser:"  @Ident"`
	Words []string `parser:"| @TypeWord+ )"`
	Stars []string `parser:"@'*'*"`
	Array string   `parser:"( '[' @Int ']' )?"`
}

type varTok struct {
	Pos  lexer.Position
	Name string `parser:"@Var"`
}

type nameTok struct {
	Pos  lexer.Position
	Name string `parser:"@Ident"`
}
