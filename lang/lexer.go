package lang

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The lexer is hand-written because the language changes shape with
// context: at the top level a probe spec like `uprobe:/bin/bash:readline`
// or `hardware:cycles:1e6` is one token, while inside predicates and
// blocks the same characters are operators, numbers and identifiers. It
// also decides where a `< ... >` block ends, which no regular grammar can:
// a '>' closes the block only when nothing after it could continue an
// expression (the end of the script or the start of the next probe).

// Token types. The names in tokenSymbols are the ones the participle
// grammar (grammar.go) refers to.
const (
	TokProbeSpec  lexer.TokenType = iota + 1 // kprobe:sys_clone, BEGIN, ...
	TokPredOpen                              // the '/' that opens a predicate
	TokPredClose                             // the '/' that closes it
	TokBlockOpen                             // '{' or '<' opening a probe body
	TokBlockClose                            // the matching '}' or '>'
	TokIdent                                 // pid, printf, args, ...
	TokKeyword                               // if, else, while, sizeof, struct, ...
	TokInt                                   // 42, 0x2a, 052, 1_000, 1e6 (raw text)
	TokString                                // "..." (raw text, quotes and escapes included)
	TokVar                                   // $name
	TokPositional                            // $1, $#
	TokMap                                   // @name or @
	TokPunct                                 // operators and punctuation
)

var tokenSymbols = map[string]lexer.TokenType{
	"EOF":        lexer.EOF,
	"ProbeSpec":  TokProbeSpec,
	"PredOpen":   TokPredOpen,
	"PredClose":  TokPredClose,
	"BlockOpen":  TokBlockOpen,
	"BlockClose": TokBlockClose,
	"Ident":      TokIdent,
	"Keyword":    TokKeyword,
	"Int":        TokInt,
	"String":     TokString,
	"Var":        TokVar,
	"Positional": TokPositional,
	"Map":        TokMap,
	"Punct":      TokPunct,
}

// keywords cannot be used as identifiers.
var keywords = map[string]bool{
	"if": true, "else": true, "while": true, "unroll": true,
	"break": true, "continue": true, "return": true,
	"sizeof": true, "struct": true, "union": true, "enum": true,
}

// probeKinds maps every probe type and alias to its canonical name.
var probeKinds = map[string]string{
	"BEGIN": "BEGIN", "begin": "BEGIN",
	"END": "END", "end": "END",
	"kprobe": "kprobe", "k": "kprobe",
	"kretprobe": "kretprobe", "kr": "kretprobe",
	"uprobe": "uprobe", "u": "uprobe",
	"uretprobe": "uretprobe", "ur": "uretprobe",
	"tracepoint": "tracepoint", "t": "tracepoint",
	"rawtracepoint": "rawtracepoint", "rt": "rawtracepoint",
	"profile": "profile", "p": "profile",
	"interval": "interval", "i": "interval",
	"software": "software", "s": "software",
	"hardware": "hardware", "h": "hardware",
	"fentry": "fentry", "f": "fentry", "kfunc": "fentry",
	"fexit": "fexit", "fr": "fexit", "kretfunc": "fexit",
	"usdt": "usdt", "U": "usdt",
	"watchpoint": "watchpoint", "w": "watchpoint",
	"asyncwatchpoint": "asyncwatchpoint",
}

// pathProbes are the probe kinds whose spec holds a file path, so a '/'
// in them does not start a predicate.
var pathProbes = map[string]bool{"uprobe": true, "uretprobe": true, "usdt": true}

// puncts lists every operator, longest first so the scanner takes the
// longest match.
var puncts = []string{
	"<<=", ">>=",
	"<=", ">=", "==", "!=", "&&", "||", "<<", ">>", "+=", "-=", "*=", "/=",
	"%=", "&=", "|=", "^=", "++", "--", "->",
	"+", "-", "*", "/", "%", "&", "|", "^", "!", "~", "<", ">", "=", ".",
	",", ";", ":", "?", "(", ")", "[", "]", "{", "}",
}

// maxNesting bounds how deeply brackets (and ?: arms) may nest. The parser
// recurses through every precedence level for each level of nesting, so an
// unbounded depth would let a hostile script exhaust the stack.
const maxNesting = 200

// ScriptLexer is the participle lexer.Definition for gotrace scripts.
var ScriptLexer lexer.Definition = scriptLexer{}

type scriptLexer struct{}

func (scriptLexer) Symbols() map[string]lexer.TokenType { return tokenSymbols }

func (scriptLexer) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return newScanner(&Source{Name: filename, Text: string(b)}), nil
}

