package lang

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Parse turns a script into its syntax tree. Errors come back as an
// ErrorList of *Error, each pointing at the characters at fault.
//
// Parsing runs in three steps: the lexer (lexer.go) produces tokens, the
// participle grammar (grammar.go) builds a parse tree from them, and this
// file converts that tree into the AST of ast.go, checking what the grammar
// cannot express (literal ranges, escapes, probe types, assignment targets).
func Parse(src *Source) (prog *Program, err error) {
	defer func() {
		// The grammar and the conversion are written not to panic, but a
		// crash on some unforeseen input must still come out as an error.
		if r := recover(); r != nil {
			prog, err = nil, ErrorList{{Src: src, Msg: fmt.Sprintf("internal parser error: %v", r)}}
		}
	}()

	// Preprocessor lines go first; line numbers are kept.
	if pp := preprocess(src.Text); pp != src.Text {
		src = &Source{Name: src.Name, Text: pp}
	}
	toks, lexErr := Lex(src)
	var lerr *Error
	if lexErr != nil && !errors.As(lexErr, &lerr) {
		lerr = &Error{Src: src, Msg: lexErr.Error()}
	}
	if lerr == nil && len(toks) == 1 {
		return nil, ErrorList{{Src: src, Span: Span{Start: Pos{0, 1, 1}, End: Pos{1, 1, 2}},
			Msg: "no probes in program: write at least one, e.g. BEGIN { printf(\"hello\\n\"); }"}}
	}
	if lerr != nil {
		// Parse the tokens before the lexical error too: a syntax error
		// earlier in the text is the one to report.
		p := lerr.Span.Start
		toks = append(toks, lexer.Token{Type: lexer.EOF, Pos: lexer.Position{Filename: src.Name, Offset: p.Offset, Line: p.Line, Column: p.Col}})
	}
	p := &parser{src: src, toks: toks}
	tree, perr, atEOF := p.parseTokens()
	syntaxErr := perr
	if lerr != nil && (perr == nil || atEOF) {
		// The parser only ran out of tokens where the lexer gave up.
		syntaxErr = lerr
	}
	if syntaxErr != nil {
		// Report bad probe types before the syntax error as well: they are
		// usually the more useful message.
		var errs ErrorList
		for _, t := range toks {
			if t.Type == TokProbeSpec && t.Pos.Offset < syntaxErr.Span.Start.Offset {
				p.spec(&gSpec{Tokens: []lexer.Token{t}, Raw: t.Value})
			}
		}
		errs = append(errs, p.errs...)
		errs = append(errs, syntaxErr)
		return nil, errs
	}
	prog = p.program(tree)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Span.Start.Offset < p.errs[j].Span.Start.Offset })
		return nil, p.errs
	}
	return prog, nil
}

// parser holds one Parse call's tokens and the errors found converting the
// parse tree.
type parser struct {
	src  *Source
	toks []lexer.Token
	errs ErrorList
}

func (p *parser) errorf(sp Span, format string, args ...any) {
	p.errs = append(p.errs, &Error{Src: p.src, Span: sp, Msg: fmt.Sprintf(format, args...)})
}

// parseTokens runs the participle parser over p.toks. atEOF reports that
// the error is at the end of the tokens.
func (p *parser) parseTokens() (tree *gProgram, perr *Error, atEOF bool) {
	peeker, err := lexer.Upgrade(&tokenStream{toks: p.toks})
	if err != nil {
		return nil, &Error{Src: p.src, Msg: err.Error()}, false
	}
	tree, err = scriptParser().ParseFromLexer(peeker)
	if err != nil {
		perr, atEOF = p.syntaxError(err)
		return nil, perr, atEOF
	}
	return tree, nil, false
}

// tokenStream replays already lexed tokens to participle.
type tokenStream struct {
	toks []lexer.Token
	i    int
}

func (s *tokenStream) Next() (lexer.Token, error) {
	if s.i >= len(s.toks) {
		return s.toks[len(s.toks)-1], nil
	}
	s.i++
	return s.toks[s.i-1], nil
}

// ---- Spans ----

func tokPos(t lexer.Token) Pos { return Pos{Offset: t.Pos.Offset, Line: t.Pos.Line, Col: t.Pos.Column} }

