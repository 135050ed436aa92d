package lang

import (
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var tokenTypeNames = func() map[lexer.TokenType]string {
	m := map[lexer.TokenType]string{}
	for name, t := range tokenSymbols {
		m[t] = name
	}
	return m
}()

// lexString renders src's tokens as "Type:value" words, the EOF left off.
func lexString(t *testing.T, src string) string {
	t.Helper()
	toks, err := Lex(&Source{Name: "stdin", Text: src})
	require.NoError(t, err, "lexing %q", src)
	var words []string
	for _, tok := range toks {
		if tok.EOF() {
			break
		}
		words = append(words, tokenTypeNames[tok.Type]+":"+tok.Value)
	}
	return strings.Join(words, " ")
}

func TestLexTokenStreams(t *testing.T) {
	tests := []struct{ src, want string }{
		{`BEGIN { }`, `ProbeSpec:BEGIN BlockOpen:{ BlockClose:}`},
		{`kprobe:sys_clone { printf("hi") }`,
			`ProbeSpec:kprobe:sys_clone BlockOpen:{ Ident:printf Punct:( String:"hi" Punct:) BlockClose:}`},
		{`kprobe:sys_clone < printf("hi") >`,
			`ProbeSpec:kprobe:sys_clone BlockOpen:< Ident:printf Punct:( String:"hi" Punct:) BlockClose:>`},
		{`tracepoint:syscalls:sys_enter_*, kprobe:vfs_read+0x10,BEGIN{}`,
			`ProbeSpec:tracepoint:syscalls:sys_enter_* Punct:, ProbeSpec:kprobe:vfs_read+0x10 Punct:, ProbeSpec:BEGIN BlockOpen:{ BlockClose:}`},
		{`hardware:cycles:1e6,interval:s:1{}`,
			`ProbeSpec:hardware:cycles:1e6 Punct:, ProbeSpec:interval:s:1 BlockOpen:{ BlockClose:}`},
		// Paths stay whole in uprobe specs; the predicate is set off by blanks.
		{`uprobe:/bin/bash:readline /arg0/ { }`,
			`ProbeSpec:uprobe:/bin/bash:readline PredOpen:/ Ident:arg0 PredClose:/ BlockOpen:{ BlockClose:}`},
		{`uprobe:/lib/x.so:f+0x10,ur:/usr/lib/*.so:g{}`,
			`ProbeSpec:uprobe:/lib/x.so:f+0x10 Punct:, ProbeSpec:ur:/usr/lib/*.so:g BlockOpen:{ BlockClose:}`},
		// Elsewhere a '/' ends the spec and opens the predicate.
		{`kprobe:f/pid/{}`, `ProbeSpec:kprobe:f PredOpen:/ Ident:pid PredClose:/ BlockOpen:{ BlockClose:}`},
		// Division inside a predicate: only a '/' followed by '{' or '<' closes it.
		{`kprobe:f /pid / 2 == 1/ { }`,
			`ProbeSpec:kprobe:f PredOpen:/ Ident:pid Punct:/ Int:2 Punct:== Int:1 PredClose:/ BlockOpen:{ BlockClose:}`},
		{`kprobe:f /pid / 2 == 1/ /* c */ < exit() >`,
			`ProbeSpec:kprobe:f PredOpen:/ Ident:pid Punct:/ Int:2 Punct:== Int:1 PredClose:/ BlockOpen:< Ident:exit Punct:( Punct:) BlockClose:>`},
		// Inner braces are punctuation; the block closes at depth 0.
		{`BEGIN { if (1) { } }`,
			`ProbeSpec:BEGIN BlockOpen:{ Keyword:if Punct:( Int:1 Punct:) Punct:{ Punct:} BlockClose:}`},
		// In a '<' block, '>' closes only before the next probe or the end.
		{`BEGIN < if (1 > 0) { printf("x") } >`,
			`ProbeSpec:BEGIN BlockOpen:< Keyword:if Punct:( Int:1 Punct:> Int:0 Punct:) Punct:{ Ident:printf Punct:( String:"x" Punct:) Punct:} BlockClose:>`},
		{`i:s:1 < @x = 1 > 0 ? 2 : 3; > BEGIN { }`,
			`ProbeSpec:i:s:1 BlockOpen:< Map:@x Punct:= Int:1 Punct:> Int:0 Punct:? Int:2 Punct:: Int:3 Punct:; BlockClose:> ProbeSpec:BEGIN BlockOpen:{ BlockClose:}`},
		{`BEGIN < $a = 1 > 2 > END < $b = $a->x >= 3 >> 1 > kprobe:f < @ = 1 >`,
			`ProbeSpec:BEGIN BlockOpen:< Var:$a Punct:= Int:1 Punct:> Int:2 BlockClose:> ` +
				`ProbeSpec:END BlockOpen:< Var:$b Punct:= Var:$a Punct:-> Ident:x Punct:>= Int:3 Punct:>> Int:1 BlockClose:> ` +
				`ProbeSpec:kprobe:f BlockOpen:< Map:@ Punct:= Int:1 BlockClose:>`},
		{`BEGIN < 1 > // the end
`, `ProbeSpec:BEGIN BlockOpen:< Int:1 BlockClose:>`},
		// Expression tokens.
		{`BEGIN { $x = @m[$1, $#] + arg0 - 0x1F_ff * 017 % 1_000; }`,
			`ProbeSpec:BEGIN BlockOpen:{ Var:$x Punct:= Map:@m Punct:[ Positional:$1 Punct:, Positional:$# Punct:] Punct:+ Ident:arg0 Punct:- Int:0x1F_ff Punct:* Int:017 Punct:% Int:1_000 Punct:; BlockClose:}`},
		{`BEGIN { a<<=b>>=c<=d>=e==f!=g&&h||i+=j-=k*=l/=m%=n&=o|=p^=q++ --r->s.t }`,
			`ProbeSpec:BEGIN BlockOpen:{ Ident:a Punct:<<= Ident:b Punct:>>= Ident:c Punct:<= Ident:d Punct:>= Ident:e Punct:== Ident:f Punct:!= Ident:g Punct:&& Ident:h Punct:|| Ident:i Punct:+= Ident:j Punct:-= Ident:k Punct:*= Ident:l Punct:/= Ident:m Punct:%= Ident:n Punct:&= Ident:o Punct:|= Ident:p Punct:^= Ident:q Punct:++ Punct:-- Ident:r Punct:-> Ident:s Punct:. Ident:t BlockClose:}`},
		{`BEGIN { !~^&|?:,.0 }`,
			`ProbeSpec:BEGIN BlockOpen:{ Punct:! Punct:~ Punct:^ Punct:& Punct:| Punct:? Punct:: Punct:, Punct:. Int:0 BlockClose:}`},
		{`BEGIN { "a\"b\\" "}" }`, `ProbeSpec:BEGIN BlockOpen:{ String:"a\"b\\" String:"}" BlockClose:}`},
		{`BEGIN { if else while unroll break continue return sizeof struct union enum iff }`,
			`ProbeSpec:BEGIN BlockOpen:{ Keyword:if Keyword:else Keyword:while Keyword:unroll Keyword:break Keyword:continue Keyword:return Keyword:sizeof Keyword:struct Keyword:union Keyword:enum Ident:iff BlockClose:}`},
		// Comments, #include and #! are skipped.
		{"#!/usr/bin/env gotrace\n#include <linux/sched.h>\n#include \"x.h\"\n// c\nBEGIN /* { */ { // }\n1 /* } */ }",
			`ProbeSpec:BEGIN BlockOpen:{ Int:1 BlockClose:}`},
		{"BEGIN// c\n{}", `ProbeSpec:BEGIN BlockOpen:{ BlockClose:}`},
		{"", ``},
		{"  // nothing\n/* at all */", ``},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, lexString(t, tt.src), "lexing %q", tt.src)
	}
}

