package lang

import (
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// This file is the participle grammar over the tokens of lexer.go. The
// structs are a parse tree only; parse.go turns them into the AST of
// ast.go. Every struct has a Tokens field, which participle fills with the
// tokens the node matched, so parse.go can compute exact spans.
//
// Binary operators are one flat list (X (op Y)*) that parse.go arranges
// by precedence; prefix operators and postfix suffixes are lists too. Recursion only happens
// through brackets, which the lexer caps at maxNesting levels.
//
// The delimiter tokens of predicates and probe bodies have the values "/",
// "{", "}", "<" and ">", so wherever the grammar means the operator it says
// so with a :Punct type, e.g. '/':Punct for division.
//
// Where a node is one of several kinds (an operand, a statement, a suffix),
// the kinds are the members of a union (an interface type registered with
// participle.Union in buildParser), not one field each: participle re-lexes
// the next field's tag whenever it looks across a field boundary while
// building the grammar, and building it is part of every run's start-up.

// scriptParser returns the parser built from the grammar below, building
// it on first use: participle's reflection over the grammar takes several
// milliseconds on a cold start, which gotrace -l, --version and the
// releaser process never need.
var scriptParser = sync.OnceValue(buildParser)

// buildParser builds the parser; every union type of the grammar is listed
// here with its members, in the order participle tries them.
func buildParser() *participle.Parser[gProgram] {
	return participle.MustBuild[gProgram](
		participle.Lexer(ScriptLexer),
		participle.Union[gAtom](&gIntLit{}, &gStrLit{}, &gSizeof{}, &gName{}, &gVarRef{}, &gPositionalRef{}, &gMap{}, &gParen{}),
		participle.Union[gSuffixOp](&gField{}, &gArrow{}, &gIndex{}, &gIncDec{}),
		participle.Union[gStmtKind](&gIf{}, &gWhile{}, &gUnroll{}, &gSimpleStmt{}),
		participle.Union[gSimple](&gJump{}, &gExprStmt{}),
		participle.Union[gPrefixOp](&gUnaryOp{}, &gCast{}),
		participle.Union[gElse](&gIf{}, &gBlock{}),
		participle.Union[gSizeofArg](&gTypeName{}, &gExpr{}),
		// No backtracking: once a rule has matched its first token it must
		// match the rest, so errors are reported where the script goes wrong
		// rather than where some alternative gave up.
		participle.UseLookahead(0),
	)
}

type gProgram struct {
	Tokens []lexer.Token
	Probes []*gProbe `parser:"@@+"`
}

type gProbe struct {
	Tokens []lexer.Token
	Specs  []*gSpec `parser:"@@ ( ',' @@ )*"`
	Pred   *gExpr   `parser:"( PredOpen @@ PredClose )?"`
	Body   *gBody   `parser:"@@"`
}

type gSpec struct {
	Tokens []lexer.Token
	Raw    string `parser:"@ProbeSpec"`
}

// gBody is a probe's `parser:"{ ... }"` or `parser:"< ... >"`.
type gBody struct {
	Tokens []lexer.Token
	Stmts  []*gStmt `parser:"BlockOpen ( ';' | @@ )* BlockClose"`
}

// gBlock is an inner `parser:"{ ... }"` of if/while/unroll.
type gBlock struct {
	Tokens []lexer.Token
	Stmts  []*gStmt `parser:"'{':Punct ( ';' | @@ )* '}':Punct"`
}

// gStmt is one statement, a union like gAtom. Simple statements end with
// ';' unless the block closes right after them; if/while/unroll end with
// their '}'.
type gStmt struct {
	Tokens []lexer.Token
	X      gStmtKind `parser:"@@"`
}

// gStmtKind is if, while, unroll or a simple statement.
type gStmtKind interface{ stmt() }

// gSimpleStmt is a simple statement and its end.
type gSimpleStmt struct {
	Tokens []lexer.Token
	Simple gSimple `parser:"@@"`
	End    *gEnd   `parser:"@@"`
}

func (*gIf) stmt()         {}
func (*gWhile) stmt()      {}
func (*gUnroll) stmt()     {}
func (*gSimpleStmt) stmt() {}

// gEnd ends a simple statement: a ';', or nothing when the block closes
// right after it. (A lookahead group cannot express "nothing" here:
// participle rejects a branch that matches without consuming a token.)
type gEnd struct{}

func (*gEnd) Parse(lex *lexer.PeekingLexer) error {
	switch t := lex.Peek(); {
	case t.Type == TokPunct && t.Value == ";":
		lex.Next()
		return nil
	case t.Type == TokBlockClose || t.Type == TokPunct && t.Value == "}":
		return nil
	}
	return participle.NextMatch
}

type gIf struct {
	Tokens []lexer.Token
	Cond   *gExpr  `parser:"'if' '(' @@ ')'"`
	Then   *gBlock `parser:"@@"`
	Else   gElse   `parser:"( 'else' @@ )?"`
}

// gElse is what follows an else: another if, or a block.
type gElse interface{ elseBranch() }

func (*gIf) elseBranch()    {}
func (*gBlock) elseBranch() {}

type gWhile struct {
	Tokens []lexer.Token
	Cond   *gExpr  `parser:"'while' '(' @@ ')'"`
	Body   *gBlock `parser:"@@"`
}

type gUnroll struct {
	Tokens []lexer.Token
	Count  *gExpr  `parser:"'unroll' '(' @@ ')'"`
	Body   *gBlock `parser:"@@"`
}

// gSimple is a jump, an assignment or an expression statement. Which
// expressions may be assigned to is checked in parse.go, so that the
// parser never has to back out of a long assignment target.
type gSimple interface{ simple() }

type gJump struct {
	Tokens  []lexer.Token
	Keyword string `parser:"@( 'break' | 'continue' | 'return' )"`
}

type gExprStmt struct {
	Tokens []lexer.Token
	X      *gExpr `parser:"@@"`
	Op     string `parser:"( @( '=' | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=' )"`
	Value  *gExpr `parser:"  @@ )?"`
}

func (*gJump) simple()     {}
func (*gExprStmt) simple() {}

// gExpr is the ternary level: `parser:"Cond ? Then : Else"`, right-associative. The
// chain `parser:"a ? b : c ? d : e"` is captured flat as Cond a, Arms [(b, c), (d, e)].
type gExpr struct {
	Tokens []lexer.Token
	Cond   *gBinary `parser:"@@"`
	Arms   []*gTern `parser:"@@*"`
}

type gTern struct {
	Tokens []lexer.Token
	Then   *gExpr   `parser:"'?' @@"`
	Else   *gBinary `parser:"':' @@"`
}

// gBinary is operands joined by binary operators, captured flat:
// `a + b * c` is X a, Ops [+ *], Ys [b c]. parse.go builds the tree by C
// precedence (binaryPrec), which keeps the participle rules — and the
// per-operand parsing cost — to one level instead of ten.
type gBinary struct {
	Tokens []lexer.Token
	X      *gUnary   `parser:"@@"`
	Ops    []gBinOp  `parser:"( @@"`
	Ys     []*gUnary `parser:"  @@ )*"`
}

// gBinOp is one binary operator: a Punct token listed in binaryPrec. It
// is matched by hand because an 18-way alternation of literals costs
// participle a backtracking branch per literal, after every operand.
type gBinOp struct{ Op string }

func (o *gBinOp) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if _, ok := binaryPrec[t.Value]; !ok || t.Type != TokPunct {
		return participle.NextMatch
	}
	lex.Next()
	o.Op = t.Value
	return nil
}