// tokEnd is the position just past t. Tokens never span lines.
func tokEnd(t lexer.Token) Pos {
	return Pos{Offset: t.Pos.Offset + len(t.Value), Line: t.Pos.Line, Col: t.Pos.Column + len(t.Value)}
}

func tokSpan(t lexer.Token) Span { return Span{Start: tokPos(t), End: tokEnd(t)} }

// spanOf is the span of a parse tree node's tokens.
func spanOf(toks []lexer.Token) Span {
	if len(toks) == 0 {
		return Span{}
	}
	return Span{Start: tokPos(toks[0]), End: tokEnd(toks[len(toks)-1])}
}

func join(a, b Span) Span { return Span{Start: a.Start, End: b.End} }

// ---- Parse tree → AST ----

func (p *parser) program(g *gProgram) *Program {
	prog := &Program{Span: spanOf(g.Tokens)}
	for _, gp := range g.Probes {
		prog.Probes = append(prog.Probes, p.probe(gp))
	}
	return prog
}

func (p *parser) probe(g *gProbe) *Probe {
	pr := &Probe{Span: spanOf(g.Tokens)}
	for _, s := range g.Specs {
		pr.Specs = append(pr.Specs, p.spec(s))
	}
	if g.Pred != nil {
		pr.Pred = p.expr(g.Pred)
	}
	pr.Body = &Block{Stmts: p.stmts(g.Body.Stmts), Span: spanOf(g.Body.Tokens)}
	return pr
}

func (p *parser) spec(g *gSpec) *ProbeSpec {
	sp := spanOf(g.Tokens)
	s := &ProbeSpec{Raw: g.Raw, Span: sp}
	word, rest, hasParts := strings.Cut(g.Raw, ":")
	kind, ok := probeKinds[word]
	if !ok {
		at := sp
		at.End = at.Start
		at.End.Offset += max(len(word), 1)
		at.End.Col += max(len(word), 1)
		msg := fmt.Sprintf("unknown probe type '%s'", printable(word))
		if sugg := suggestProbeKind(word); sugg != "" {
			msg += fmt.Sprintf(" — did you mean '%s'?", sugg)
		}
		p.errorf(at, "%s", msg)
		kind = word
	}
	s.Kind = kind
	switch {
	case !hasParts:
	case kind == "uprobe" || kind == "uretprobe":
		// The binary path is kept whole; everything after it is the
		// function (which may hold ':' itself, as C++ names do).
		path, fn, ok := strings.Cut(rest, ":")
		if ok {
			s.Parts = []string{path, fn}
		} else {
			s.Parts = []string{rest}
		}
	default:
		s.Parts = strings.Split(rest, ":")
	}
	return s
}

