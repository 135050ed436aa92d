// Package lang turns gotrace source text into a checked syntax tree.
//
// The pipeline inside this package is: lex (lexer.go) → parse with a
// participle grammar (grammar.go) → convert the grammar's parse tree into the
// small AST defined here (parse.go) → check names and types (check.go).
// Every node carries the Span of source text it came from, so later passes
// (codegen, the verifier-error mapper) can point back at the exact characters.
package lang

import (
	"fmt"
	"strconv"
	"strings"
)

// Pos is a position in a source file. Line and Col are 1-based; Col counts
// bytes, so it can slice the line. Offset is the 0-based byte offset.
// What users read counts characters: Error and Source.Position convert.
type Pos struct {
	Offset int
	Line   int
	Col    int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Span is the half-open range of source text [Start, End) a node came from.
type Span struct {
	Start Pos
	End   Pos
}

// Spanned is implemented by every node.
type Spanned interface{ NodeSpan() Span }

func (s Span) NodeSpan() Span { return s }

// Node is any syntax tree node. Nodes print themselves back as source.
type Node interface {
	Spanned
	fmt.Stringer
}

// Program is a whole script.
type Program struct {
	Probes []*Probe
	Span
}

// Probe is one clause: `spec, spec /pred/ { body }`.
type Probe struct {
	Specs []*ProbeSpec
	Pred  Expr // nil when there is no predicate
	Body  *Block
	Span
}

// ProbeSpec is one attach point as written, e.g. `kprobe:sys_clone` or
// `tracepoint:syscalls:sys_enter_*`. Kind is canonical (aliases expanded,
// "begin" → "BEGIN"); Parts are the ':'-separated fields after the kind.
type ProbeSpec struct {
	Kind  string
	Parts []string
	Raw   string
	Span
}

// Block is a `{ ... }` or `< ... >` statement list.
type Block struct {
	Stmts []Stmt
	Span
}

// Stmt is a statement node.
type Stmt interface {
	Node
	stmtNode()
}

// Expr is an expression node.
type Expr interface {
	Node
	exprNode()
}

// ---- Statements ----

// ExprStmt is an expression evaluated for its effect, e.g. `printf(...)`.
type ExprStmt struct {
	X Expr
	Span
}

// AssignStmt is `target op value`; Op is "=", "+=", "-=", ... Target is a
// *VarExpr or *MapExpr.
type AssignStmt struct {
	Target Expr
	Op     string
	Value  Expr
	Span
}

// IfStmt is `if (Cond) Then [else Else]`; Else is nil, a *Block or an *IfStmt.
type IfStmt struct {
	Cond Expr
	Then *Block
	Else Stmt
	Span
}

// WhileStmt is `while (Cond) Body`.
type WhileStmt struct {
	Cond Expr
	Body *Block
	Span
}

// UnrollStmt is `unroll(Count) Body`.
type UnrollStmt struct {
	Count Expr
	Body  *Block
	Span
}

// JumpStmt is `break`, `continue` or `return`.
type JumpStmt struct {
	Keyword string
	Span
}

func (*ExprStmt) stmtNode()   {}
func (*AssignStmt) stmtNode() {}
func (*IfStmt) stmtNode()     {}
func (*WhileStmt) stmtNode()  {}
func (*UnrollStmt) stmtNode() {}
func (*JumpStmt) stmtNode()   {}
func (*Block) stmtNode()      {}

// ---- Expressions ----

// IntLit is an integer literal. Value holds the 64-bit pattern.
type IntLit struct {
	Value uint64
	Span
}

// StrLit is a string literal with escapes already decoded.
type StrLit struct {
	Value string
	Span
}

// IdentExpr is a bare identifier: a builtin (pid, comm, args, arg0, ...)
// or, in a few call positions, a name such as a type.
type IdentExpr struct {
	Name string
	Span
}

// VarExpr is a scratch variable `$name`.
type VarExpr struct {
	Name string // without the '$'
	Span
}

// PositionalExpr is `$1`..`$N` (N > 0) or `$#` (N == 0, Count true).
type PositionalExpr struct {
	N     int
	Count bool
	Span
}

// MapExpr is `@name` or `@name[keys...]`. Name includes the '@' ("@" for
// the anonymous map).
type MapExpr struct {
	Name string
	Keys []Expr
	Span
}

// CallExpr is `name(args...)`.
type CallExpr struct {
	Name string
	Args []Expr
	Span
}

// BinaryExpr is `X Op Y` for every binary operator including && and ||.
type BinaryExpr struct {
	Op string
	X  Expr
	Y  Expr
	Span
}

// UnaryExpr is a prefix operator: "!", "~", "-", "*", "&".
type UnaryExpr struct {
	Op string
	X  Expr
	Span
}

// IncDecExpr is `++X`, `X++`, `--X`, `X--`.
type IncDecExpr struct {
	Op     string // "++" or "--"
	Prefix bool
	X      Expr
	Span
}

// TernaryExpr is `Cond ? Then : Else`.
type TernaryExpr struct {
	Cond Expr
	Then Expr
	Else Expr
	Span
}

// FieldExpr is `X.Field` or `X->Field` (Arrow). Tuple access `t.0` is a
// FieldExpr whose Field is "0".
type FieldExpr struct {
	X     Expr
	Field string
	Arrow bool
	Span
}

// IndexExpr is `X[Index]` on a non-map value (arrays, pointers).
type IndexExpr struct {
	X     Expr
	Index Expr
	Span
}

// TypeName is a type as written in casts and sizeof: "uint32", "int8",
// "struct task_struct *", ...
type TypeName struct {
	Name     string // e.g. "uint32", "struct task_struct"
	Pointers int    // number of trailing '*'
	Span
}

// CastExpr is `(Type)X`.
type CastExpr struct {
	Type *TypeName
	X    Expr
	Span
}

// SizeofExpr is `sizeof(Type)` or `sizeof(X)`; exactly one is set.
type SizeofExpr struct {
	Type *TypeName
	X    Expr
	Span
}

// TupleExpr is `(a, b, ...)` with at least two elements.
type TupleExpr struct {
	Elems []Expr
	Span
}

func (*IntLit) exprNode()         {}
func (*StrLit) exprNode()         {}
func (*IdentExpr) exprNode()      {}
func (*VarExpr) exprNode()        {}
func (*PositionalExpr) exprNode() {}
func (*MapExpr) exprNode()        {}
func (*CallExpr) exprNode()       {}
func (*BinaryExpr) exprNode()     {}
func (*UnaryExpr) exprNode()      {}
func (*IncDecExpr) exprNode()     {}
func (*TernaryExpr) exprNode()    {}
func (*FieldExpr) exprNode()      {}
func (*IndexExpr) exprNode()      {}
func (*CastExpr) exprNode()       {}
func (*SizeofExpr) exprNode()     {}
func (*TupleExpr) exprNode()      {}

// ---- Printing back as source ----

func (p *Program) String() string {
	var b strings.Builder
	for i, pr := range p.Probes {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(pr.String())
	}
	return b.String()
}

func (p *Probe) String() string {
	var b strings.Builder
	for i, s := range p.Specs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s.String())
	}
	if p.Pred != nil {
		b.WriteString(" /" + p.Pred.String() + "/")
	}
	b.WriteString(" " + p.Body.String())
	return b.String()
}

