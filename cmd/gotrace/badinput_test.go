package main

// The bad-input matrix: every way a user can hand gotrace something odd —
// empty, comment-only, binary, huge, deeply nested or non-UTF-8 scripts,
// many probes, many map keys, strings at and over the 64-byte limit, bad
// flags, missing and unreadable files — must end in a clear error (status
// 1, "ERROR" on stderr, no Go panic or stack trace) or a correct run, and
// never hang. Each case runs through the built binary and through Main in
// process, both under a timeout.

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badTimeout bounds one case: anything slower counts as a hang.
const badTimeout = 30 * time.Second

// badCase is one row of the matrix.
type badCase struct {
	name  string
	args  []string // "FILE" is replaced by the case's script file
	file  string   // script written to FILE (when args mention it)
	stdin string
	// ok: the run must succeed (status 0); otherwise it must fail cleanly.
	// either: a correct run and a clean error are both fine.
	ok, either bool
	// want must appear in stderr (errors) or stdout (successful runs);
	// wantRe is matched the same way.
	want   string
	wantRe string
	// kernel: the case loads BPF programs and needs root and tracefs.
	kernel bool
	// binaryOnly: not run through Main in process (it would read the
	// test's own /proc/self, or needs another user).
	binaryOnly bool
	check      func(t *testing.T, stdout, stderr string)
}

// badOutcome is what one run left.
type badOutcome struct {
	stdout, stderr string
	status         int
}

// runBinary runs the gotrace binary with a timeout.
func runBinary(t *testing.T, stdin string, args []string, cred *syscall.Credential) badOutcome {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), badTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "gotrace %q did not end within %v (a hang)", shortArgs(args), badTimeout)
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return badOutcome{out.String(), errOut.String(), status}
}

// runMain calls Main in process with a timeout.
func runMain(t *testing.T, stdin string, args []string) badOutcome {
	t.Helper()
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- Main(args, strings.NewReader(stdin), &out, &errOut) }()
	select {
	case status := <-done:
		return badOutcome{out.String(), errOut.String(), status}
	case <-time.After(badTimeout):
		t.Fatalf("Main(%q) did not return within %v (a hang)", shortArgs(args), badTimeout)
		return badOutcome{}
	}
}

func shortArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = short(a)
	}
	return out
}

// crashMarkers never appear in gotrace's stderr: they mean a Go panic or a
// stack trace reached the user.
var crashMarkers = []string{"goroutine ", "panic", "runtime error", "internal error", "SIGSEGV", ".go:"}

func (c badCase) verify(t *testing.T, how string, r badOutcome) {
	t.Helper()
	for _, m := range crashMarkers {
		assert.NotContains(t, r.stderr, m, "%s: stderr shows a crash", how)
	}
	if c.either && r.status == 0 {
		assert.NotContains(t, r.stderr, "ERROR", how)
	} else if c.ok {
		assert.Equal(t, 0, r.status, "%s: status; stderr %q", how, short(r.stderr))
		assert.NotContains(t, r.stderr, "ERROR", how)
		if c.want != "" {
			assert.Contains(t, r.stdout, c.want, how)
		}
		if c.wantRe != "" {
			assert.Regexp(t, c.wantRe, r.stdout, how)
		}
	} else {
		assert.Equal(t, 1, r.status, "%s: status; stdout %q stderr %q", how, short(r.stdout), short(r.stderr))
		assert.Contains(t, r.stderr, "ERROR", how)
		assert.Empty(t, r.stdout, "%s: nothing on stdout for an error", how)
		if c.want != "" {
			assert.Contains(t, r.stderr, c.want, how)
		}
		if c.wantRe != "" {
			assert.Regexp(t, c.wantRe, r.stderr, how)
		}
		// The error comes first, not after pages of something else.
		assert.True(t, strings.HasPrefix(r.stderr, "ERROR") || regexp.MustCompile(`^[^\n]*:\d+:\d+(-\d+)?: ERROR: `).MatchString(r.stderr),
			"%s: stderr starts with the error: %q", how, short(r.stderr))
	}
	if c.check != nil {
		c.check(t, r.stdout, r.stderr)
	}
}