func TestLexBothBlockFormsAlike(t *testing.T) {
	brace := lexString(t, `kprobe:sys_clone { printf("hi") }`)
	angle := lexString(t, `kprobe:sys_clone < printf("hi") >`)
	assert.Equal(t, brace, strings.NewReplacer("BlockOpen:<", "BlockOpen:{", "BlockClose:>", "BlockClose:}").Replace(angle))
}

func TestLexPositions(t *testing.T) {
	src := "BEGIN {\n\t$x = \"é\";\n}\nkprobe:f /a/ < 1 >"
	toks, err := Lex(&Source{Name: "f.bt", Text: src})
	require.NoError(t, err)
	type at struct {
		val               string
		off, line, column int
	}
	var got []at
	for _, tok := range toks {
		got = append(got, at{tok.Value, tok.Pos.Offset, tok.Pos.Line, tok.Pos.Column})
		assert.Equal(t, "f.bt", tok.Pos.Filename)
		if !tok.EOF() {
			assert.Equal(t, tok.Value, src[tok.Pos.Offset:tok.Pos.Offset+len(tok.Value)])
		}
	}
	// Columns count bytes: "é" is two.
	assert.Equal(t, []at{
		{"BEGIN", 0, 1, 1}, {"{", 6, 1, 7},
		{"$x", 9, 2, 2}, {"=", 12, 2, 5}, {`"é"`, 14, 2, 7}, {";", 18, 2, 11},
		{"}", 20, 3, 1},
		{"kprobe:f", 22, 4, 1}, {"/", 31, 4, 10}, {"a", 32, 4, 11}, {"/", 33, 4, 12},
		{"<", 35, 4, 14}, {"1", 37, 4, 16}, {">", 39, 4, 18},
		{"", 40, 4, 19},
	}, got)
}