// gUnary is prefix operators and casts applied, innermost last, to a
// postfix expression.
type gUnary struct {
	Tokens   []lexer.Token
	Prefixes []*gPrefix `parser:"@@*"`
	X        *gPostfix  `parser:"@@"`
}

// gPrefix is a prefix operator or a cast, a union like gAtom. A '(' starts
// a cast only when a type name follows, which gCastOpen checks before
// consuming the '('.
type gPrefix struct {
	Tokens []lexer.Token
	X      gPrefixOp `parser:"@@"`
}

type gPrefixOp interface{ prefix() }

type gUnaryOp struct {
	Tokens []lexer.Token
	Op     string `parser:"@( '!' | '~' | '-' | '*' | '&' | '++' | '--' )"`
}

type gCast struct {
	Tokens []lexer.Token
	Open   gCastOpen  `parser:"@@"`
	Type   *gTypeName `parser:"@@ ')'"`
}

func (*gUnaryOp) prefix() {}
func (*gCast) prefix()    {}

// gCastOpen is the '(' of a cast: a '(' followed by struct, union, enum or
// a type word. It and gTypeWord are matched by hand: as alternations of
// two dozen literals they made building the grammar, which every run of
// gotrace does at start-up, several times slower.
type gCastOpen struct{}

func (*gCastOpen) Parse(lex *lexer.PeekingLexer) error {
	if t := lex.Peek(); t.Type != TokPunct || t.Value != "(" {
		return participle.NextMatch
	}
	cp := lex.MakeCheckpoint()
	lex.Next()
	if t := lex.Peek(); t.Type == TokKeyword && (t.Value == "struct" || t.Value == "union" || t.Value == "enum") ||
		t.Type == TokIdent && typeWords[t.Value] {
		return nil
	}
	lex.LoadCheckpoint(cp)
	return participle.NextMatch
}