// nested returns open*n + mid + close*n.
func nested(open, mid, close string, n int) string {
	return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
}

func badCases() []badCase {
	rng := rand.New(rand.NewSource(7))
	garbage := make([]byte, 4096)
	rng.Read(garbage)
	bigGarbage := make([]byte, 1<<20)
	rng.Read(bigGarbage)

	mb := 1 << 20
	commentLines := strings.Repeat("// "+strings.Repeat("x", 60)+"\n", mb/64)
	s63 := strings.Repeat("s", 63)
	s64 := strings.Repeat("s", 64)

	var probes1000 strings.Builder
	for i := 0; i < 999; i++ {
		probes1000.WriteString("BEGIN { @c = count(); }\n")
	}
	probes1000.WriteString("BEGIN { @c = count(); exit(); }\n")

	var stmts strings.Builder
	stmts.WriteString("BEGIN { $x = 0;")
	for stmts.Len() < mb/4 {
		stmts.WriteString(" $x = $x + 1;")
	}
	stmts.WriteString(" exit(); }\n")

	return []badCase{
		// Nothing to run.
		{name: "empty -e", args: []string{"-e", ""}, want: "no program given"},
		{name: "-e without its program", args: []string{"-e"}, want: "option requires an argument -- 'e'"},
		{name: "blank -e", args: []string{"-e", " \n\t "}, want: "no probes in program"},
		{name: "empty file", args: []string{"FILE"}, file: "", want: "no probes in program"},
		{name: "empty stdin", args: []string{"-"}, stdin: "", want: "no probes in program"},
		{name: "only comments", args: []string{"FILE"}, file: "// one\n/* two\n three */\n// four", want: "no probes in program"},
		{name: "only a shebang", args: []string{"FILE"}, file: "#!/usr/bin/env bpftrace\n", want: "no probes in program"},
		{name: "only includes", args: []string{"FILE"}, file: "#include <linux/sched.h>\n#include <linux/socket.h>\n", want: "no probes in program"},
		{name: "a header that does not exist", args: []string{"FILE"}, file: "#include <linux/sched.h>\n#include <net/sock.h>\n", want: "'net/sock.h' file not found"},
		{name: "unterminated comment", args: []string{"-e", "BEGIN { exit(); } /* never closed"}},
		{name: "no arguments at all", args: nil, want: "ERROR: USAGE: filename or -e 'program' required."},

		// Binary and non-UTF-8 input.
		{name: "binary garbage", args: []string{"FILE"}, file: string(garbage)},
		{name: "1 MB of binary garbage", args: []string{"FILE"}, file: string(bigGarbage)},
		{name: "NUL after a probe", args: []string{"FILE"}, file: "BEGIN { exit(); }\x00"},
		{name: "NUL inside a string", args: []string{"FILE"}, file: "BEGIN { printf(\"<%s>\\n\", \"a\x00b\"); exit(); }", ok: true, kernel: true, want: "Attaching 1 probe...\n<a>\n"},
		{name: "non-UTF-8 in a comment", args: []string{"-e", "// \xff\xfe\xc3\nBEGIN { printf(\"ok\\n\"); exit(); }"}, ok: true, kernel: true, want: "Attaching 1 probe...\nok\n"},
		{name: "non-UTF-8 in a string", args: []string{"-e", "BEGIN { printf(\"<\xff\xfe>\\n\"); exit(); }"}, ok: true, kernel: true, want: "<\xff\xfe>\n"},
		{name: "non-UTF-8 as code", args: []string{"-e", "BEGIN { \xff = 1; }"}, want: "unexpected character byte 0xff"},
		{name: "non-UTF-8 map name", args: []string{"-e", "BEGIN { @\xc3\x28 = 1; }"}},
		{name: "non-UTF-8 probe type", args: []string{"-e", "\xfe\xff:x { }"}},
		{name: "UTF-8 BOM", args: []string{"FILE"}, file: "\xef\xbb\xbfBEGIN { exit(); }"},
		{name: "CRLF line ends", args: []string{"FILE"}, file: "BEGIN\r\n{\r\n printf(\"crlf\\n\");\r\n exit();\r\n}\r\n", ok: true, kernel: true, want: "crlf\n"},

		// Size.
		{name: "1 MB of comments after a probe", args: []string{"FILE"}, file: "BEGIN { printf(\"big\\n\"); exit(); }\n" + commentLines,
			ok: true, kernel: true, want: "Attaching 1 probe...\nbig\n"},
		{name: "1 MB of comments before a probe", args: []string{"FILE"}, file: commentLines + "BEGIN { printf(\"big\\n\"); exit(); }\n",
			ok: true, kernel: true, want: "Attaching 1 probe...\nbig\n"},
		{name: "1 MB block comment on one line", args: []string{"FILE"}, file: "BEGIN { exit(); } /*" + strings.Repeat("y", mb) + "*/\n", ok: true, kernel: true},
		{name: "1 MB string literal", args: []string{"FILE"}, file: "BEGIN { $s = \"" + strings.Repeat("z", mb) + "\"; exit(); }\n",
			want: "String is too long (over 64 bytes)"},
		// Parsing is linear but not fast (a 1 MB script of statements takes
		// about 10 s here): a quarter of that keeps the suite quick.
		{name: "256 KB of statements in one probe", args: []string{"FILE"}, file: stmts.String(), kernel: true, either: true, binaryOnly: true,
			check: func(t *testing.T, stdout, stderr string) {
				// Either it runs, or it is refused as too large for BPF.
				if stderr != "" {
					assert.Regexp(t, `too large|too many|stack|complex`, stderr)
				}
			}},
		{name: "10,000 nested parentheses", args: []string{"-e", "BEGIN { @x = " + nested("(", "1", ")", 10000) + "; exit(); }"},
			want: "nested too deeply"},
		{name: "10,000 unclosed parentheses", args: []string{"-e", "BEGIN { @x = " + strings.Repeat("(", 10000) + "1; }"}},
		{name: "10,000 nested ifs", args: []string{"-e", "BEGIN { " + nested("if (1) { ", "@x = 1;", " }", 10000) + " exit(); }"}},
		{name: "10,000 nested blocks", args: []string{"-e", "BEGIN " + nested("{ ", "exit();", " }", 10000)}},
		{name: "10,000 unary minus", args: []string{"-e", "BEGIN { @x = " + strings.Repeat("-", 10000) + "1; exit(); }"}},
		{name: "10,000 ternaries", args: []string{"-e", "BEGIN { @x = " + strings.Repeat("1 ? ", 10000) + "1" + strings.Repeat(" : 0", 10000) + "; exit(); }"}},
		{name: "10,000 map subscripts", args: []string{"-e", "BEGIN { @x = " + nested("@m[", "1", "]", 10000) + "; exit(); }"}},
		{name: "1,000 probes", args: []string{"FILE"}, file: probes1000.String(), ok: true, kernel: true,
			want: "Attaching 1000 probes...\n\n\n@c: 1000\n"},
		{name: "1,000 tracepoint probes (dry run)", args: []string{"--dry-run", "FILE"}, ok: true, kernel: true,
			file: strings.Repeat("tracepoint:syscalls:sys_enter_getppid { @c = count(); }\n", 1000)},
		// A while loop of 10,000 map updates: bpftrace 0.17 stores the first
		// 4096 keys (its default map size) and runs. gotrace did too, until
		// map updates got a branch counting refused updates: the verifier
		// now gives up after 8192 iterations ("The sequence of 8193 jumps
		// is too complex"). Either outcome is clean; TestBadInputMapKeys
		// checks 10,000 keys arriving from events, which must work.
		{name: "10,000 map keys in a loop", args: []string{"-e", `BEGIN { $i = 0; while ($i < 10000) { @m[$i] = $i; $i++; } exit(); }`}, either: true, kernel: true,
			check: func(t *testing.T, stdout, stderr string) {
				if strings.Contains(stderr, "ERROR") {
					assert.Contains(t, stderr, "verifier")
					return
				}
				assert.Equal(t, 4096, strings.Count(stdout, "\n@m["), "map entries printed")
				assert.Contains(t, stdout, "\n@m[4095]: 4095\n")
			}},
		// Strings at and over the 64-byte limit (bpftrace 0.17: 63
		// characters and the NUL fit, 64 do not).
		{name: "63-byte string", args: []string{"-e", `BEGIN { $s = "` + s63 + `"; printf("%s\n", $s); @m["` + s63 + `"] = 1; exit(); }`},
			ok: true, kernel: true, want: s63 + "\n\n\n@m[" + s63 + "]: 1\n"},
		{name: "64-byte string", args: []string{"-e", `BEGIN { $s = "` + s64 + `"; printf("%s\n", $s); exit(); }`},
			want: "stdin:1:14-80: ERROR: String is too long (over 64 bytes): " + s64},
		{name: "64-byte map key", args: []string{"-e", `BEGIN { @m["` + s64 + `"] = 1; exit(); }`}, want: "String is too long (over 64 bytes)"},
		{name: "1,000-byte string", args: []string{"-e", `BEGIN { $s = "` + strings.Repeat("q", 1000) + `"; }`}, want: "String is too long (over 64 bytes)"},
		{name: "63 bytes through escapes", args: []string{"-e", `BEGIN { printf("%s|\n", "` + strings.Repeat(`\x41`, 63) + `"); exit(); }`},
			ok: true, kernel: true, want: strings.Repeat("A", 63) + "|\n"},
		{name: "64 bytes through escapes", args: []string{"-e", `BEGIN { printf("%s|\n", "` + strings.Repeat(`\x41`, 64) + `"); exit(); }`},
			want: "String is too long (over 64 bytes)"},
		// The printf format is not a string value: bpftrace 0.17 takes
		// formats of any length.
		{name: "200-byte printf format", args: []string{"-e", `BEGIN { printf("` + strings.Repeat("f", 200) + `\n"); exit(); }`},
			ok: true, kernel: true, want: "\n" + strings.Repeat("f", 200) + "\n"},
		{name: "bad escape", args: []string{"-e", `BEGIN { printf("\q\n"); }`}},
		{name: "unterminated string", args: []string{"-e", `BEGIN { printf("abc`}},

		// Flags.
		{name: "unknown long flag", args: []string{"--bogus", "-e", "BEGIN { exit(); }"}, want: "unrecognized option '--bogus'"},
		{name: "unknown short flag", args: []string{"-Z"}, want: "invalid option -- 'Z'"},
		{name: "unknown flag among short ones", args: []string{"-lvZ"}},
		{name: "-p not a number", args: []string{"-p", "abc", "-e", "BEGIN { exit(); }"}},
		{name: "-p without its value", args: []string{"-e", "BEGIN { exit(); }", "-p"}},
		{name: "-f unknown format", args: []string{"-f", "yaml", "-e", "BEGIN { exit(); }"}, want: `Invalid output format "yaml"`},
		{name: "-o into a missing directory", args: []string{"-o", "/nonexistent-dir/gotrace/out.txt", "-e", "BEGIN { exit(); }"}},
		{name: "-c without its command", args: []string{"-c"}},
		{name: "--dry-run=maybe", args: []string{"--dry-run=maybe", "-e", "BEGIN { exit(); }"}},

		// Files.
		{name: "missing file", args: []string{"/nonexistent-dir/gotrace-script.bt"}, want: "No such file or directory"},
		{name: "a directory as the script", args: []string{"DIR"}, want: "Is a directory"},
		{name: "/proc/self/mem as the script", args: []string{"/proc/self/mem"}, binaryOnly: true},
		{name: "missing file after -e", args: []string{"-e", "BEGIN { exit(); }", "/nonexistent"}, ok: true, kernel: true},
	}
}

