package lang

import (
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateParseGolden = flag.Bool("update-parse", false, "rewrite lang/testdata/parse/*.golden from the parser's output")

func mustParse(t *testing.T, src string) *Program {
	t.Helper()
	prog, err := Parse(&Source{Name: "stdin", Text: src})
	require.NoError(t, err, "parsing %q", src)
	require.NotNil(t, prog)
	checkSpans(t, src, prog)
	return prog
}

// parseExpr parses `BEGIN { x }` and prints x.
func parseExpr(t *testing.T, x string) string {
	t.Helper()
	prog := mustParse(t, "BEGIN { "+x+" }")
	require.Len(t, prog.Probes[0].Body.Stmts, 1, "parsing %q", x)
	return prog.Probes[0].Body.Stmts[0].String()
}

func TestParsePrecedence(t *testing.T) {
	tests := []struct{ src, want string }{
		// Each level against the next tighter one, both ways round.
		{`a || b && c`, `(a || (b && c))`},
		{`a && b || c`, `((a && b) || c)`},
		{`a && b | c`, `(a && (b | c))`},
		{`a | b ^ c`, `(a | (b ^ c))`},
		{`a ^ b | c`, `((a ^ b) | c)`},
		{`a ^ b & c`, `(a ^ (b & c))`},
		{`a & b == c`, `(a & (b == c))`},
		{`a == b & c`, `((a == b) & c)`},
		{`a != b < c`, `(a != (b < c))`},
		{`a <= b << c`, `(a <= (b << c))`},
		{`a >= b >> c`, `(a >= (b >> c))`},
		{`a > b`, `(a > b)`},
		{`a << b + c`, `(a << (b + c))`},
		{`a >> b - c`, `(a >> (b - c))`},
		{`a + b * c`, `(a + (b * c))`},
		{`a - b / c`, `(a - (b / c))`},
		{`a * b % c`, `((a * b) % c)`},
		{`1 + 2 * 3 << 1 == 4 & 5 ^ 6 | 7 && 8 || 9`, `((((((((1 + (2 * 3)) << 1) == 4) & 5) ^ 6) | 7) && 8) || 9)`},
		{`9 || 8 && 7 | 6 ^ 5 & 4 == 1 << 3 * 2 + 1`, `(9 || (8 && (7 | (6 ^ (5 & (4 == (1 << ((3 * 2) + 1))))))))`},
		// Left associativity.
		{`a - b - c`, `((a - b) - c)`},
		{`a / b / c`, `((a / b) / c)`},
		{`a < b < c`, `((a < b) < c)`},
		{`a == b != c`, `((a == b) != c)`},
		// Ternary: loosest, right-associative.
		{`a ? b : c`, `(a ? b : c)`},
		{`a ? b : c ? d : e`, `(a ? b : (c ? d : e))`},
		{`a ? b ? c : d : e`, `(a ? (b ? c : d) : e)`},
		{`a || b ? c + 1 : d && e`, `((a || b) ? (c + 1) : (d && e))`},
		{`(a ? b : c) ? d : e`, `((a ? b : c) ? d : e)`},
		// Parentheses.
		{`(a + b) * c`, `((a + b) * c)`},
		{`((a))`, `a`},
		// Unary and casts bind tighter than binary operators.
		{`-a * b`, `(-a * b)`},
		{`!a && ~b`, `(!a && ~b)`},
		{`- -a`, `--a`},
		{`*$p + &$q`, `(*$p + &$q)`},
		{`-(a + b)`, `-(a + b)`},
		{`(uint32)a + b`, `((uint32)a + b)`},
		{`(int8)-1`, `(int8)-1`},
		{`(uint8)(uint16)a`, `(uint8)(uint16)a`},
		{`(unsigned long long)a`, `(unsigned long long)a`},
		{`(struct task_struct *)curtask`, `(struct task_struct*)curtask`},
		{`(union u **)a`, `(union u**)a`},
		{`(a)-b`, `(a - b)`},
		// Postfix binds tighter than unary and casts.
		{`-a->b`, `-a->b`},
		{`!$x++`, `!$x++`},
		{`++$x`, `++$x`},
		{`--@x[1]`, `--@x[1]`},
		{`$x--`, `$x--`},
		{`@x[1, 2]++`, `@x[1, 2]++`},
		{`$x++ + 1`, `($x++ + 1)`},
		// Postfix chains.
		{`curtask->real_parent->pid`, `curtask->real_parent->pid`},
		{`args->filename`, `args->filename`},
		{`$t.0.1`, `$t.0.1`},
		{`$a.b->c[1].d`, `$a.b->c[1].d`},
		{`@m[1][2]`, `@m[1][2]`},
		{`args.if`, `args.if`},
		// Primaries.
		{`f()`, `f()`},
		{`printf("%d %s\n", pid, comm)`, `printf("%d %s\n", pid, comm)`},
		{`count()`, `count()`},
		{`lhist($x, 0, 100, 10)`, `lhist($x, 0, 100, 10)`},
		{`@`, `@`},
		{`@[1]`, `@[1]`},
		{`@x[a, b]`, `@x[a, b]`},
		{`@x[(a, b)]`, `@x[(a, b)]`},
		{`$1 + $# + $22`, `(($1 + $#) + $22)`},
		{`sizeof(struct task_struct)`, `sizeof(struct task_struct)`},
		{`sizeof(uint32)`, `sizeof(uint32)`},
		{`sizeof($x + 1)`, `sizeof(($x + 1))`},
		{`sizeof(struct x *)`, `sizeof(struct x*)`},
		// Tuples versus parentheses.
		{`(1, "a", x)`, `(1, "a", x)`},
		{`(1, (2, 3))`, `(1, (2, 3))`},
		{`(1)`, `1`},
		{`((1, 2))`, `(1, 2)`},
		{`(1, 2).0`, `(1, 2).0`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, parseExpr(t, tt.src), "parsing %q", tt.src)
	}
}

func TestParseNodeTypes(t *testing.T) {
	// The printer cannot tell `(T)x->f` from `((T)x)->f`; the tree can.
	prog := mustParse(t, `BEGIN { (struct task_struct *)curtask->pid; ((struct task_struct *)curtask)->pid }`)
	stmts := prog.Probes[0].Body.Stmts
	cast := stmts[0].(*ExprStmt).X.(*CastExpr)
	assert.Equal(t, &TypeName{Name: "struct task_struct", Pointers: 1, Span: cast.Type.Span}, cast.Type)
	assert.IsType(t, &FieldExpr{}, cast.X)
	field := stmts[1].(*ExprStmt).X.(*FieldExpr)
	assert.True(t, field.Arrow)
	assert.IsType(t, &CastExpr{}, field.X)

	x := parseExprNode(t, `$1 + $#`).(*BinaryExpr)
	assert.Equal(t, &PositionalExpr{N: 1, Span: x.X.NodeSpan()}, x.X)
	assert.Equal(t, &PositionalExpr{Count: true, Span: x.Y.NodeSpan()}, x.Y)

	m := parseExprNode(t, `@x[a, b]`).(*MapExpr)
	assert.Equal(t, "@x", m.Name)
	assert.Len(t, m.Keys, 2)

	v := parseExprNode(t, `$x`).(*VarExpr)
	assert.Equal(t, "x", v.Name)

	so := parseExprNode(t, `sizeof(pid)`).(*SizeofExpr)
	assert.Nil(t, so.Type)
	assert.IsType(t, &IdentExpr{}, so.X)
}

func parseExprNode(t *testing.T, x string) Expr {
	t.Helper()
	prog := mustParse(t, "BEGIN { "+x+" }")
	return prog.Probes[0].Body.Stmts[0].(*ExprStmt).X
}

func TestParseStatements(t *testing.T) {
	tests := []struct{ src, want string }{
		{`BEGIN { }`, `BEGIN { }`},
		{`BEGIN { ; ;; }`, `BEGIN { }`},
		{`BEGIN { exit() }`, `BEGIN { exit(); }`},
		{`BEGIN { exit(); }`, `BEGIN { exit(); }`},
		{`BEGIN { $x = 1; $y = 2 }`, `BEGIN { $x = 1; $y = 2; }`},
		{`BEGIN { @x[1, "a"] = count(); @ = 1; @y[pid] = (1, 2) }`, `BEGIN { @x[1, "a"] = count(); @ = 1; @y[pid] = (1, 2); }`},
		{`BEGIN { $a += 1; $a -= 1; $a *= 2; $a /= 2; $a %= 3; $a &= 4; $a |= 5; $a ^= 6; $a <<= 7; $a >>= 8 }`,
			`BEGIN { $a += 1; $a -= 1; $a *= 2; $a /= 2; $a %= 3; $a &= 4; $a |= 5; $a ^= 6; $a <<= 7; $a >>= 8; }`},
		{`BEGIN { $x++; @x[k]--; ++$x; --@y }`, `BEGIN { $x++; @x[k]--; ++$x; --@y; }`},
		{`BEGIN { if (x) { a() } }`, `BEGIN { if (x) { a(); }; }`},
		{`BEGIN { if (x) { a() } else { b() } }`, `BEGIN { if (x) { a(); } else { b(); }; }`},
		{`BEGIN { if (x) { } else if (y) { b() } else { c() } }`, `BEGIN { if (x) { } else if (y) { b(); } else { c(); }; }`},
		{`BEGIN { if (x) { } $y = 1; if (y) { } else { } $z = 2 }`, `BEGIN { if (x) { }; $y = 1; if (y) { } else { }; $z = 2; }`},
		{`BEGIN { while ($i < 10) { $i++; if ($i == 5) { break } continue; } }`,
			`BEGIN { while (($i < 10)) { $i++; if (($i == 5)) { break; }; continue; }; }`},
		{`BEGIN { unroll(5) { @x = @x + 1 } return }`, `BEGIN { unroll(5) { @x = (@x + 1); }; return; }`},
		{`BEGIN { if (1) { if (2) { if (3) { x } } } }`, `BEGIN { if (1) { if (2) { if (3) { x; }; }; }; }`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mustParse(t, tt.src).String(), "parsing %q", tt.src)
	}
	// Statement kinds.
	prog := mustParse(t, `BEGIN { $x = 1; $x += 2; $x++; break; if (1) { } while (1) { } unroll(2) { } }`)
	stmts := prog.Probes[0].Body.Stmts
	assert.IsType(t, &AssignStmt{}, stmts[0])
	assert.Equal(t, "+=", stmts[1].(*AssignStmt).Op)
	assert.IsType(t, &IncDecExpr{}, stmts[2].(*ExprStmt).X)
	assert.Equal(t, "break", stmts[3].(*JumpStmt).Keyword)
	assert.IsType(t, &IfStmt{}, stmts[4])
	assert.IsType(t, &WhileStmt{}, stmts[5])
	assert.IsType(t, &UnrollStmt{}, stmts[6])
	assert.Nil(t, stmts[4].(*IfStmt).Else)
}

func TestParseProbes(t *testing.T) {
	tests := []struct {
		src   string
		kinds []string
		parts [][]string
	}{
		{`BEGIN { }`, []string{"BEGIN"}, [][]string{nil}},
		{`begin, end { }`, []string{"BEGIN", "END"}, [][]string{nil, nil}},
		{`kprobe:sys_clone { }`, []string{"kprobe"}, [][]string{{"sys_clone"}}},
		{`k:vfs_*,kr:vfs_read+0x10 { }`, []string{"kprobe", "kretprobe"}, [][]string{{"vfs_*"}, {"vfs_read+0x10"}}},
		{`tracepoint:syscalls:sys_enter_* { }`, []string{"tracepoint"}, [][]string{{"syscalls", "sys_enter_*"}}},
		{`t:sched:sched_switch, rt:sched_switch { }`, []string{"tracepoint", "rawtracepoint"}, [][]string{{"sched", "sched_switch"}, {"sched_switch"}}},
		{`uprobe:/bin/bash:readline { }`, []string{"uprobe"}, [][]string{{"/bin/bash", "readline"}}},
		{`u:/lib/x.so:f+0x10, ur:libc:malloc { }`, []string{"uprobe", "uretprobe"}, [][]string{{"/lib/x.so", "f+0x10"}, {"libc", "malloc"}}},
		{`uprobe:/bin/prog:cpp:ns::f { }`, []string{"uprobe"}, [][]string{{"/bin/prog", "cpp:ns::f"}}},
		{`usdt:/bin/prog:provider:probe, U:/bin/prog:probe { }`, []string{"usdt", "usdt"}, [][]string{{"/bin/prog", "provider", "probe"}, {"/bin/prog", "probe"}}},
		{`profile:hz:99, p:s:1, interval:s:1, i:ms:100 { }`, []string{"profile", "profile", "interval", "interval"},
			[][]string{{"hz", "99"}, {"s", "1"}, {"s", "1"}, {"ms", "100"}}},
		{`software:cpu-clock:100000, s:faults:1, hardware:cycles:1e6, h:cache-misses:10 { }`, []string{"software", "software", "hardware", "hardware"},
			[][]string{{"cpu-clock", "100000"}, {"faults", "1"}, {"cycles", "1e6"}, {"cache-misses", "10"}}},
		{`fentry:f, f:g, kfunc:h, fexit:f, fr:g, kretfunc:h { }`, []string{"fentry", "fentry", "fentry", "fexit", "fexit", "fexit"},
			[][]string{{"f"}, {"g"}, {"h"}, {"f"}, {"g"}, {"h"}}},
		{`watchpoint:0x1000:8:rw, w:0x10:4:w, asyncwatchpoint:0x1:1:r { }`, []string{"watchpoint", "watchpoint", "asyncwatchpoint"},
			[][]string{{"0x1000", "8", "rw"}, {"0x10", "4", "w"}, {"0x1", "1", "r"}}},
	}
	for _, tt := range tests {
		prog := mustParse(t, tt.src)
		require.Len(t, prog.Probes, 1)
		specs := prog.Probes[0].Specs
		require.Len(t, specs, len(tt.kinds), tt.src)
		for i, s := range specs {
			assert.Equal(t, tt.kinds[i], s.Kind, tt.src)
			assert.Equal(t, tt.parts[i], s.Parts, tt.src)
			assert.Equal(t, tt.src[s.Span.Start.Offset:s.Span.End.Offset], s.Raw, tt.src)
		}
	}

	prog := mustParse(t, `kprobe:f /pid / 2 == 1/ { }`)
	assert.Equal(t, `kprobe:f /((pid / 2) == 1)/ { }`, prog.String())
	prog = mustParse(t, `k:f/pid > 1 && comm == "x"/{}`)
	assert.Equal(t, `kprobe:f /((pid > 1) && (comm == "x"))/ { }`, prog.String())
	assert.Nil(t, mustParse(t, `BEGIN { }`).Probes[0].Pred)
}

// TestParseAngleBlocks checks that `< >` bodies give the same tree as `{ }`.
func TestParseAngleBlocks(t *testing.T) {
	same := []struct{ angle, brace string }{
		{`kprobe:sys_clone < printf("hi") >`, `kprobe:sys_clone { printf("hi") }`},
		{`BEGIN < if (1 > 0) { printf("x") } >`, `BEGIN { if (1 > 0) { printf("x") } }`},
		{`i:s:1 < @x = 1 > 0 ? 2 : 3; > BEGIN { }`, `i:s:1 { @x = 1 > 0 ? 2 : 3; } BEGIN { }`},
		{`BEGIN < @a = 1 > 2 > END < @b = $x > 1 > kprobe:f /pid > 1/ < $c = (1 > 2) >`,
			`BEGIN { @a = 1 > 2 } END { @b = $x > 1 } kprobe:f /pid > 1/ { $c = (1 > 2) }`},
		{"BEGIN < $a = 1; >\n\n// done\n", "BEGIN { $a = 1; }"},
		{`BEGIN < $a = $b >> 2 >= 1 > begin < $x->y > 0 > t:a:b < >`, `BEGIN { $a = $b >> 2 >= 1 } BEGIN { $x->y > 0 } t:a:b { }`},
	}
	for _, tt := range same {
		a, b := mustParse(t, tt.angle), mustParse(t, tt.brace)
		assert.Equal(t, b.String(), a.String(), "parsing %q", tt.angle)
	}
}

func TestParseStrings(t *testing.T) {
	tests := []struct{ src, want string }{
		{`""`, ""},
		{`"hi"`, "hi"},
		{`"a\nb\tc\rd\\e\"f\'g"`, "a\nb\tc\rd\\e\"f'g"},
		{`"\x41\x4a\x4Bz\x7"`, "AJKz\x07"},
		{`"\0\101\1012\7"`, "\x00AA2\x07"},
		{`"\a\b\f\v"`, "\a\b\f\v"},
		{`"é/*//"`, "é/*//"},
	}
	for _, tt := range tests {
		lit := parseExprNode(t, tt.src).(*StrLit)
		assert.Equal(t, tt.want, lit.Value, "parsing %s", tt.src)
	}
}

func TestParseInts(t *testing.T) {
	tests := []struct {
		src  string
		want uint64
	}{
		{`0`, 0},
		{`42`, 42},
		{`1_000_000`, 1000000},
		{`0x10`, 16},
		{`0XfF`, 255},
		{`0xdead_beef`, 0xdeadbeef},
		{`010`, 8},
		{`0777`, 0o777},
		{`00`, 0},
		{`1e6`, 1000000},
		{`5e0`, 5},
		{`18446744073709551615`, 18446744073709551615},
		{`0xffffffffffffffff`, 1<<64 - 1},
		{`1e19`, 1e19},
	}
	for _, tt := range tests {
		lit := parseExprNode(t, tt.src).(*IntLit)
		assert.Equal(t, tt.want, lit.Value, "parsing %s", tt.src)
	}
}

func TestParseSpans(t *testing.T) {
	src := "BEGIN {\n  @x[pid, 1] = (uint8)$a->b + 2 * f(3);\n}"
	prog := mustParse(t, src)
	text := func(n Spanned) string { sp := n.NodeSpan(); return src[sp.Start.Offset:sp.End.Offset] }
	assign := prog.Probes[0].Body.Stmts[0].(*AssignStmt)
	assert.Equal(t, "@x[pid, 1] = (uint8)$a->b + 2 * f(3)", text(assign))
	assert.Equal(t, Pos{Offset: 10, Line: 2, Col: 3}, assign.Span.Start)
	assert.Equal(t, Pos{Offset: 46, Line: 2, Col: 39}, assign.Span.End)
	m := assign.Target.(*MapExpr)
	assert.Equal(t, "@x[pid, 1]", text(m))
	assert.Equal(t, "pid", text(m.Keys[0]))
	sum := assign.Value.(*BinaryExpr)
	assert.Equal(t, "(uint8)$a->b + 2 * f(3)", text(sum))
	cast := sum.X.(*CastExpr)
	assert.Equal(t, "uint8", text(cast.Type))
	assert.Equal(t, "$a->b", text(cast.X))
	assert.Equal(t, "2 * f(3)", text(sum.Y))
	assert.Equal(t, "f(3)", text(sum.Y.(*BinaryExpr).Y))
	assert.Equal(t, src, text(prog.Probes[0]))
	assert.Equal(t, "{\n  @x[pid, 1] = (uint8)$a->b + 2 * f(3);\n}", text(prog.Probes[0].Body))

	// Parenthesised operands are covered by their parent's span.
	prog = mustParse(t, "BEGIN { ($x + 1) * 2; (1 ? 2 : 3) }")
	stmts := prog.Probes[0].Body.Stmts
	mul := stmts[0].(*ExprStmt).X.(*BinaryExpr)
	assert.Equal(t, 8, mul.Span.Start.Offset)
	assert.Equal(t, 9, mul.X.NodeSpan().Start.Offset)

	// Every span of a larger script is consistent with the text.
	checkSpans(t, benchScript, mustParse(t, benchScript))
}

// checkSpans walks the tree and checks that every node's span is well
// formed (Line/Col agree with Offset, End after Start) and inside its
// parent's.
func checkSpans(t *testing.T, src string, prog *Program) {
	t.Helper()
	lineStarts := []int{0}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lineStarts = append(lineStarts, i+1)
		}
	}
	posOK := func(p Pos) bool {
		if p.Offset < 0 || p.Offset > len(src) || p.Line < 1 || p.Line > len(lineStarts) {
			return false
		}
		start := lineStarts[p.Line-1]
		return p.Offset >= start && (p.Line == len(lineStarts) || p.Offset < lineStarts[p.Line]) && p.Col == p.Offset-start+1
	}
	var walk func(v reflect.Value, parent Span)
	walk = func(v reflect.Value, parent Span) {
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer:
			if v.IsNil() {
				return
			}
			if n, ok := v.Interface().(Spanned); ok && v.Kind() == reflect.Pointer {
				sp := n.NodeSpan()
				if !posOK(sp.Start) || !posOK(sp.End) || sp.End.Offset <= sp.Start.Offset {
					t.Errorf("bad span %+v for %T %v", sp, n, n)
				}
				if sp.Start.Offset < parent.Start.Offset || sp.End.Offset > parent.End.Offset {
					t.Errorf("span of %T %v (%+v) is outside its parent's (%+v)", n, n, sp, parent)
				}
				parent = sp
			}
			walk(v.Elem(), parent)
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).Name != "Span" {
					walk(v.Field(i), parent)
				}
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), parent)
			}
		}
	}
	walk(reflect.ValueOf(prog), Span{End: Pos{Offset: len(src)}})
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{`BEGIN { printf("hi) }`, `stdin:1:16-22: ERROR: unterminated string: missing closing '"'
BEGIN { printf("hi) }
               ~~~~~~`},
		{`BEGIN { printf("hi"); `, `stdin:1:22-23: ERROR: missing '}' to close the block opened at 1:7
BEGIN { printf("hi"); 
                     ~`},
		{"kprobe:f { if (1) {\n  @x = 1;\n}\n", `stdin:3:2-3: ERROR: missing '}' to close the block opened at 1:10
}
 ~`},
		{`kprobe:sys_clone < printf("hi")`, `stdin:1:32-33: ERROR: missing '>' to close the block opened at 1:18 (the closing '>' must be followed by the next probe or the end of the script)
kprobe:sys_clone < printf("hi")
                               ~`},
		{`BEGIN { printf("%d", (1 + 2 }`, `stdin:1:29-30: ERROR: syntax error, unexpected '}', expected ')' to close '(' at 1:22
BEGIN { printf("%d", (1 + 2 }
                            ~`},
		{`BEGIN { printf("hi" "x") }`, `stdin:1:21-24: ERROR: syntax error, unexpected string "x", expected ')' to close '(' at 1:15
BEGIN { printf("hi" "x") }
                    ~~~`},
		{`BEGIN { if ($x { } }`, `stdin:1:16-17: ERROR: syntax error, unexpected '{', expected ')' to close '(' at 1:12
BEGIN { if ($x { } }
               ~`},
		{`BEGIN { @x[1 = 2 }`, `stdin:1:14-15: ERROR: syntax error, unexpected '=', expected ']' to close '[' at 1:11
BEGIN { @x[1 = 2 }
             ~`},
		{`BEGIN { 1 + }`, `stdin:1:13-14: ERROR: syntax error, unexpected '}', expected an expression
BEGIN { 1 + }
            ~`},
		{"BEGIN {\n  $x = 1;\n  $y = ;\n}", `stdin:3:8-9: ERROR: syntax error, unexpected ';', expected an expression
  $y = ;
       ~`},
		{`BEGIN { $x = 1 $y = 2 }`, `stdin:1:16-18: ERROR: syntax error, unexpected variable $y, expected ';'
BEGIN { $x = 1 $y = 2 }
               ~~`},
		{`BEGIN { f(1,) }`, `stdin:1:13-14: ERROR: syntax error, unexpected ')', expected an expression
BEGIN { f(1,) }
            ~`},
		{`BEGIN { if x { } }`, `stdin:1:12-13: ERROR: syntax error, unexpected identifier 'x', expected '('
BEGIN { if x { } }
           ~`},
		{`BEGIN { else }`, `stdin:1:9-13: ERROR: syntax error, unexpected keyword 'else', expected a statement or '}' to close the block opened at 1:7
BEGIN { else }
        ~~~~`},
		{`BEGIN < ) >`, `stdin:1:9-10: ERROR: syntax error, unexpected ')', expected a statement or '>' to close the block opened at 1:7
BEGIN < ) >
        ~`},
		{`BEGIN { $t. }`, `stdin:1:13-14: ERROR: syntax error, unexpected '}', expected an identifier or an integer
BEGIN { $t. }
            ~`},
		{`BEGIN { (struct 5)x }`, `stdin:1:17-18: ERROR: syntax error, unexpected integer 5, expected an identifier
BEGIN { (struct 5)x }
                ~`},
		{`BEGIN`, `stdin:1:6-7: ERROR: syntax error, unexpected end of input, expected '{' to start the probe body
BEGIN
     ~`},
		{`BEGIN, { }`, `stdin:1:8-9: ERROR: syntax error, unexpected '{', expected a probe such as kprobe:func or BEGIN
BEGIN, { }
       ~`},
		{`BEGIN { } >`, `stdin:1:11-12: ERROR: syntax error, unexpected '>' outside of a probe body
BEGIN { } >
          ~`},
		{`BEGIN { } }`, `stdin:1:11-12: ERROR: syntax error, unexpected '}' outside of a probe body
BEGIN { } }
          ~`},
		{`BEGIN { };`, `stdin:1:10-11: ERROR: syntax error, unexpected ';' outside of a probe body
BEGIN { };
         ~`},
		{`kprobe:f /pid { }`, `stdin:1:15-16: ERROR: missing '/' to close the predicate opened at 1:10
kprobe:f /pid { }
              ~`},
		{`kprobe:f // { }`, `stdin:1:9-10: ERROR: syntax error, unexpected end of input, expected '{' to start the probe body
kprobe:f // { }
        ~`},
		{`kprobex:sys_clone { }`, `stdin:1:1-8: ERROR: unknown probe type 'kprobex' — did you mean 'kprobe'?
kprobex:sys_clone { }
~~~~~~~`},
		{`BEGIN { } tracepiont:a:b { }`, `stdin:1:11-21: ERROR: unknown probe type 'tracepiont' — did you mean 'tracepoint'?
BEGIN { } tracepiont:a:b { }
          ~~~~~~~~~~`},
		{`foo { }`, `stdin:1:1-4: ERROR: unknown probe type 'foo'
foo { }
~~~`},
		// A bad probe type is reported along with a later syntax error.
		{`Begin { 1 + }`, `stdin:1:1-6: ERROR: unknown probe type 'Begin' — did you mean 'BEGIN'?
Begin { 1 + }
~~~~~
stdin:1:13-14: ERROR: syntax error, unexpected '}', expected an expression
Begin { 1 + }
            ~`},
		// The earlier of a syntax error and a lexical error wins.
		{`BEGIN { 1 +; "abc }`, `stdin:1:12-13: ERROR: syntax error, unexpected ';', expected an expression
BEGIN { 1 +; "abc }
           ~`},
		{``, `stdin:1:1-2: ERROR: no probes in program: write at least one, e.g. BEGIN { printf("hello\n"); }

~`},
		{"// just a comment\n/* and another */\n", `stdin:1:1-2: ERROR: no probes in program: write at least one, e.g. BEGIN { printf("hello\n"); }
// just a comment
~`},
		// Assignment is a statement, not an expression.
		{`BEGIN { $x = $y = 1 }`, `stdin:1:17-18: ERROR: syntax error, unexpected '=', expected ';'
BEGIN { $x = $y = 1 }
                ~`},
		// Checks made while building the tree (after a clean parse); all
		// are reported.
		{`BEGIN { 1 = 2; f() += 1; }`, `stdin:1:9-10: ERROR: cannot assign to this: only $variables and @maps can be assigned
BEGIN { 1 = 2; f() += 1; }
        ~
stdin:1:16-19: ERROR: cannot assign to this: only $variables and @maps can be assigned
BEGIN { 1 = 2; f() += 1; }
               ~~~`},
		{`BEGIN { 5++; --pid }`, `stdin:1:9-10: ERROR: '++' can only be applied to a $variable or an @map
BEGIN { 5++; --pid }
        ~
stdin:1:16-19: ERROR: '--' can only be applied to a $variable or an @map
BEGIN { 5++; --pid }
               ~~~`},
		{`BEGIN { 99999999999999999999 + 0x1_0000_0000_0000_0000 + 1e20 }`, `stdin:1:9-29: ERROR: integer literal '99999999999999999999' does not fit in 64 bits
BEGIN { 99999999999999999999 + 0x1_0000_0000_0000_0000 + 1e20 }
        ~~~~~~~~~~~~~~~~~~~~
stdin:1:32-55: ERROR: integer literal '0x1_0000_0000_0000_0000' does not fit in 64 bits
BEGIN { 99999999999999999999 + 0x1_0000_0000_0000_0000 + 1e20 }
                               ~~~~~~~~~~~~~~~~~~~~~~~
stdin:1:58-62: ERROR: integer literal '1e20' does not fit in 64 bits
BEGIN { 99999999999999999999 + 0x1_0000_0000_0000_0000 + 1e20 }
                                                         ~~~~`},
		{`BEGIN { 08 + 1__0 + 0xZ + 12ab + 1_ + 1e }`, `stdin:1:9-11: ERROR: invalid integer literal '08': '8' is not an octal digit
BEGIN { 08 + 1__0 + 0xZ + 12ab + 1_ + 1e }
        ~~
stdin:1:14-18: ERROR: invalid integer literal '1__0': '_' may only separate digits
BEGIN { 08 + 1__0 + 0xZ + 12ab + 1_ + 1e }
             ~~~~
stdin:1:21-24: ERROR: invalid integer literal '0xZ': 'Z' is not a hexadecimal digit
BEGIN { 08 + 1__0 + 0xZ + 12ab + 1_ + 1e }
                    ~~~
stdin:1:27-31: ERROR: invalid integer literal '12ab': 'a' is not a decimal digit
BEGIN { 08 + 1__0 + 0xZ + 12ab + 1_ + 1e }
                          ~~~~
stdin:1:34-36: ERROR: invalid integer literal '1_': '_' may only separate digits
BEGIN { 08 + 1__0 + 0xZ + 12ab + 1_ + 1e }
                                 ~~
stdin:1:39-41: ERROR: invalid integer literal '1e': the exponent must be decimal digits, as in 1e6
BEGIN { 08 + 1__0 + 0xZ + 12ab + 1_ + 1e }
                                      ~~`},
		{`BEGIN { "a\qb"; "\x"; "\400" }`, `stdin:1:11-13: ERROR: unknown escape sequence '\q' in string
BEGIN { "a\qb"; "\x"; "\400" }
          ~~
stdin:1:18-20: ERROR: escape '\x' needs one or two hex digits, as in \x41
BEGIN { "a\qb"; "\x"; "\400" }
                 ~~
stdin:1:24-28: ERROR: octal escape '\400' is out of range (max \377)
BEGIN { "a\qb"; "\x"; "\400" }
                       ~~~~`},
		{`BEGIN { $0 + $99999999999 }`, `stdin:1:9-11: ERROR: there is no positional parameter $0: they start at $1 ($# is their count)
BEGIN { $0 + $99999999999 }
        ~~
stdin:1:14-26: ERROR: positional parameter $99999999999 is out of range
BEGIN { $0 + $99999999999 }
             ~~~~~~~~~~~~`},
		// Tabs in the line are kept under the marker.
		{"\tBEGIN\t{\t1 +\t}", "stdin:1:14-15: ERROR: syntax error, unexpected '}', expected an expression\n\tBEGIN\t{\t1 +\t}\n\t     \t \t   \t~"},
	}
	for _, tt := range tests {
		prog, err := Parse(&Source{Name: "stdin", Text: tt.src})
		assert.Nil(t, prog, "parsing %q", tt.src)
		if assert.Error(t, err, "parsing %q", tt.src) {
			assert.Equal(t, tt.want, err.Error(), "parsing %q", tt.src)
			var list ErrorList
			if assert.ErrorAs(t, err, &list) {
				for _, e := range list {
					assert.NotZero(t, e.Span.Start.Line, "error %q has no position", e.Msg)
				}
			}
		}
	}
}

