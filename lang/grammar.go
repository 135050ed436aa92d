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

// scriptParser returns the parser built from the grammar below, building
// it on first use: participle's reflection over the grammar takes several
// milliseconds on a cold start, which gotrace -l, --version and the
// releaser process never need.
var scriptParser = sync.OnceValue(func() *participle.Parser[gProgram] {
	return participle.MustBuild[gProgram](
		participle.Lexer(ScriptLexer),
		// No backtracking: once a rule has matched its first token it must
		// match the rest, so errors are reported where the script goes wrong
		// rather than where some alternative gave up.
		participle.UseLookahead(0),
	)
})

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

// gStmt is one statement. Simple statements end with ';' unless the block
// closes right after them; if/while/unroll end with their '}'.
type gStmt struct {
	Tokens []lexer.Token
	If     *gIf     `parser:"  @@"`
	While  *gWhile  `parser:"| @@"`
	Unroll *gUnroll `parser:"| @@"`
	Simple *gSimple `parser:"| @@"`
	End    *gEnd    `parser:"  @@"`
}

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
	ElseIf *gIf    `parser:"( 'else' ( @@"`
	Else   *gBlock `parser:"         | @@ ) )?"`
}

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
type gSimple struct {
	Tokens []lexer.Token
	Jump   string `parser:"  @( 'break' | 'continue' | 'return' )"`
	X      *gExpr `parser:"| @@"`
	Op     string `parser:"  ( @( '=' | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=' )"`
	Value  *gExpr `parser:"    @@ )?"`
}

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

// gPrefix is a prefix operator or a cast. A '(' starts a cast only when a
// type name follows, which gCastOpen checks before consuming the '('.
type gPrefix struct {
	Tokens []lexer.Token
	Op     string     `parser:"  @( '!' | '~' | '-' | '*' | '&' | '++' | '--' )"`
	Open   gCastOpen  `parser:"| @@"`
	Cast   *gTypeName `parser:"  @@ ')'"`
}

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

type gSuffix struct {
	Tokens []lexer.Token
	Field  string `parser:"  '.' @( Ident | Int | Keyword )"`
	Arrow  string `parser:"| '->' @( Ident | Keyword )"`
	Index  *gExpr `parser:"| '[' @@ ']'"`
	IncDec string `parser:"| @( '++' | '--' )"`
}

type gPrimary struct {
	Tokens     []lexer.Token
	Int        string   `parser:"  @Int"`
	Str        string   `parser:"| @String"`
	Sizeof     *gSizeof `parser:"| @@"`
	Name       *gName   `parser:"| @@"`
	Var        string   `parser:"| @Var"`
	Positional string   `parser:"| @Positional"`
	Map        *gMap    `parser:"| @@"`
	Paren      *gParen  `parser:"| @@"`
}

type gSizeof struct {
	Tokens []lexer.Token
	Type   *gTypeName `parser:"'sizeof' '(' ( @@"`
	X      *gExpr     `parser:"             | @@ ) ')'"`
}

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