func (s *ProbeSpec) String() string {
	if len(s.Parts) == 0 {
		return s.Kind
	}
	return s.Kind + ":" + strings.Join(s.Parts, ":")
}

func (b *Block) String() string {
	if len(b.Stmts) == 0 {
		return "{ }"
	}
	parts := make([]string, len(b.Stmts))
	for i, s := range b.Stmts {
		parts[i] = s.String()
	}
	return "{ " + strings.Join(parts, "; ") + "; }"
}

func (s *ExprStmt) String() string   { return s.X.String() }
func (s *AssignStmt) String() string { return s.Target.String() + " " + s.Op + " " + s.Value.String() }
func (s *IfStmt) String() string {
	out := "if (" + s.Cond.String() + ") " + s.Then.String()
	if s.Else != nil {
		out += " else " + s.Else.String()
	}
	return out
}
func (s *WhileStmt) String() string  { return "while (" + s.Cond.String() + ") " + s.Body.String() }
func (s *UnrollStmt) String() string { return "unroll(" + s.Count.String() + ") " + s.Body.String() }
func (s *JumpStmt) String() string   { return s.Keyword }

func (e *IntLit) String() string    { return strconv.FormatUint(e.Value, 10) }
func (e *StrLit) String() string    { return strconv.Quote(e.Value) }
func (e *IdentExpr) String() string { return e.Name }
func (e *VarExpr) String() string   { return "$" + e.Name }
func (e *PositionalExpr) String() string {
	if e.Count {
		return "$#"
	}
	return "$" + strconv.Itoa(e.N)
}
func (e *MapExpr) String() string {
	if len(e.Keys) == 0 {
		return e.Name
	}
	return e.Name + "[" + joinExprs(e.Keys) + "]"
}
func (e *CallExpr) String() string { return e.Name + "(" + joinExprs(e.Args) + ")" }
func (e *BinaryExpr) String() string {
	return "(" + e.X.String() + " " + e.Op + " " + e.Y.String() + ")"
}
func (e *UnaryExpr) String() string { return e.Op + e.X.String() }
func (e *IncDecExpr) String() string {
	if e.Prefix {
		return e.Op + e.X.String()
	}
	return e.X.String() + e.Op
}
func (e *TernaryExpr) String() string {
	return "(" + e.Cond.String() + " ? " + e.Then.String() + " : " + e.Else.String() + ")"
}
func (e *FieldExpr) String() string {
	if e.Arrow {
		return e.X.String() + "->" + e.Field
	}
	return e.X.String() + "." + e.Field
}
func (e *IndexExpr) String() string { return e.X.String() + "[" + e.Index.String() + "]" }
func (t *TypeName) String() string  { return t.Name + strings.Repeat("*", t.Pointers) }
func (e *CastExpr) String() string  { return "(" + e.Type.String() + ")" + e.X.String() }
func (e *SizeofExpr) String() string {
	if e.Type != nil {
		return "sizeof(" + e.Type.String() + ")"
	}
	return "sizeof(" + e.X.String() + ")"
}
func (e *TupleExpr) String() string { return "(" + joinExprs(e.Elems) + ")" }

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}