// TestParseNoPanic feeds the parser garbage: it must return a tree or an
// error, never panic or hang.
func TestParseNoPanic(t *testing.T) {
	inputs := []string{
		"", " ", "\n\n", "\x00", "\xff\xfe\xfd", "{", "}", "<", ">", "/", "//", "/*", "*/", "#", "#!", "#include",
		",", ",,", ":", "BEGIN", "BEGIN {", "BEGIN }", "BEGIN <", "BEGIN < >", "BEGIN { } <", "BEGIN /", "BEGIN //", "BEGIN / /",
		"BEGIN /1/", "BEGIN /1/ {", "BEGIN { ( }", "BEGIN { ) }", "BEGIN { [ }", "BEGIN { ] }", "BEGIN { { }", "BEGIN { } }",
		"BEGIN { \" }", "BEGIN { \"\\", "BEGIN { \"\\x", "BEGIN { $", "BEGIN { @", "BEGIN { @@ }", "BEGIN { $$ }",
		"BEGIN { (int) }", "BEGIN { (struct) }", "BEGIN { sizeof }", "BEGIN { sizeof( }", "BEGIN { if }", "BEGIN { if ( }",
		"BEGIN { else }", "BEGIN { while }", "BEGIN { unroll }", "BEGIN { ? : }", "BEGIN { a ? b }", "BEGIN { a : b }",
		"BEGIN { -> }", "BEGIN { . }", "BEGIN { ++ }", "BEGIN { $x = }", "BEGIN { = 1 }", "BEGIN { ;;;; }",
		"BEGIN < > >", "BEGIN < > > >", "BEGIN < 1 > 2 > 3 >", "BEGIN { é }", "BEGIN { \xc3 }", "uprobe:", "uprobe:/", ":::",
		"kprobe:f /", "kprobe:f / { }", "kprobe:f /{", "kprobe:f /}/ {}", "BEGIN { /* }", "\"", "'", "`", "\\",
		strings.Repeat("{", 1000), strings.Repeat("}", 1000), strings.Repeat("BEGIN ", 1000),
		"BEGIN { " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " }",
		"BEGIN { " + strings.Repeat("-", 2000) + "1 }",
		"BEGIN { " + strings.Repeat("!", 2000) + "1 }",
		"BEGIN { " + strings.Repeat("(int)", 2000) + "1 }",
		"BEGIN { " + strings.Repeat("$x.", 2000) + "y }",
		"BEGIN { 1" + strings.Repeat(" + 1", 2000) + " }",
		"BEGIN { 1" + strings.Repeat(" ? 1 : 1", 2000) + " }",
		"BEGIN { " + strings.Repeat("1 ? ", 2000) + "1" + strings.Repeat(" : 1", 2000) + " }",
		"BEGIN { " + strings.Repeat("if (1) { ", 2000) + strings.Repeat("} ", 2000) + "}",
		"BEGIN { " + strings.Repeat("@x[", 2000) + "1" + strings.Repeat("]", 2000) + " }",
		"BEGIN < " + strings.Repeat("1 > ", 2000) + "1 >",
	}
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"BEGIN", "kprobe:f", "u:/a:b", " ", "\n", "{", "}", "<", ">", "(", ")", "[", "]", "/", "*", "//", "/*", "*/",
		"\"", "\\", "$x", "$1", "$", "@", "@m", "1", "0x", "e", "if", "else", "while", "unroll", "sizeof", "struct", "int", ",",
		";", ":", "?", "=", "+=", "++", "->", ".", "#include", "#", "\xff", "é", "printf", "a"}
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := rng.Intn(30); n > 0; n-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		inputs = append(inputs, b.String())
	}
	for i := 0; i < 200; i++ {
		buf := make([]byte, rng.Intn(100))
		rng.Read(buf)
		inputs = append(inputs, string(buf))
	}

	for _, in := range inputs {
		prog, err := Parse(&Source{Name: "stdin", Text: in})
		if err == nil {
			require.NotNil(t, prog, "parsing %q", in)
			checkSpans(t, in, prog)
			continue
		}
		require.Nil(t, prog, "parsing %q", in)
		msg := err.Error()
		require.NotContains(t, msg, "internal parser error", "parsing %q", in)
		var list ErrorList
		require.ErrorAs(t, err, &list, "parsing %q", in)
		for _, e := range list {
			require.NotZero(t, e.Span.Start.Line, "parsing %q: error %q has no position", in, e.Msg)
			require.LessOrEqual(t, e.Span.Start.Offset, len(in)+1, "parsing %q", in)
		}
	}
}

