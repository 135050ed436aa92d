package main

// Command-line tests: the gotrace binary, built once in TestMain, is run the
// way a user runs it (flags, signals, exit status, stdout and stderr), and
// Main is called in-process where the test needs to fire events at the
// right moment. The tracing tests need root and the kernel features of the
// development VM (ENVIRONMENT.md); they skip elsewhere.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// bin is the gotrace binary built by TestMain ("" when go is missing).
var bin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	if goTool, err := exec.LookPath("go"); err == nil {
		dir, err := os.MkdirTemp("", "gotrace-cli-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "gotrace")
		build := exec.Command(goTool, "build", "-o", out, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building gotrace:", err)
			return 1
		}
		bin = out
	}
	return m.Run()
}

func needBinary(t *testing.T) {
	t.Helper()
	if bin == "" {
		t.Skip("no go tool to build the gotrace binary")
	}
}

// needKernel skips as a normal user, and fails as root where BPF or
// tracefs are missing (testenv's rule).
func needKernel(t *testing.T) {
	t.Helper()
	testenv.RequireTracefs(t)
}

// eventually polls cond until it holds or timeout passed, and reports
// whether it held. Tests wait for events with it, never for a time.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}

// syncBuffer is a bytes.Buffer safe to write from a process's copier and
// read from the test while the process runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the buffer holds want.
func (s *syncBuffer) waitFor(t *testing.T, want string, other *syncBuffer) {
	t.Helper()
	if !eventually(15*time.Second, func() bool { return strings.Contains(s.String(), want) }) {
		t.Fatalf("timed out waiting for %q; stdout so far: %q; stderr: %q", want, s.String(), other.String())
	}
}

// result is what a finished gotrace process left.
type result struct {
	stdout, stderr string
	status         int
}

// gotrace runs the binary to completion (it must end by itself).
func gotrace(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	needBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "gotrace %q did not end in time", args)
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{out.String(), errOut.String(), status}
}

// started is a gotrace process running in the background.
type started struct {
	cmd         *exec.Cmd
	out, errOut *syncBuffer
	done        chan error
}

// start runs the binary and waits until it has attached its probes.
func start(t *testing.T, attaching string, args ...string) *started {
	t.Helper()
	needBinary(t)
	needKernel(t)
	s := &started{cmd: exec.Command(bin, args...), out: &syncBuffer{}, errOut: &syncBuffer{}, done: make(chan error, 1)}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.errOut
	require.NoError(t, s.cmd.Start())
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	s.out.waitFor(t, attaching, s.errOut)
	// Wait for every announced probe to be attached (scripts with BEGIN or
	// END announce probes that have no link).
	if joined := strings.Join(args, " "); !strings.Contains(joined, "BEGIN") && !strings.Contains(joined, "END") {
		n := 1
		fmt.Sscanf(attaching, "Attaching %d", &n)
		waitForLinksOf(t, strconv.Itoa(s.cmd.Process.Pid), n)
	}
	return s
}

// stop sends sig and returns the exit status.
func (s *started) stop(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(sig))
	select {
	case err := <-s.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		require.NoError(t, err)
		return 0
	case <-time.After(15 * time.Second):
		t.Fatalf("gotrace did not exit after %v; stdout: %q; stderr: %q", sig, s.out.String(), s.errOut.String())
		return -1
	}
}