func (scriptLexer) LexString(filename string, s string) (lexer.Lexer, error) {
	return newScanner(&Source{Name: filename, Text: s}), nil
}

// Lex splits src into tokens, ending with an EOF token. On a lexical error
// it returns the tokens before the error and a *Error.
func Lex(src *Source) ([]lexer.Token, error) {
	sc := newScanner(src)
	var toks []lexer.Token
	for {
		t, err := sc.Next()
		if err != nil {
			return toks, err
		}
		toks = append(toks, t)
		if t.EOF() {
			return toks, nil
		}
	}
}

type lexMode uint8

const (
	modeTop   lexMode = iota // between probes: probe specs, ',', '/', '{', '<'
	modePred                 // inside /predicate/
	modeBlock                // inside a probe body
)

// opening is an open bracket (or predicate/block delimiter) and where it is.
type opening struct {
	ch byte
	at Pos
}

// scanner implements lexer.Lexer over one Source.
type scanner struct {
	src     *Source
	s       string
	pos     Pos
	mode    lexMode
	outer   opening   // the delimiter that opened the current predicate or block
	nest    []opening // brackets open inside it
	ternary int       // '?' seen without their ':' yet, counted towards maxNesting
	lastEnd Pos       // end of the last token returned
	err     error     // sticky: once failed, always failed
}

func newScanner(src *Source) *scanner {
	start := Pos{Offset: 0, Line: 1, Col: 1}
	return &scanner{src: src, s: src.Text, pos: start, lastEnd: start}
}

func (l *scanner) Next() (lexer.Token, error) {
	if l.err != nil {
		return lexer.Token{}, l.err
	}
	tok, err := l.next()
	if err != nil {
		l.err = err
		return lexer.Token{}, err
	}
	if !tok.EOF() {
		l.lastEnd = l.pos
	}
	return tok, nil
}

// advance moves the position n bytes forward.
func (l *scanner) advance(n int) {
	for i := 0; i < n && l.pos.Offset < len(l.s); i++ {
		if l.s[l.pos.Offset] == '\n' {
			l.pos.Line++
			l.pos.Col = 1
		} else {
			l.pos.Col++
		}
		l.pos.Offset++
	}
}

// posAt is the position of byte offset off, which must be on the current
// line at or after the current position.
func (l *scanner) posAt(off int) Pos {
	return Pos{Offset: off, Line: l.pos.Line, Col: l.pos.Col + off - l.pos.Offset}
}

func (l *scanner) errorf(start, end Pos, format string, args ...any) *Error {
	return &Error{Src: l.src, Span: Span{Start: start, End: end}, Msg: fmt.Sprintf(format, args...)}
}

// errorAtEnd reports a problem found at the end of the input. It points
// just past the last token, where the missing text belongs.
func (l *scanner) errorAtEnd(format string, args ...any) *Error {
	end := l.lastEnd
	end.Col++
	end.Offset++
	return l.errorf(l.lastEnd, end, format, args...)
}

func (l *scanner) token(typ lexer.TokenType, n int) lexer.Token {
	t := lexer.Token{
		Type:  typ,
		Value: l.s[l.pos.Offset : l.pos.Offset+n],
		Pos:   lexer.Position{Filename: l.src.Name, Offset: l.pos.Offset, Line: l.pos.Line, Column: l.pos.Col},
	}
	l.advance(n)
	return t
}

func (l *scanner) next() (lexer.Token, error) {
	if err := l.skipSpace(); err != nil {
		return lexer.Token{}, err
	}
	if l.pos.Offset >= len(l.s) {
		return l.eof()
	}
	if l.mode == modeTop {
		return l.topToken()
	}
	return l.exprToken()
}

// skipSpace skips whitespace and comments, and at the top level also
// `#include` lines and a first-line `#!`.
func (l *scanner) skipSpace() error {
	for l.pos.Offset < len(l.s) {
		rest := l.s[l.pos.Offset:]
		switch {
		case isSpace(rest[0]):
			l.advance(1)
		case strings.HasPrefix(rest, "//"):
			l.advance(lineLen(rest))
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				start := l.pos
				return l.errorf(start, l.posAt(l.pos.Offset+2), "unterminated comment: '/*' has no closing '*/'")
			}
			l.advance(end + 4)
		case l.mode == modeTop && (strings.HasPrefix(rest, "#include") || l.pos.Offset == 0 && strings.HasPrefix(rest, "#!")):
			l.advance(lineLen(rest))
		default:
			return nil
		}
	}
	return nil
}