func TestParseDeepNesting(t *testing.T) {
	src := "BEGIN { " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " }"
	start := time.Now()
	_, err := Parse(&Source{Name: "stdin", Text: src})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ERROR: expression nested too deeply (more than 200 levels)")
	assert.Less(t, time.Since(start), 5*time.Second)

	// Up to the limit the tree is built.
	src = "BEGIN { " + strings.Repeat("(", maxNesting) + "1" + strings.Repeat(")", maxNesting) + " }"
	prog := mustParse(t, src)
	assert.Equal(t, "BEGIN { 1; }", prog.String())
}

// TestParseGolden parses each testdata/parse/*.bt and compares the printed
// tree (or the errors) with the .golden file next to it. Regenerate with
// `go test ./lang -run TestParseGolden -update-parse` and review the diff.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.bt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			text, err := os.ReadFile(file)
			require.NoError(t, err)
			prog, err := Parse(&Source{Name: filepath.Base(file), Text: string(text)})
			var got string
			if err != nil {
				got = err.Error() + "\n"
			} else {
				checkSpans(t, string(text), prog)
				got = prog.String() + "\n"
			}
			golden := strings.TrimSuffix(file, ".bt") + ".golden"
			if *updateParseGolden {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "no golden file; run with -update-parse")
			assert.Equal(t, string(want), got)
		})
	}
}

func BenchmarkParse(b *testing.B) {
	src := &Source{Name: "bench.bt", Text: benchScript}
	for i := 0; i < b.N; i++ {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

const benchScript = `#!/usr/bin/env gotrace
#include <linux/sched.h>
// Time reads per process.
tracepoint:syscalls:sys_enter_read /pid > 100 && comm != "bash"/ {
	@start[tid] = nsecs;
	@bytes[comm, pid] = sum(args->count);
}
tracepoint:syscalls:sys_exit_read /@start[tid]/ {
	$dur = (nsecs - @start[tid]) / 1000;
	@us = hist($dur);
	if ($dur > 1000 && args->ret >= 0) { printf("%s %d took %d us\n", comm, pid, $dur); }
	else if ($dur > 100) { @slow[comm]++; } else { @fast = count(); }
	delete(@start[tid]);
}
kprobe:do_sys_open < $p = (struct task_struct *)curtask; @parent[$p->real_parent->pid] = count(); >
interval:s:1 { print(@us); clear(@us); $i = 0; while ($i < 10) { $i += 1; if ($i % 2 == 0) { continue } } unroll(5) { @u = @u + 1; } }
END { print(@bytes, 10); exit(); }
`