// The user's exact one-liner: on a kernel with kprobes it attaches to the
// syscall's entry function; without, it falls back to the tracepoint and
// warns once. Either way it prints, and ends cleanly on Ctrl-C.
func TestCLIKprobeSysCloneOneLiner(t *testing.T) {
	needKernel(t)
	if kernel.HaveKprobes() {
		t.Skip("kprobe:sys_X falls back to a syscall tracepoint only on kernels without kprobes; this one has them")
	}
	s := start(t, "Attaching 1 probe...\n", "-e", `kprobe:sys_clone < printf("hi") >`)
	// Processes are started until three "hi" are out: on kernels without
	// perf_event links start() cannot see the moment the probe attaches.
	// ("Attaching" has a "hi" of its own: only what follows it counts.)
	traced := eventually(20*time.Second, func() bool {
		if strings.Count(strings.TrimPrefix(s.out.String(), "Attaching 1 probe...\n"), "hi") >= 3 {
			return true
		}
		require.NoError(t, exec.Command("/bin/true").Run()) // os/exec forks with clone
		return false
	})
	require.True(t, traced, "no three clones traced in 20 s: %q", s.out.String())
	status := s.stop(t, syscall.SIGINT)
	assert.Equal(t, 0, status, "stderr: %s", s.errOut.String())

	out := s.out.String()
	require.True(t, strings.HasPrefix(out, "Attaching 1 probe...\n"), "%q", out)
	body := strings.TrimPrefix(out, "Attaching 1 probe...\n")
	require.True(t, strings.HasSuffix(body, "\n\n"), "maps section at exit: %q", out)
	body = strings.TrimSuffix(body, "\n\n")
	assert.Regexp(t, `^(hi)+$`, body, "only the printf output between the header and the maps")
	assert.GreaterOrEqual(t, strings.Count(body, "hi"), 3)

	if testtarget.Live().Has(target.Kprobes) {
		// The syscall's entry function itself (__x64_sys_clone): no
		// fallback, nothing to warn about.
		assert.Empty(t, s.errOut.String())
		return
	}
	lines := strings.Split(strings.TrimSuffix(s.errOut.String(), "\n"), "\n")
	require.Len(t, lines, 1, "exactly one stderr line: %q", s.errOut.String())
	assert.Regexp(t, `^WARNING: .*kprobe:sys_clone.*tracepoint:syscalls:sys_enter_clone`, lines[0])
	assert.NotContains(t, s.errOut.String(), "ERROR")
}

var mapLine = regexp.MustCompile(`^@\[(.*)\]: (\d+)$`)

// Counting openat by comm until SIGTERM: the maps in bpftrace's format,
// ascending by count.
func TestCLIOpenatCountSIGTERM(t *testing.T) {
	s := start(t, "Attaching 1 probe...\n", "-e", `tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }`)
	const cats = 4
	for i := 0; i < cats; i++ {
		require.NoError(t, exec.Command("/bin/cat", "/etc/hostname").Run())
	}
	status := s.stop(t, syscall.SIGTERM)
	assert.Equal(t, 0, status, "stderr: %s", s.errOut.String())
	assert.Empty(t, s.errOut.String())

	out := s.out.String()
	require.True(t, strings.HasPrefix(out, "Attaching 1 probe...\n\n\n"), "%q", out)
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(out, "Attaching 1 probe...\n\n\n"), "\n"), "\n")
	counts := map[string]int{}
	prev := 0
	for _, l := range lines {
		m := mapLine.FindStringSubmatch(l)
		require.NotNil(t, m, "not a map entry: %q in\n%s", l, out)
		n, err := strconv.Atoi(m[2])
		require.NoError(t, err)
		assert.GreaterOrEqual(t, n, prev, "entries ascending by count: %q", l)
		prev = n
		_, dup := counts[m[1]]
		assert.False(t, dup, "key %q printed twice", m[1])
		counts[m[1]] = n
	}
	// Each cat opens at least ld.so.cache, libc and /etc/hostname.
	assert.GreaterOrEqual(t, counts["cat"], 3*cats, "%s", out)
}

// Script errors: exit status 1, position, source line, marker; nothing on
// stdout.
func TestCLIErrors(t *testing.T) {
	for _, tc := range []struct {
		name, script, want string
	}{
		{"syntax error", `BEGIN { @x = ; }`,
			"stdin:1:14-15: ERROR: syntax error, unexpected ';', expected an expression\n" +
				"BEGIN { @x = ; }\n" +
				"             ~\n"},
		{"unknown builtin", `BEGIN { printf("%d\n", pdi); }`,
			"stdin:1:24-27: ERROR: unknown builtin 'pdi' — did you mean 'pid'?\n" +
				"BEGIN { printf(\"%d\\n\", pdi); }\n" +
				"                       ~~~\n"},
		{"unclosed block", `BEGIN {`,
			"stdin:1:8-9: ERROR: missing '}' to close the block opened at 1:7\n" +
				"BEGIN {\n" +
				"       ~\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gotrace(t, "", "-e", tc.script)
			assert.Equal(t, 1, r.status)
			assert.Empty(t, r.stdout)
			assert.Equal(t, tc.want, r.stderr)
		})
	}
}