func (l *scanner) eof() (lexer.Token, error) {
	switch l.mode {
	case modePred:
		if len(l.nest) > 0 {
			return lexer.Token{}, l.unclosed()
		}
		return lexer.Token{}, l.errorAtEnd("missing probe body: the predicate opened at %s must end with '/' followed by '{' or '<'", l.src.Position(l.outer.at))
	case modeBlock:
		if len(l.nest) > 0 {
			return lexer.Token{}, l.unclosed()
		}
		if l.outer.ch == '<' {
			return lexer.Token{}, l.errorAtEnd("missing '>' to close the block opened at %s (the closing '>' must be followed by the next probe or the end of the script)", l.src.Position(l.outer.at))
		}
		return lexer.Token{}, l.errorAtEnd("missing '}' to close the block opened at %s", l.src.Position(l.outer.at))
	}
	return lexer.Token{Type: lexer.EOF, Pos: lexer.Position{Filename: l.src.Name, Offset: l.pos.Offset, Line: l.pos.Line, Column: l.pos.Col}}, nil
}

func (l *scanner) unclosed() *Error {
	o := l.nest[len(l.nest)-1]
	return l.errorAtEnd("missing '%c' to close '%c' at %s", closerOf(o.ch), o.ch, l.src.Position(o.at))
}

// topToken lexes between probes.
func (l *scanner) topToken() (lexer.Token, error) {
	rest := l.s[l.pos.Offset:]
	switch c := rest[0]; c {
	case ',', '}', '>', ';':
		// '}', '>' and ';' here are strays; the parser reports them.
		return l.token(TokPunct, 1), nil
	case '{', '<':
		l.enter(modeBlock, c)
		return l.token(TokBlockOpen, 1), nil
	case '/':
		l.enter(modePred, c)
		return l.token(TokPredOpen, 1), nil
	case '#':
		n := identLen(rest[1:]) + 1
		return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+n), "unsupported preprocessor directive '%s': only #include is accepted (and ignored)", printable(rest[:n]))
	}
	return l.token(TokProbeSpec, specLen(rest)), nil
}

// specLen is the length of the probe spec at the start of s: a run of
// characters other than whitespace , { } < > ;. Outside uprobe/uretprobe/usdt
// specs a '/' ends it too, as it starts a predicate or a comment.
func specLen(s string) int {
	pathOK := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isSpace(c) || strings.IndexByte(",{}<>;", c) >= 0:
			return i
		case c == '/' && !pathOK:
			return i
		case c == ':' && !pathOK:
			pathOK = pathProbes[probeKinds[s[:i]]]
		}
	}
	return len(s)
}

func (l *scanner) enter(m lexMode, ch byte) {
	l.mode = m
	l.outer = opening{ch: ch, at: l.pos}
	l.nest = l.nest[:0]
	l.ternary = 0
}

// exprToken lexes inside predicates and blocks.
func (l *scanner) exprToken() (lexer.Token, error) {
	rest := l.s[l.pos.Offset:]
	c := rest[0]
	switch {
	case isIdentStart(c):
		n := identLen(rest)
		if keywords[rest[:n]] {
			return l.token(TokKeyword, n), nil
		}
		return l.token(TokIdent, n), nil
	case isDigit(c):
		return l.token(TokInt, identLen(rest)), nil
	case c == '"':
		return l.stringToken(rest)
	case c == '$':
		return l.dollarToken(rest)
	case c == '@':
		return l.token(TokMap, 1+identLen(rest[1:])), nil
	}
	op := ""
	for _, p := range puncts {
		if strings.HasPrefix(rest, p) {
			op = p
			break
		}
	}
	if op == "" {
		r, size := utf8.DecodeRuneInString(rest)
		what := fmt.Sprintf("'%c'", r)
		if r == utf8.RuneError || !isPrintable(r) {
			what, size = fmt.Sprintf("byte 0x%02x", c), 1
		}
		switch c {
		case '\'':
			what += ": strings are written in double quotes, e.g. \"abc\""
		case '#':
			what += ": comments start with // or /*"
		}
		return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+size), "unexpected character %s", what)
	}
	switch op {
	case "(", "[", "{":
		if op == "{" && l.mode == modePred && len(l.nest) == 0 {
			return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+1), "missing '/' to close the predicate opened at %s", l.src.Position(l.outer.at))
		}
		if len(l.nest)+l.ternary >= maxNesting {
			return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+1), "expression nested too deeply (more than %d levels)", maxNesting)
		}
		l.nest = append(l.nest, opening{ch: op[0], at: l.pos})
	case ")", "]", "}":
		if n := len(l.nest); n > 0 {
			o := l.nest[n-1]
			if closerOf(o.ch) != op[0] {
				return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+1), "syntax error, unexpected '%s', expected '%c' to close '%c' at %s", op, closerOf(o.ch), o.ch, l.src.Position(o.at))
			}
			l.nest = l.nest[:n-1]
		} else if op == "}" && l.mode == modeBlock && l.outer.ch == '{' {
			l.mode = modeTop
			return l.token(TokBlockClose, 1), nil
		}
	case ">":
		if l.mode == modeBlock && l.outer.ch == '<' && len(l.nest) == 0 && l.probeFollows(l.pos.Offset+1) {
			l.mode = modeTop
			return l.token(TokBlockClose, 1), nil
		}
	case "/":
		if l.mode == modePred && len(l.nest) == 0 {
			if i := skipBlank(l.s, l.pos.Offset+1); i < len(l.s) && (l.s[i] == '{' || l.s[i] == '<') {
				l.mode = modeTop
				return l.token(TokPredClose, 1), nil
			}
		}
	case "?":
		if len(l.nest)+l.ternary >= maxNesting {
			return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+1), "expression nested too deeply (more than %d levels)", maxNesting)
		}
		l.ternary++
	case ":":
		if l.ternary > 0 {
			l.ternary--
		}
	case ";":
		l.ternary = 0
	}
	return l.token(TokPunct, len(op)), nil
}