func TestBadInputMatrix(t *testing.T) {
	needBinary(t)
	dir := t.TempDir()
	for i, c := range badCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.kernel {
				testenv.RequireTracefs(t)
			}
			args := make([]string, len(c.args))
			for j, a := range c.args {
				switch a {
				case "FILE":
					a = filepath.Join(dir, fmt.Sprintf("case%d.bt", i))
					require.NoError(t, os.WriteFile(a, []byte(c.file), 0o644))
				case "DIR":
					a = dir
				}
				args[j] = a
			}
			c.verify(t, "binary", runBinary(t, c.stdin, args, nil))
			if !c.binaryOnly {
				c.verify(t, "Main", runMain(t, c.stdin, args))
			}
		})
	}
}

// A script file the user may not read. Root reads any file whatever its
// mode, so the binary runs as nobody (the test being root); as another
// user the file's mode alone does it.
func TestBadInputUnreadableFile(t *testing.T) {
	needBinary(t)
	// t.TempDir's parent is private to root: make a directory nobody can
	// reach.
	dir, err := os.MkdirTemp("", "gotrace-unreadable")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	script := filepath.Join(dir, "secret.bt")
	require.NoError(t, os.WriteFile(script, []byte("BEGIN { exit(); }\n"), 0o000))
	require.NoError(t, os.Chmod(script, 0o000))

	var cred *syscall.Credential
	gotraceBin := bin
	if os.Geteuid() == 0 {
		// The binary must be reachable by nobody: copy it next to the
		// script (the build directory is private).
		data, err := os.ReadFile(bin)
		require.NoError(t, err)
		gotraceBin = filepath.Join(dir, "gotrace")
		require.NoError(t, os.WriteFile(gotraceBin, data, 0o755))
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	}
	saved := bin
	bin = gotraceBin
	defer func() { bin = saved }()
	r := runBinary(t, "", []string{script}, cred)
	c := badCase{want: "Permission denied"}
	c.verify(t, "binary as an unprivileged user", r)
	assert.Contains(t, r.stderr, "failed to open file")
}