// Errors in a script file carry the file's name and the right line.
func TestCLIErrorInFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.bt")
	require.NoError(t, os.WriteFile(path, []byte("BEGIN {\n  printf(\"%d\\n\", 1);\n  @x = pdi;\n}\n"), 0o644))
	r := gotrace(t, "", path)
	assert.Equal(t, 1, r.status)
	assert.Equal(t, path+":3:8-11: ERROR: unknown builtin 'pdi' — did you mean 'pid'?\n"+
		"  @x = pdi;\n"+
		"       ~~~\n", r.stderr)
}

// Scripts bpftrace 0.17 rejects at compile time must be rejected too.
func TestCLIRejectsLikeBpftrace(t *testing.T) {
	for _, tc := range []struct{ script, bpftrace string }{
		{`BEGIN { printf("%s\n", 1); exit(); }`,
			"stdin:1:9-26: ERROR: printf: %s specifier expects a value of type string (integer supplied)"},
		// args.filename, which bpftrace 0.17 rejects, is today's bpftrace
		// and accepted (lang's '.' follows pointers).
	} {
		t.Run(tc.script, func(t *testing.T) {
			r := gotrace(t, "", "--dry-run", "-e", tc.script)
			assert.Equal(t, 1, r.status)
			assert.Regexp(t, `^stdin:1:\d+(-\d+)?: ERROR: `, r.stderr)
		})
	}
}

// Kprobes other than sys_X cannot attach here: one clear error naming the
// missing kernel feature, status 1.
func TestCLIKprobeWithoutKprobes(t *testing.T) {
	needKernel(t)
	if _, err := os.Stat("/sys/kernel/tracing/kprobe_events"); err == nil {
		t.Skip("this kernel has kprobes")
	}
	r := gotrace(t, "", "-e", "kprobe:vfs_read { @x = count(); }")
	assert.Equal(t, 1, r.status)
	assert.Empty(t, r.stdout)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	require.Len(t, lines, 1, "%q", r.stderr)
	assert.Regexp(t, `^ERROR: .*kprobe:vfs_read.*CONFIG_KPROBES`, lines[0])
}

// garbage are scripts that must all be rejected with a clean error.
var garbage = []string{
	"", " ", "\n\n", "{", "}", "BEGIN", "BEGIN {", "BEGIN }", "BEGIN { printf( }", "@", "$",
	"BEGIN { @x[ = 1; }", `BEGIN { $x = "a" + 1; }`, `BEGIN < printf("hi") `, "kprobe:",
	"tracepoint:nope:nope { }", "BEGIN { @x = count(); @x = 1; }", "BEGIN { exit(1, 2, 3); }",
	"BEGIN { if () {} }", "BEGIN { 1 ? : 2; }", "/*", `"`, `BEGIN { printf("%d\n"); }`,
	"BEGIN { $x = (1, 2); printf(\"%d\\n\", $x.5); }", "BEGIN { str(); }",
	`BEGIN { @a[1] = 1; @a["x"] = 2; }`, "BEGIN { unroll(0) { } }", "BEGIN { unroll(101) { } }",
	"i:ms:0 { }", "BEGIN { args->x; }", "BEGIN { x->y->z }", "BEGIN { (struct nope *)0; }",
	"BEGIN { @s = sizeof(struct nope); }", "BEGIN { @l = lhist(1, 2, 1, 0); }", "BEGIN { @ = hist(); }",
	`BEGIN { printf("\xZZ"); }`, "BEGIN { @x = 99999999999999999999999; }", "BEGIN { $x++ ++; }",
	"#!", "BEGIN { break; }", "END,BEGIN,,{}", "BEGIN { print(); }",
	"BEGIN { $s = \"" + strings.Repeat("a", 100) + "\"; printf(\"%s\\n\", $s); }",
	"BEGIN { @x = " + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 299) + "; }",
	"\x01\x02", "ÄÖÜ { }", "BEGIN { @ü = 1; }",
	"tracepoint:syscalls:sys_enter_openat { @x = args->nope; }",
	"uprobe { }", "profile:hz: { }", "BEGIN { $1 = 2; }",
	"BEGIN { @x = $x; }", "BEGIN { @x[1,] = 1; }", "BEGIN { if (1) { } else }", "BEGIN { while (1) }",
	"BEGIN { exit() exit(); }", "BEGIN;", "BEGIN { @x = 1 }}", "BEGIN { @x = 1; } }",
}