// suggestProbeKind returns the probe type closest to word, or "".
func suggestProbeKind(word string) string {
	best, bestDist := "", len(word)/3+1
	for _, name := range []string{"BEGIN", "END", "kprobe", "kretprobe", "uprobe", "uretprobe",
		"tracepoint", "rawtracepoint", "profile", "interval", "software", "hardware",
		"fentry", "fexit", "kfunc", "kretfunc", "usdt", "watchpoint", "asyncwatchpoint"} {
		if d := editDistance(strings.ToLower(word), strings.ToLower(name)); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the edit distance between a and b, counting an adjacent
// transposition ("prinft" → "printf") as one edit.
func editDistance(a, b string) int {
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(a)][len(b)]
}

func (p *parser) stmts(gs []*gStmt) []Stmt {
	var out []Stmt
	for _, g := range gs {
		if s := p.stmt(g); s != nil {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) block(g *gBlock) *Block {
	return &Block{Stmts: p.stmts(g.Stmts), Span: spanOf(g.Tokens)}
}

func (p *parser) stmt(g *gStmt) Stmt {
	switch x := g.X.(type) {
	case *gIf:
		return p.ifStmt(x)
	case *gWhile:
		return &WhileStmt{Cond: p.expr(x.Cond), Body: p.block(x.Body), Span: spanOf(x.Tokens)}
	case *gUnroll:
		return &UnrollStmt{Count: p.expr(x.Count), Body: p.block(x.Body), Span: spanOf(x.Tokens)}
	case *gSimpleStmt:
		return p.simple(x.Simple)
	}
	return nil
}

func (p *parser) ifStmt(g *gIf) *IfStmt {
	s := &IfStmt{Cond: p.expr(g.Cond), Then: p.block(g.Then), Span: spanOf(g.Tokens)}
	switch e := g.Else.(type) {
	case *gIf:
		s.Else = p.ifStmt(e)
	case *gBlock:
		s.Else = p.block(e)
	}
	return s
}

func (p *parser) simple(g gSimple) Stmt {
	switch g := g.(type) {
	case *gJump:
		return &JumpStmt{Keyword: g.Keyword, Span: spanOf(g.Tokens)}
	case *gExprStmt:
		sp := spanOf(g.Tokens)
		x := p.expr(g.X)
		if g.Op == "" {
			return &ExprStmt{X: x, Span: sp}
		}
		if !isAssignable(x) {
			p.errorf(spanOf(g.X.Tokens), "%s", notAssignable(x))
		}
		return &AssignStmt{Target: x, Op: g.Op, Value: p.expr(g.Value), Span: sp}
	}
	return nil
}

// notAssignable says why x cannot be assigned, and what to write instead.
func notAssignable(x Expr) string {
	switch x := x.(type) {
	case *IdentExpr:
		if BuiltinVars[x.Name] != nil {
			return fmt.Sprintf("cannot assign to builtin '%s': it is read-only; did you mean the variable $%s?", x.Name, x.Name)
		}
		return fmt.Sprintf("cannot assign to '%s': a variable needs a '$' ($%s), a map an '@' (@%s)", x.Name, x.Name, x.Name)
	case *PositionalExpr:
		return fmt.Sprintf("cannot assign to positional parameter %s: it is read-only; copy it into a variable first, e.g. $x = %s", x, x)
	}
	return "cannot assign to this: only $variables and @maps can be assigned"
}

func isAssignable(x Expr) bool {
	switch x.(type) {
	case *VarExpr, *MapExpr:
		return true
	}
	return false
}

// expr converts the ternary level. `a ? b : c ? d : e` arrives as
// Cond a, Arms [(b, c), (d, e)] and nests to the right.
func (p *parser) expr(g *gExpr) Expr {
	cond := p.binary(g.Cond)
	if len(g.Arms) == 0 {
		return cond
	}
	end := spanOf(g.Tokens).End
	n := len(g.Arms)
	acc := p.binary(g.Arms[n-1].Else)
	for i := n - 1; i >= 0; i-- {
		c, start := cond, spanOf(g.Tokens).Start
		if i > 0 {
			c, start = p.binary(g.Arms[i-1].Else), spanOf(g.Arms[i-1].Else.Tokens).Start
		}
		acc = &TernaryExpr{Cond: c, Then: p.expr(g.Arms[i].Then), Else: acc, Span: Span{Start: start, End: end}}
	}
	return acc
}

// binaryPrec is the C precedence of each binary operator; higher binds
// tighter. All are left-associative.
var binaryPrec = map[string]int{
	"||": 1,
	"&&": 2,
	"|":  3,
	"^":  4,
	"&":  5,
	"==": 6, "!=": 6,
	"<": 7, "<=": 7, ">": 7, ">=": 7,
	"<<": 8, ">>": 8,
	"+": 9, "-": 9,
	"*": 10, "/": 10, "%": 10,
}

// binary arranges a flat operand/operator list into a tree by precedence
// (shunting-yard, without recursion so long chains cannot exhaust the
// stack). Spans come from the grammar's tokens so they include any
// parentheses around operands.
func (p *parser) binary(g *gBinary) Expr {
	type operand struct {
		x  Expr
		sp Span
	}
	operands := []operand{{p.unary(g.X), spanOf(g.X.Tokens)}}
	var ops []string
	reduce := func() {
		n := len(operands)
		x, y := operands[n-2], operands[n-1]
		op := ops[len(ops)-1]
		ops = ops[:len(ops)-1]
		sp := join(x.sp, y.sp)
		operands = append(operands[:n-2], operand{&BinaryExpr{Op: op, X: x.x, Y: y.x, Span: sp}, sp})
	}
	for i := 0; i < len(g.Ops) && i < len(g.Ys); i++ {
		op := g.Ops[i].Op
		for len(ops) > 0 && binaryPrec[ops[len(ops)-1]] >= binaryPrec[op] {
			reduce()
		}
		ops = append(ops, op)
		operands = append(operands, operand{p.unary(g.Ys[i]), spanOf(g.Ys[i].Tokens)})
	}
	for len(ops) > 0 {
		reduce()
	}
	return operands[0].x
}

// unary applies prefix operators and casts, innermost (rightmost) first.
func (p *parser) unary(g *gUnary) Expr {
	x := p.postfix(g.X)
	end := spanOf(g.Tokens).End
	for i := len(g.Prefixes) - 1; i >= 0; i-- {
		pre := g.Prefixes[i]
		sp := Span{Start: spanOf(pre.Tokens).Start, End: end}
		switch op := pre.X.(type) {
		case *gCast:
			x = &CastExpr{Type: p.typeName(op.Type), X: x, Span: sp}
		case *gUnaryOp:
			if op.Op == "++" || op.Op == "--" {
				p.checkIncDec(op.Op, x)
				x = &IncDecExpr{Op: op.Op, Prefix: true, X: x, Span: sp}
			} else {
				x = &UnaryExpr{Op: op.Op, X: x, Span: sp}
			}
		}
	}
	return x
}

func (p *parser) checkIncDec(op string, x Expr) {
	if !isAssignable(x) {
		p.errorf(x.NodeSpan(), "'%s' can only be applied to a $variable or an @map", op)
	}
}

func (p *parser) typeName(g *gTypeName) *TypeName {
	t := &TypeName{Pointers: len(g.Stars), Span: spanOf(g.Tokens)}
	if g.Tag != "" {
		t.Name = g.Tag + " " + g.Name
	} else {
		words := make([]string, len(g.Words))
		for i, w := range g.Words {
			words[i] = string(w)
		}
		t.Name = strings.Join(words, " ")
	}
	return t
}

// postfix applies suffixes (fields, indexes, x++), leftmost first.
func (p *parser) postfix(g *gPostfix) Expr {
	x := p.primary(g.X)
	start := spanOf(g.Tokens).Start
	for _, s := range g.Suffixes {
		sp := Span{Start: start, End: spanOf(s.Tokens).End}
		switch op := s.X.(type) {
		case *gField:
			x = &FieldExpr{X: x, Field: op.Name, Span: sp}
		case *gArrow:
			x = &FieldExpr{X: x, Field: op.Name, Arrow: true, Span: sp}
		case *gIndex:
			x = &IndexExpr{X: x, Index: p.expr(op.Index), Span: sp}
		case *gIncDec:
			p.checkIncDec(op.Op, x)
			x = &IncDecExpr{Op: op.Op, X: x, Span: sp}
		}
	}
	return x
}

func (p *parser) primary(g *gPrimary) Expr {
	sp := spanOf(g.Tokens)
	switch x := g.X.(type) {
	case *gIntLit:
		return &IntLit{Value: p.intLit(x.V, sp), Span: sp}
	case *gStrLit:
		return &StrLit{Value: p.strLit(x.V, sp), Span: sp}
	case *gSizeof:
		e := &SizeofExpr{Span: sp}
		switch arg := x.Arg.(type) {
		case *gTypeName:
			e.Type = p.typeName(arg)
		case *gExpr:
			e.X = p.expr(arg)
		}
		return e
	case *gName:
		if x.Call != "" {
			return &CallExpr{Name: x.Name, Args: p.exprs(x.Args), Span: sp}
		}
		return &IdentExpr{Name: x.Name, Span: sp}
	case *gVarRef:
		return &VarExpr{Name: x.V[1:], Span: sp}
	case *gPositionalRef:
		return p.positional(x.V, sp)
	case *gMap:
		return &MapExpr{Name: x.Name, Keys: p.exprs(x.Keys), Span: sp}
	case *gParen:
		if len(x.Elems) == 1 {
			return p.expr(x.Elems[0])
		}
		return &TupleExpr{Elems: p.exprs(x.Elems), Span: sp}
	}
	p.errorf(sp, "expected an expression")
	return &IdentExpr{Span: sp}
}

func (p *parser) exprs(gs []*gExpr) []Expr {
	var out []Expr
	for _, g := range gs {
		out = append(out, p.expr(g))
	}
	return out
}

func (p *parser) positional(raw string, sp Span) Expr {
	if raw == "$#" {
		return &PositionalExpr{Count: true, Span: sp}
	}
	n, err := strconv.Atoi(raw[1:])
	if err != nil || n > 1<<20 {
		p.errorf(sp, "positional parameter %s is out of range", raw)
		return &PositionalExpr{N: 1, Span: sp}
	}
	if n == 0 {
		p.errorf(sp, "there is no positional parameter $0: they start at $1 ($# is their count)")
		return &PositionalExpr{N: 1, Span: sp}
	}
	return &PositionalExpr{N: n, Span: sp}
}

// intLit converts an integer literal: decimal, 0x hex, 0-prefixed octal,
// with optional '_' between digits and, for decimals, an exponent (1e6).
func (p *parser) intLit(raw string, sp Span) uint64 {
	v, msg := parseIntLit(raw)
	if msg != "" {
		p.errorf(sp, "%s", msg)
	}
	return v
}

func parseIntLit(raw string) (uint64, string) {
	digits, base, kind := raw, 10, "a decimal"
	exp, hasExp := "", false
	switch {
	case len(raw) > 1 && raw[0] == '0' && (raw[1] == 'x' || raw[1] == 'X'):
		digits, base, kind = raw[2:], 16, "a hexadecimal"
	case len(raw) > 1 && raw[0] == '0':
		digits, base, kind = raw[1:], 8, "an octal"
	default:
		if i := strings.IndexAny(raw, "eE"); i > 0 {
			digits, exp, hasExp = raw[:i], raw[i+1:], true
		}
	}
	clean, ok := stripUnderscores(digits)
	if !ok {
		return 0, fmt.Sprintf("invalid integer literal '%s': '_' may only separate digits", raw)
	}
	for _, c := range clean {
		if !isBaseDigit(c, base) {
			return 0, fmt.Sprintf("invalid integer literal '%s': '%c' is not %s digit", raw, c, kind)
		}
	}
	v, err := strconv.ParseUint(clean, base, 64)
	if err != nil {
		return 0, fmt.Sprintf("integer literal '%s' does not fit in 64 bits", raw)
	}
	if hasExp {
		e, ok := stripUnderscores(exp)
		if !ok || e == "" || strings.Trim(e, "0123456789") != "" {
			return 0, fmt.Sprintf("invalid integer literal '%s': the exponent must be decimal digits, as in 1e6", raw)
		}
		n, err := strconv.Atoi(e)
		if err != nil {
			n = 100
		}
		for ; n > 0; n-- {
			hi, lo := bits.Mul64(v, 10)
			if hi != 0 {
				return 0, fmt.Sprintf("integer literal '%s' does not fit in 64 bits", raw)
			}
			v = lo
		}
	}
	return v, ""
}

// stripUnderscores removes '_' digit separators, which must sit between
// two digits.
func stripUnderscores(s string) (string, bool) {
	if !strings.Contains(s, "_") {
		return s, s != ""
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return "", false
	}
	return strings.ReplaceAll(s, "_", ""), true
}

func isBaseDigit(c rune, base int) bool {
	switch base {
	case 8:
		return '0' <= c && c <= '7'
	case 16:
		return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
	}
	return '0' <= c && c <= '9'
}

// strLit decodes a string literal's escapes: \n \t \r \\ \" \' \a \b \f \v,
// \xNN (one or two hex digits) and \NNN (one to three octal digits).
func (p *parser) strLit(raw string, sp Span) string {
	var b strings.Builder
	body := raw[1 : len(raw)-1]
	at := func(i, n int) Span {
		// Offsets inside the literal; +1 for the opening quote.
		s := sp.Start
		s.Offset += i + 1
		s.Col += i + 1
		e := s
		e.Offset += n
		e.Col += n
		return Span{Start: s, End: e}
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(body) {
			p.errorf(at(i, 1), "incomplete escape sequence at the end of the string")
			break
		}
		e := body[i+1]
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\\', '"', '\'':
			b.WriteByte(e)
		case 'x':
			n := 0
			for n < 2 && i+2+n < len(body) && isBaseDigit(rune(body[i+2+n]), 16) {
				n++
			}
			if n == 0 {
				p.errorf(at(i, 2), "escape '\\x' needs one or two hex digits, as in \\x41")
				i++
				continue
			}
			v, _ := strconv.ParseUint(body[i+2:i+2+n], 16, 8)
			b.WriteByte(byte(v))
			i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			n := 1
			for n < 3 && i+1+n < len(body) && isBaseDigit(rune(body[i+1+n]), 8) {
				n++
			}
			v, _ := strconv.ParseUint(body[i+1:i+1+n], 8, 16)
			if v > 255 {
				p.errorf(at(i, n+1), "octal escape '\\%s' is out of range (max \\377)", body[i+1:i+1+n])
			}
			b.WriteByte(byte(v))
			i += n - 1
		default:
			_, size := utf8.DecodeRuneInString(body[i+1:])
			p.errorf(at(i, 1+size), "unknown escape sequence '\\%s' in string", printable(body[i+1:i+1+size]))
			i += size - 1
		}
		i++
	}
	return b.String()
}

// ---- Syntax errors ----

// syntaxError turns a participle error into an *Error at the offending
// token, worded for people. atEOF reports that the token is the end of
// input.
func (p *parser) syntaxError(err error) (e *Error, atEOF bool) {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return &Error{Src: p.src, Msg: "syntax error: " + err.Error()}, false
	}
	i := p.tokenAt(perr.Position().Offset)
	tok := p.toks[i]
	sp := tokSpan(tok)
	if tok.EOF() {
		sp = p.afterToken(i)
	}
	var ute *participle.UnexpectedTokenError
	if !errors.As(err, &ute) {
		return &Error{Src: p.src, Span: sp, Msg: "syntax error: " + perr.Message()}, tok.EOF()
	}
	if e := p.likelyCause(i); e != nil {
		return e, false
	}
	msg := "syntax error, unexpected " + describeToken(tok)
	if want := p.expectation(ute, i); want != "" {
		msg += ", expected " + want
	} else if p.outside(i) && tok.Type == TokPunct {
		msg += " outside of a probe body"
	}
	return &Error{Src: p.src, Span: sp, Msg: msg}, tok.EOF()
}

// likelyCause explains a syntax error at token i that has a likelier
// cause than the token itself: a '>' that cannot close a < > block, a cast
// to a type the grammar does not know ((foo_t)x), or a misspelt keyword
// (iff (x) { }). It returns nil when there is none.
func (p *parser) likelyCause(i int) *Error {
	tok := p.toks[i]
	punct := func(j int, v string) bool { return j >= 0 && p.toks[j].Type == TokPunct && p.toks[j].Value == v }
	if punct(i, ">") {
		if j := p.enclosing(i); j >= 0 && p.toks[j].Type == TokBlockOpen && p.toks[j].Value == "<" {
			return &Error{Src: p.src, Span: tokSpan(tok), Msg: fmt.Sprintf("this '>' does not close the block opened at %s: "+
				"a closing '>' must be followed by the next probe or the end of the script (or write the block with { })", p.src.Position(tokPos(p.toks[j])))}
		}
	}
	// (foo_t)x and (foo_t *)x parse as a parenthesized name, then fail.
	castAt := -1
	switch {
	case i >= 3 && punct(i-1, ")") && punct(i-3, "(") && p.toks[i-2].Type == TokIdent && startsOperand(tok):
		castAt = i - 3
	case i >= 3 && punct(i, ")") && punct(i-1, "*") && punct(i-3, "(") && p.toks[i-2].Type == TokIdent:
		castAt = i - 3
	}
	if castAt >= 0 && BuiltinVars[p.toks[castAt+1].Value] == nil {
		name := p.toks[castAt+1].Value
		return &Error{Src: p.src, Span: join(tokSpan(p.toks[castAt]), tokSpan(p.toks[castAt+2])), Msg: fmt.Sprintf("unknown type '%s' in cast: "+
			"cast to an integer type such as (uint32) or (int64), or to a struct pointer such as (struct task_struct *)", name)}
	}
	// Only when the statement fails at the block after `iff (x)`, or
	// right after the word: elsewhere the word is likely a plain name.
	if j := p.stmtStart(i); j >= 0 && j < i && p.toks[j].Type == TokIdent && (j == i-1 || punct(i, "{")) {
		word := p.toks[j].Value
		if Funcs[word] == nil && BuiltinVars[word] == nil {
			if kw := misspeltKeyword(word); kw != "" {
				return &Error{Src: p.src, Span: tokSpan(p.toks[j]), Msg: fmt.Sprintf("syntax error, unknown keyword '%s' — did you mean '%s'?", word, kw)}
			}
		}
	}
	return nil
}

// startsOperand reports whether t can start an operand (what a cast
// applies to).
func startsOperand(t lexer.Token) bool {
	switch t.Type {
	case TokInt, TokString, TokVar, TokPositional, TokMap, TokIdent:
		return true
	case TokPunct:
		return t.Value == "(" || t.Value == "-" || t.Value == "*" || t.Value == "!" || t.Value == "~"
	}
	return false
}

// stmtStart is the index of the first token of the statement holding token
// i, or -1 between probes.
func (p *parser) stmtStart(i int) int {
	for j := i - 1; j >= 0; j-- {
		t := p.toks[j]
		switch {
		case t.Type == TokBlockOpen || t.Type == TokBlockClose || t.Type == TokPredClose:
			return j + 1
		case t.Type == TokPunct && (t.Value == ";" || t.Value == "{" || t.Value == "}"):
			return j + 1
		}
	}
	return -1
}

// misspeltKeyword returns the statement keyword word is a typo of, or "".
// Words shorter than 3 letters are too likely to be something else.
func misspeltKeyword(word string) string {
	if len(word) < 3 {
		return ""
	}
	for _, kw := range []string{"if", "else", "while", "unroll", "break", "continue", "return"} {
		if d := editDistance(word, kw); d > 0 && d <= max(1, len(kw)/3) {
			return kw
		}
	}
	return ""
}

// tokenAt is the index of the token starting at offset off (or the last
// token before it).
func (p *parser) tokenAt(off int) int {
	i := sort.Search(len(p.toks), func(i int) bool { return p.toks[i].Pos.Offset > off }) - 1
	return max(i, 0)
}

// afterToken is a one-character span just past the token before index i,
// where something missing at the end of the input belongs.
func (p *parser) afterToken(i int) Span {
	if i == 0 {
		return Span{Start: Pos{0, 1, 1}, End: Pos{1, 1, 2}}
	}
	end := tokEnd(p.toks[i-1])
	next := end
	next.Offset++
	next.Col++
	return Span{Start: end, End: next}
}

// enclosing returns the BlockOpen or PredOpen token whose block or
// predicate holds token i, or -1 when i is between probes.
func (p *parser) enclosing(i int) int {
	for j := i - 1; j >= 0; j-- {
		switch p.toks[j].Type {
		case TokBlockOpen, TokPredOpen:
			return j
		case TokBlockClose, TokPredClose:
			return -1
		}
	}
	return -1
}

func (p *parser) outside(i int) bool { return p.enclosing(i) < 0 }

// openBracket finds the innermost '(' or '[' still open before token i, or
// -1.
func (p *parser) openBracket(i int) int {
	depth := 0
	for j := i - 1; j > p.enclosing(i) && j >= 0; j-- {
		t := p.toks[j]
		if t.Type != TokPunct {
			continue
		}
		switch t.Value {
		case ")", "]", "}":
			depth++
		case "(", "[", "{":
			if depth == 0 {
				return j
			}
			depth--
		}
	}
	return -1
}

func describeToken(t lexer.Token) string {
	switch t.Type {
	case lexer.EOF:
		return "end of input"
	case TokIdent:
		return "identifier '" + t.Value + "'"
	case TokInt:
		return "integer " + t.Value
	case TokString:
		return "string " + t.Value
	case TokVar:
		return "variable " + t.Value
	case TokPositional:
		return "positional parameter " + t.Value
	case TokMap:
		return "map " + t.Value
	case TokProbeSpec:
		return "probe '" + printable(t.Value) + "'"
	case TokKeyword:
		return "keyword '" + t.Value + "'"
	}
	return "'" + t.Value + "'"
}

// expectation phrases what the grammar wanted at token i, or "" when it
// cannot say briefly. Participle describes the expectation as the EBNF of
// the rest of the rule that failed; the first element of that is what was
// missing.
func (p *parser) expectation(ute *participle.UnexpectedTokenError, i int) string {
	prefix := fmt.Sprintf("unexpected token %q (expected ", ute.Unexpected)
	msg := ute.Message()
	if !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, ")") {
		return ""
	}
	alts := firstOfEBNF(msg[len(prefix) : len(msg)-1])
	var words []string
	seen := map[string]bool{}
	for _, a := range alts {
		w := p.describeExpected(a, i)
		if w == "" {
			return ""
		}
		if w != "-" && !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// describeExpected words one EBNF term: a literal, a <token type> or a
// grammar struct.
func (p *parser) describeExpected(term string, i int) string {
	if strings.HasPrefix(term, `"`) {
		lit, _, _ := strings.Cut(term[1:], `"`)
		if lit == ")" || lit == "]" {
			if j := p.openBracket(i); j >= 0 && p.toks[j].Value == string(openerOf(lit[0])) {
				return fmt.Sprintf("'%s' to close '%s' at %s", lit, p.toks[j].Value, p.src.Position(tokPos(p.toks[j])))
			}
		}
		return "'" + lit + "'"
	}
	switch strings.ToLower(strings.Trim(term, "<>")) {
	case "blockclose", "gstmt", "gstmtkind", "gsimplestmt", "gsimple":
		if j := p.enclosing(i); j >= 0 {
			return fmt.Sprintf("a statement or '%c' to close the block opened at %s", closerOf(p.toks[j].Value[0]), p.src.Position(tokPos(p.toks[j])))
		}
	case "blockopen", "gbody":
		return "'{' to start the probe body"
	case "predclose":
		return "'/' to end the predicate"
	case "ident":
		return "an identifier"
	case "keyword":
		return "-" // only field names take keywords; the identifier covers it
	case "int":
		return "an integer"
	case "string":
		return "a string"
	case "probespec", "gspec":
		return "a probe such as kprobe:func or BEGIN"
	case "gend":
		return "';'"
	case "gblock":
		return "'{'"
	case "gif":
		return "'if'"
	case "gelse":
		return "'if' or '{'"
	case "gtypename":
		return "a type name"
	case "gexpr", "gbinary", "gunary", "gpostfix", "gprimary", "gatom", "gsizeofarg":
		return "an expression"
	}
	return ""
}

func openerOf(c byte) byte {
	switch c {
	case ')':
		return '('
	case ']':
		return '['
	case '}':
		return '{'
	}
	return c
}

// firstOfEBNF returns the alternatives for the first element of an EBNF
// sequence, e.g. `")" GBlock` → [`")"`] and `(<ident> | <int>) "x"` →
// [`<ident>`, `<int>`]. It returns nil when the first element is optional,
// since then the real expectation includes whatever follows.
func firstOfEBNF(s string) []string {
	terms, rest := ebnfTerm(strings.TrimSpace(s))
	rest = strings.TrimSpace(rest)
	if strings.HasPrefix(rest, "?") || strings.HasPrefix(rest, "*") {
		return nil
	}
	return terms
}

// ebnfTerm splits off the first term of s, returning its alternatives.
func ebnfTerm(s string) ([]string, string) {
	switch {
	case s == "":
		return nil, ""
	case s[0] == '"':
		end := 1
		for end < len(s) && s[end] != '"' {
			if s[end] == '\\' {
				end++
			}
			end++
		}
		end = min(end+1, len(s))
		// A type constraint such as "<":Punct belongs to the literal.
		for end < len(s) && s[end] != ' ' && s[end] != ')' && s[end] != '|' && s[end] != '?' && s[end] != '*' && s[end] != '+' {
			end++
		}
		return []string{s[:end]}, s[end:]
	case s[0] == '(':
		depth, end := 0, 0
		for end = 0; end < len(s); end++ {
			if s[end] == '(' {
				depth++
			} else if s[end] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		inner := s[1:min(end, len(s))]
		var alts []string
		for _, alt := range splitTopLevel(inner) {
			first := firstOfEBNF(alt)
			if first == nil {
				return nil, ""
			}
			alts = append(alts, first...)
		}
		return alts, s[min(end+1, len(s)):]
	}
	end := strings.IndexAny(s, " ()|?*+")
	if end < 0 {
		end = len(s)
	}
	return []string{s[:end]}, s[end:]
}

// splitTopLevel splits s at the '|' not nested in parentheses.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	inLit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			inLit = !inLit
		case inLit:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