// TestScriptLexerDefinition drives the lexer through participle's interface.
func TestScriptLexerDefinition(t *testing.T) {
	lex, err := ScriptLexer.Lex("x.bt", strings.NewReader("BEGIN { 1 }"))
	require.NoError(t, err)
	toks, err := lexer.ConsumeAll(lex)
	require.NoError(t, err)
	require.Len(t, toks, 5)
	assert.Equal(t, TokInt, toks[2].Type)
	assert.True(t, toks[4].EOF())
	for _, name := range []string{"EOF", "ProbeSpec", "PredOpen", "PredClose", "BlockOpen", "BlockClose",
		"Ident", "Keyword", "Int", "String", "Var", "Positional", "Map", "Punct"} {
		assert.Contains(t, ScriptLexer.Symbols(), name)
	}

	// Errors are sticky.
	lex, err = ScriptLexer.(interface {
		LexString(string, string) (lexer.Lexer, error)
	}).LexString("x.bt", "BEGIN { ` }")
	require.NoError(t, err)
	_, err = lexer.ConsumeAll(lex)
	require.Error(t, err)
	_, err2 := lex.Next()
	assert.Equal(t, err, err2)
}

func TestLexErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`BEGIN { printf("hi) }`, `stdin:1:16-22: ERROR: unterminated string: missing closing '"'
BEGIN { printf("hi) }
               ~~~~~~`},
		{"BEGIN { \"abc\n\" }", `stdin:1:9-13: ERROR: unterminated string: missing closing '"'
BEGIN { "abc
        ~~~~`},
		{`BEGIN { printf("hi"); `, `stdin:1:22-23: ERROR: missing '}' to close the block opened at 1:7
BEGIN { printf("hi"); 
                     ~`},
		{`BEGIN < printf("hi") `, `stdin:1:21-22: ERROR: missing '>' to close the block opened at 1:7 (the closing '>' must be followed by the next probe or the end of the script)
BEGIN < printf("hi") 
                    ~`},
		{`BEGIN { if (x) { y`, `stdin:1:19-20: ERROR: missing '}' to close '{' at 1:16
BEGIN { if (x) { y
                  ~`},
		{`BEGIN { printf("hi" }`, `stdin:1:21-22: ERROR: syntax error, unexpected '}', expected ')' to close '(' at 1:15
BEGIN { printf("hi" }
                    ~`},
		{`BEGIN { @x[1) }`, `stdin:1:13-14: ERROR: syntax error, unexpected ')', expected ']' to close '[' at 1:11
BEGIN { @x[1) }
            ~`},
		{`kprobe:f /pid { }`, `stdin:1:15-16: ERROR: missing '/' to close the predicate opened at 1:10
kprobe:f /pid { }
              ~`},
		{`kprobe:f /pid/`, `stdin:1:15-16: ERROR: missing probe body: the predicate opened at 1:10 must end with '/' followed by '{' or '<'
kprobe:f /pid/
              ~`},
		{"BEGIN { /* x }", `stdin:1:9-11: ERROR: unterminated comment: '/*' has no closing '*/'
BEGIN { /* x }
        ~~`},
		{"BEGIN { ` }", "stdin:1:9-10: ERROR: unexpected character '`'\nBEGIN { ` }\n        ~"},
		{"BEGIN { \xff }", "stdin:1:9-10: ERROR: unexpected character byte 0xff\nBEGIN { \xff }\n        ~"},
		{"BEGIN { $ }", `stdin:1:9-10: ERROR: expected a variable name or a positional parameter number after '$'
BEGIN { $ }
        ~`},
		{"BEGIN { $1x }", `stdin:1:9-12: ERROR: invalid variable name '$1x': names start with a letter or '_', positional parameters are all digits
BEGIN { $1x }
        ~~~`},
		{"#define X 1\nBEGIN { }", `stdin:1:1-8: ERROR: unsupported preprocessor directive '#define': only #include is accepted (and ignored)
#define X 1
~~~~~~~`},
	}
	for _, tt := range tests {
		_, err := Lex(&Source{Name: "stdin", Text: tt.src})
		if assert.Error(t, err, "lexing %q", tt.src) {
			assert.Equal(t, tt.want, err.Error(), "lexing %q", tt.src)
		}
	}
}

func TestLexNestingLimit(t *testing.T) {
	src := "BEGIN { " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " }"
	_, err := Lex(&Source{Name: "stdin", Text: src})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stdin:1:209-210: ERROR: expression nested too deeply (more than 200 levels)")

	ok := "BEGIN { " + strings.Repeat("(", maxNesting) + "1" + strings.Repeat(")", maxNesting) + " }"
	_, err = Lex(&Source{Name: "stdin", Text: ok})
	assert.NoError(t, err)
}