// probeFollows reports whether the text from off on, after blanks and
// comments, is the end of the input or the start of a probe: BEGIN/END as a
// word, or `kind:` for a known probe kind or alias.
func (l *scanner) probeFollows(off int) bool {
	i := skipBlank(l.s, off)
	if i >= len(l.s) {
		return true
	}
	word := l.s[i : i+identLen(l.s[i:])]
	if word == "" || !isIdentStart(word[0]) {
		return false
	}
	if kind, ok := probeKinds[word]; ok {
		if kind == "BEGIN" || kind == "END" {
			return true
		}
		return i+len(word) < len(l.s) && l.s[i+len(word)] == ':'
	}
	return false
}

func (l *scanner) stringToken(rest string) (lexer.Token, error) {
	for i := 1; i < len(rest); i++ {
		switch rest[i] {
		case '"':
			return l.token(TokString, i+1), nil
		case '\\':
			if i+1 < len(rest) && rest[i+1] != '\n' {
				i++
			}
		case '\n':
			return lexer.Token{}, l.unterminatedString(rest[:i])
		}
	}
	return lexer.Token{}, l.unterminatedString(rest)
}

func (l *scanner) unterminatedString(s string) *Error {
	s = strings.TrimRight(s, "\r")
	return l.errorf(l.pos, l.posAt(l.pos.Offset+len(s)), "unterminated string: missing closing '\"'")
}

func (l *scanner) dollarToken(rest string) (lexer.Token, error) {
	if strings.HasPrefix(rest, "$#") {
		return l.token(TokPositional, 2), nil
	}
	n := identLen(rest[1:])
	if n == 0 {
		return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+1), "expected a variable name or a positional parameter number after '$'")
	}
	name := rest[1 : 1+n]
	if isIdentStart(name[0]) {
		return l.token(TokVar, 1+n), nil
	}
	if strings.Trim(name, "0123456789") != "" {
		return lexer.Token{}, l.errorf(l.pos, l.posAt(l.pos.Offset+1+n), "invalid variable name '$%s': names start with a letter or '_', positional parameters are all digits", name)
	}
	return l.token(TokPositional, 1+n), nil
}

// skipBlank returns the offset of the first byte at or after off that is
// not whitespace or inside a comment.
func skipBlank(s string, off int) int {
	for off < len(s) {
		switch rest := s[off:]; {
		case isSpace(rest[0]):
			off++
		case strings.HasPrefix(rest, "//"):
			off += lineLen(rest)
		case strings.HasPrefix(rest, "/*"):
			end := strings.Index(rest[2:], "*/")
			if end < 0 {
				return len(s)
			}
			off += end + 4
		default:
			return off
		}
	}
	return off
}

func closerOf(c byte) byte {
	switch c {
	case '(':
		return ')'
	case '[':
		return ']'
	case '{':
		return '}'
	case '<':
		return '>'
	}
	return c
}

// lineLen is the length of the first line of s, without its newline.
func lineLen(s string) int {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return i
	}
	return len(s)
}

// identLen is the length of the run of identifier characters at the start
// of s.
func identLen(s string) int {
	i := 0
	for i < len(s) && (isIdentStart(s[i]) || isDigit(s[i])) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isPrintable(r rune) bool { return r > ' ' && r != 0x7f && r != utf8.RuneError }

// printable makes s safe to quote in a message.
func printable(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !isPrintable(r) }) < 0 {
		return s
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}