// stress are big but valid scripts: accepted or refused cleanly.
var stress = []string{
	"BEGIN { @x = " + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200) + "; exit(); }",
	"BEGIN { @x = " + strings.Repeat("-", 500) + "1; exit(); }",
	"BEGIN { @x = 1" + strings.Repeat(" + 1", 2000) + "; exit(); }",
	"BEGIN { " + strings.Repeat("if (1) { ", 100) + "@x = 1;" + strings.Repeat(" }", 100) + " exit(); }",
	strings.Repeat("BEGIN { @x = 1; }\n", 300),
}

func short(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func noCrash(t *testing.T, script, stderr string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic", "internal error", "runtime error", "SIGSEGV"} {
		assert.NotContains(t, stderr, bad, "script %q", short(script))
	}
}

// A batch of garbage: status 1 and an error message, never a Go panic or
// stack trace.
func TestCLIGarbageNoPanic(t *testing.T) {
	needBinary(t)
	for _, g := range garbage {
		r := gotrace(t, "", "--dry-run", "-e", g)
		assert.Equal(t, 1, r.status, "script %q: stdout %q stderr %q", short(g), r.stdout, r.stderr)
		assert.Contains(t, r.stderr, "ERROR", "script %q", short(g))
		assert.Empty(t, r.stdout, "script %q", short(g))
		noCrash(t, g, r.stderr)
	}
	for _, g := range stress {
		r := gotrace(t, "", "--dry-run", "-e", g)
		noCrash(t, g, r.stderr)
		if r.status != 0 {
			assert.Equal(t, 1, r.status, "script %q", short(g))
			assert.Contains(t, r.stderr, "ERROR", "script %q", short(g))
		}
	}
}

// Every prefix of a real script goes through Main without a panic.
func TestMainTruncatedScriptsNoPanic(t *testing.T) {
	needKernel(t)
	full := `#!/usr/bin/env gotrace
BEGIN { printf("start %s\n", "x"); @n = 0x10 + 010; }
tracepoint:syscalls:sys_enter_close, tracepoint:syscalls:sys_enter_getppid
/pid > 1 && (comm == "a" || $1 != 0)/ { @c[comm, pid] = count(); }
tracepoint:syscalls:sys_enter_openat /!(pid == 1)/
{
	$f = str(args->filename);
	if ($f == "/x") { @h = hist(pid); } else if (pid > 2) { @l = lhist(pid, 0, 100, 10); } else { @s = sum(-1); }
	$t = (1, "two"); @t = $t.0 ? $t.1 : "no";
	unroll(2) { @u++; }
}
interval:ms:10 < @i = count(); >
END { printf("%d %d\n", @n, (uint8)300); }`
	for i := 0; i <= len(full); i++ {
		var out, errOut bytes.Buffer
		status := make(chan int, 1)
		go func() {
			status <- Main([]string{"--dry-run", "-e", full[:i], "5"}, strings.NewReader(""), &out, &errOut)
		}()
		var st int
		select {
		case st = <-status:
		case <-time.After(10 * time.Second):
			t.Fatalf("Main hung on prefix %q", full[:i])
		}
		noCrash(t, full[:i], errOut.String())
		if st != 0 {
			require.Equal(t, 1, st, "prefix %q", full[:i])
			require.Contains(t, errOut.String(), "ERROR", "prefix %q", full[:i])
		}
	}
	var out, errOut bytes.Buffer
	require.Equal(t, 0, Main([]string{"--dry-run", "-e", full, "5"}, strings.NewReader(""), &out, &errOut), errOut.String())
}