// gTypeName is a type in a cast or sizeof: `parser:"struct task_struct *"`,
// `parser:"uint32"`, `parser:"unsigned long"`.
type gTypeName struct {
	Tokens []lexer.Token
	Tag    string      `parser:"(   @( 'struct' | 'union' | 'enum' )"`
	Name   string      `parser:"    @Ident"`
	Words  []gTypeWord `parser:"  | @@+ )"`
	Stars  []string    `parser:"@'*'*"`
}

// gTypeWord is one word of a built-in type name: uint32, unsigned, long...
type gTypeWord string

func (w *gTypeWord) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != TokIdent || !typeWords[t.Value] {
		return participle.NextMatch
	}
	lex.Next()
	*w = gTypeWord(t.Value)
	return nil
}

// typeWords are the words built-in type names are made of.
var typeWords = map[string]bool{
	"int8": true, "int16": true, "int32": true, "int64": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"u8": true, "u16": true, "u32": true, "u64": true,
	"s8": true, "s16": true, "s32": true, "s64": true,
	"unsigned": true, "signed": true, "char": true, "short": true,
	"int": true, "long": true, "bool": true,
}

type gPostfix struct {
	Tokens   []lexer.Token
	X        *gPrimary  `parser:"@@"`
	Suffixes []*gSuffix `parser:"@@*"`
}

// gSuffix is one postfix operation, a union like gAtom.
type gSuffix struct {
	Tokens []lexer.Token
	X      gSuffixOp `parser:"@@"`
}

// gSuffixOp is .field, ->field, [index], ++ or --.
type gSuffixOp interface{ suffix() }

type gField struct {
	Tokens []lexer.Token
	Name   string `parser:"'.' @( Ident | Int | Keyword )"`
}

type gArrow struct {
	Tokens []lexer.Token
	Name   string `parser:"'->' @( Ident | Keyword )"`
}

type gIndex struct {
	Tokens []lexer.Token
	Index  *gExpr `parser:"'[' @@ ']'"`
}

type gIncDec struct {
	Tokens []lexer.Token
	Op     string `parser:"@( '++' | '--' )"`
}

func (*gField) suffix()  {}
func (*gArrow) suffix()  {}
func (*gIndex) suffix()  {}
func (*gIncDec) suffix() {}

// gPrimary is one operand.
type gPrimary struct {
	Tokens []lexer.Token
	X      gAtom `parser:"@@"`
}

// gAtom is an operand: a literal, sizeof, a name or call, a variable, a
// positional parameter, a map or a parenthesized expression or tuple.
type gAtom interface{ atom() }

type gIntLit struct {
	Tokens []lexer.Token
	V      string `parser:"@Int"`
}

type gStrLit struct {
	Tokens []lexer.Token
	V      string `parser:"@String"`
}

type gVarRef struct {
	Tokens []lexer.Token
	V      string `parser:"@Var"`
}

type gPositionalRef struct {
	Tokens []lexer.Token
	V      string `parser:"@Positional"`
}

func (*gIntLit) atom()        {}
func (*gStrLit) atom()        {}
func (*gSizeof) atom()        {}
func (*gName) atom()          {}
func (*gVarRef) atom()        {}
func (*gPositionalRef) atom() {}
func (*gMap) atom()           {}
func (*gParen) atom()         {}

type gSizeof struct {
	Tokens []lexer.Token
	Arg    gSizeofArg `parser:"'sizeof' '(' @@ ')'"`
}

// gSizeofArg is a type name or an expression.
type gSizeofArg interface{ sizeofArg() }

func (*gTypeName) sizeofArg() {}
func (*gExpr) sizeofArg()     {}

// gName is an identifier, or a call when an argument list follows.
type gName struct {
	Tokens []lexer.Token
	Name   string   `parser:"@Ident"`
	Call   string   `parser:"( @'('"`
	Args   []*gExpr `parser:"  ( @@ ( ',' @@ )* )? ')' )?"`
}

type gMap struct {
	Tokens []lexer.Token
	Name   string   `parser:"@Map"`
	Keys   []*gExpr `parser:"( '[' @@ ( ',' @@ )* ']' )?"`
}

// gParen is `parser:"(e)"` or, with two or more elements, a tuple `parser:"(a, b)"`.
type gParen struct {
	Tokens []lexer.Token
	Elems  []*gExpr `parser:"'(' @@ ( ',' @@ )* ')'"`
}