// 10,000 distinct map keys from 10,000 events: the map keeps 4096 of them
// (bpftrace's default size), the run ends cleanly and says how many
// updates it could not store.
func TestBadInputMapKeys(t *testing.T) {
	needBinary(t)
	needKernel(t)
	const keys = 10000
	script := fmt.Sprintf(`tracepoint:syscalls:sys_enter_getpgid /pid == %d/ { @m[args->pid] = count(); }
tracepoint:syscalls:sys_enter_getppid /pid == %d/ { exit(); }`, os.Getpid(), os.Getpid())
	trigger := func() {
		for k := 1; k <= keys; k++ {
			syscall.Getpgid(2_000_000 + k)
		}
		syscall.Getppid()
	}
	check := func(how string, r badOutcome) {
		c := badCase{ok: true}
		c.verify(t, how, r)
		assert.Equal(t, 4096, strings.Count(r.stdout, "\n@m["), "%s: map entries printed", how)
		assert.Contains(t, r.stderr, fmt.Sprint(keys-4096), "%s: the refused updates are reported", how)
	}

	// The binary.
	cmd := exec.Command(bin, "-e", script)
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitForLinksOf(t, strconv.Itoa(cmd.Process.Pid), 2)
	trigger()
	select {
	case err := <-done:
		status := 0
		if ee, ok := err.(*exec.ExitError); ok {
			status = ee.ExitCode()
		}
		check("binary", badOutcome{out.String(), errOut.String(), status})
	case <-time.After(badTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("gotrace did not exit after exit(); stderr %q", errOut.String())
	}

	// Main, in process.
	var mOut, mErr syncBuffer
	mDone := make(chan int, 1)
	go func() { mDone <- Main([]string{"-e", script}, strings.NewReader(""), &mOut, &mErr) }()
	waitForLinks(t, 2)
	trigger()
	select {
	case status := <-mDone:
		check("Main", badOutcome{mOut.String(), mErr.String(), status})
	case <-time.After(badTimeout):
		t.Fatalf("Main did not return after exit(); stderr %q", mErr.String())
	}
}