// -d dumps the AST and the instructions annotated with the script's text,
// and attaches nothing.
func TestCLIDump(t *testing.T) {
	r := gotrace(t, "", "-d", "-e", "BEGIN { @x = 1 + 2;\n printf(\"%d\\n\", @x); }")
	require.Equal(t, 0, r.status, r.stderr)
	assert.Empty(t, r.stderr)
	assert.NotContains(t, r.stdout, "Attaching")
	lines := strings.Split(r.stdout, "\n")
	require.Greater(t, len(lines), 4)
	assert.Equal(t, "AST:", lines[0])
	assert.Equal(t, `BEGIN { @x = (1 + 2); printf("%d\n", @x); }`, lines[1])
	assert.Contains(t, lines, "BPF:")
	assert.Contains(t, r.stdout, "\t  ; 1:9: @x = 1 + 2\n")
	assert.Contains(t, r.stdout, "\t  ; 2:2: printf(\"%d\\n\", @x)\n")
	assert.Regexp(t, `(?m)^\t +\d+: \w+`, r.stdout, "instruction lines")
	assert.Less(t, strings.Index(r.stdout, "; 1:9:"), strings.Index(r.stdout, "; 2:2:"), "notes in program order")
}

// --dry-run compiles and verifies, attaches nothing, prints nothing.
func TestCLIDryRun(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "--dry-run", "-e", `tracepoint:syscalls:sys_enter_openat { @[comm] = count(); } BEGIN { printf("never\n"); } interval:s:10 { exit(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Empty(t, r.stdout)
	assert.Empty(t, r.stderr)
}

// A script file with several probes, a probe list and a positional
// parameter, run through Main; the events come from this process.
func TestMainScriptFileMultiProbe(t *testing.T) {
	needKernel(t)
	text, err := os.ReadFile(filepath.Join("..", "..", "testdata", "e2e", "multi.bt"))
	require.NoError(t, err)
	script := filepath.Join(t.TempDir(), "multi.bt")
	require.NoError(t, os.WriteFile(script, text, 0o644))
	wantB, err := os.ReadFile(filepath.Join("..", "..", "testdata", "e2e", "multi.txt"))
	require.NoError(t, err)
	pid := strconv.Itoa(os.Getpid())
	want := strings.ReplaceAll(string(wantB), "$PID", pid)

	out, errOut := &syncBuffer{}, &syncBuffer{}
	status := make(chan int, 1)
	go func() { status <- Main([]string{script, pid}, strings.NewReader(""), out, errOut) }()
	// BEGIN runs before the other probes attach (as in bpftrace), so its
	// output says nothing about them: wait for their four links to exist.
	out.waitFor(t, "Attaching 5 probes...\nbegin "+pid+"\n", errOut)
	waitForLinks(t, 3)
	syscall.Getppid()
	syscall.Getpgid(0)
	syscall.Getppid()
	_, err = unix.Getsid(0) // ends the run: exit()
	require.NoError(t, err)
	select {
	case st := <-status:
		assert.Equal(t, 0, st, errOut.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("the script did not exit; stdout: %q", out.String())
	}
	assert.Equal(t, want, out.String())
	assert.Empty(t, errOut.String())
}

// '-' reads the script from standard input; names in errors say "stdin".
func TestMainStdinScript(t *testing.T) {
	needKernel(t)
	var out, errOut bytes.Buffer
	st := Main([]string{"-", "5", "hello"}, strings.NewReader("BEGIN {\n  printf(\"stdin %d %s\\n\", $1, str($2));\n  exit();\n}\n"), &out, &errOut)
	assert.Equal(t, 0, st, errOut.String())
	assert.Equal(t, "Attaching 1 probe...\nstdin 5 hello\n\n\n", out.String())
	assert.Empty(t, errOut.String())

	out.Reset()
	errOut.Reset()
	st = Main([]string{"-"}, strings.NewReader("BEGIN {\n  @x = pdi;\n}\n"), &out, &errOut)
	assert.Equal(t, 1, st)
	assert.Empty(t, out.String())
	assert.True(t, strings.HasPrefix(errOut.String(), "stdin:2:8-11: ERROR: "), "%q", errOut.String())
}

// The same through the binary, with stdin a pipe.
func TestCLIStdinScript(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "BEGIN { printf(\"piped\\n\"); exit(); }", "-")
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, "Attaching 1 probe...\npiped\n\n\n", r.stdout)
}

// -f json prints bpftrace's JSON lines (checked against bpftrace 0.17).
func TestCLIJSON(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "-f", "json", "-e", `BEGIN { printf("hi %d\n", 1); @c[1] = count(); @x = 5; @h = hist(5); @st = stats(3); exit(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, `{"type": "attached_probes", "data": {"probes": 1}}
{"type": "printf", "data": "hi 1\n"}


{"type": "map", "data": {"@c": {"1": 1}}}
{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}]}}
{"type": "stats", "data": {"@st": {"count": 1, "average": 3, "total": 3}}}
{"type": "map", "data": {"@x": 5}}
`, r.stdout)
}

// -o writes the output to a file; stdout stays empty.
func TestCLIOutputFile(t *testing.T) {
	needKernel(t)
	path := filepath.Join(t.TempDir(), "out.txt")
	r := gotrace(t, "", "-o", path, "-e", `BEGIN { printf("to file\n"); @x = 1; exit(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Empty(t, r.stdout)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "Attaching 1 probe...\nto file\n\n\n@x: 1\n", string(b))
}

// Options that do not trace.
func TestCLIInfoOptions(t *testing.T) {
	r := gotrace(t, "", "--version")
	assert.Equal(t, 0, r.status)
	assert.Regexp(t, `^gotrace v\d+\.\d+\.\d+\n$`, r.stdout)

	r = gotrace(t, "", "-h")
	assert.Equal(t, 0, r.status)
	assert.True(t, strings.HasPrefix(r.stderr, "USAGE:\n    gotrace"), "%q", r.stderr)

	r = gotrace(t, "")
	assert.Equal(t, 1, r.status)
	assert.True(t, strings.HasPrefix(r.stderr, "ERROR: USAGE: filename or -e 'program' required."), "%q", r.stderr)

	r = gotrace(t, "", "-f", "yaml", "-e", "BEGIN { exit(); }")
	assert.Equal(t, 1, r.status)
	assert.Equal(t, "ERROR: Invalid output format \"yaml\"\nValid formats: 'text', 'json'\n", r.stderr)

	r = gotrace(t, "", filepath.Join(t.TempDir(), "missing.bt"))
	assert.Equal(t, 1, r.status)
	assert.Contains(t, r.stderr, "ERROR: failed to open file")

	r = gotrace(t, "", "--no-such-flag")
	assert.Equal(t, 1, r.status)
	assert.True(t, strings.HasPrefix(r.stderr, "ERROR: "), "%q", r.stderr)
}

// -l lists matching probes, one per line, as bpftrace -l does.
func TestCLIListProbes(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "-l", "tracepoint:syscalls:sys_enter_getpp*")
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, "tracepoint:syscalls:sys_enter_getppid\n", r.stdout)
}

// waitForLinks waits until this process holds n BPF link descriptors (the
// in-process Main has attached n probes).
func waitForLinks(t *testing.T, n int) {
	t.Helper()
	waitForLinksOf(t, "self", n)
}

// waitForLinksOf waits until process pid holds n BPF link descriptors.
// gotrace prints "Attaching N probes..." before it attaches (as bpftrace
// does, so that BEGIN runs first); the links show when attaching is done.
func waitForLinksOf(t *testing.T, pid string, n int) {
	t.Helper()
	links, events := 0, 0
	if !eventually(10*time.Second, func() bool {
		fds, _ := os.ReadDir("/proc/" + pid + "/fd")
		links, events = 0, 0
		for _, fd := range fds {
			switch target, _ := os.Readlink("/proc/" + pid + "/fd/" + fd.Name()); target {
			case "anon_inode:bpf_link":
				links++
			case "anon_inode:[perf_event]":
				events++
			}
		}
		// Kernels before 5.15 put programs on perf events (kprobes,
		// uprobes, tracepoints) without a link: the events count there.
		return links >= n || links == 0 && events >= n
	}) {
		t.Fatalf("only %d of %d probes attached after 10s", links, n)
	}
}
