package main

// Error reporting at the command line: what a user sees for a mistake in a
// script (status 1, the positioned message, the source line and a marker,
// nothing on stdout), and for running gotrace without the privileges it
// needs. The checker's wording for each kind of mistake is tested case by
// case in lang/testdata/errors; here Main runs them all to make sure every
// one comes out rendered, never as a Go panic.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mainResult runs Main in-process and returns its status, stdout and stderr.
func mainResult(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status := Main(args, strings.NewReader(""), &out, &errOut)
	return status, out.String(), errOut.String()
}

// One representative error of each stage, rendered exactly.
func TestCLIErrorRendering(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"parse: missing semicolon", `BEGIN { @x = 1 @y = 2; }`,
			"stdin:1:16-18: ERROR: syntax error, unexpected map @y, expected ';'\n" +
				"BEGIN { @x = 1 @y = 2; }\n" +
				"               ~~\n"},
		{"parse: unknown probe type", "kprob:vfs_read { @x = count(); }",
			"stdin:1:1-6: ERROR: unknown probe type 'kprob' — did you mean 'kprobe'?\n" +
				"kprob:vfs_read { @x = count(); }\n" +
				"~~~~~\n"},
		{"type: string plus int", `BEGIN { $x = "a" + 1; }`,
			"stdin:1:14-21: ERROR: type mismatch for '+': comparing string[2] with int64\n" +
				"BEGIN { $x = \"a\" + 1; }\n" +
				"             ~~~~~~~\n"},
		{"probe: retval outside a return probe", "BEGIN { exit(); }\nEND { @r = retval; }",
			"stdin:2:12-18: ERROR: retval is only available in return probes (kretprobe, uretprobe, fexit), not in END\n" +
				"END { @r = retval; }\n" +
				"           ~~~~~~\n"},
		// SPEC.md's example: one error, without a second one for $s.
		{"SPEC: string too long", `BEGIN { $s = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"; printf("%s\n", $s); exit(); }`,
			"stdin:1:14-94: ERROR: String is too long (over 64 bytes): abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz\n" +
				`BEGIN { $s = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"; printf("%s\n", $s); exit(); }` + "\n" +
				"             " + strings.Repeat("~", 80) + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := mainResult(t, "--dry-run", "-e", tc.script)
			assert.Equal(t, 1, status)
			assert.Empty(t, stdout)
			assert.Equal(t, tc.want, stderr)
		})
	}
}

// A tracepoint that does not exist: the message says how to list the ones
// that do.
func TestCLIUnknownTracepointSaysHowToList(t *testing.T) {
	needKernel(t)
	status, stdout, stderr := mainResult(t, "--dry-run", "-e", "tracepoint:syscalls:sys_enter_opnat { exit(); }")
	assert.Equal(t, 1, status)
	assert.Empty(t, stdout)
	assert.Regexp(t, `^stdin:1:1-36: ERROR: .*sys_enter_opnat.*`+regexp.QuoteMeta(`gotrace -l 'tracepoint:syscalls:*'`), stderr)
}

// Every mistake in lang/testdata/errors goes through the command line as a
// rendered error with status 1: never a panic, a stack trace or output on
// stdout.
func TestCLIErrorCasesRender(t *testing.T) {
	files, err := filepath.Glob("../../lang/testdata/errors/*.gt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	rendered := regexp.MustCompile(`^stdin:\d+:\d+(-\d+)?: ERROR: [^\n]+\n[^\n]*\n[ \t]*~+\n`)
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, chunk := range strings.Split(string(data), "\n---\n") {
			if !strings.Contains(chunk, "// ### ") {
				continue
			}
			n++
			status, stdout, stderr := mainResult(t, "--dry-run", "-e", chunk, "42", "str")
			name := filepath.Base(file) + ": " + short(chunk)
			assert.Equal(t, 1, status, "%s: stderr %q", name, stderr)
			assert.Empty(t, stdout, name)
			assert.Regexp(t, rendered, stderr, name)
			noCrash(t, chunk, stderr)
		}
	}
	t.Logf("%d error cases through Main", n)
}

// Without root, gotrace says in one sentence what it needs, and exits 1.
// The test builds gotrace into a directory the nobody user can read and
// runs it as nobody.
func TestCLINotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to the nobody user needs root")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build gotrace")
	}
	dir, err := os.MkdirTemp("", "gotrace-nobody")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		if fi.Mode().Perm()&0o001 == 0 {
			t.Skipf("%s is not searchable by other users", d)
		}
		if d == filepath.Dir(d) {
			break
		}
	}
	exe := filepath.Join(dir, "gotrace")
	build := exec.Command(goTool, "build", "-o", exe, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building gotrace: %s", out)
	require.NoError(t, os.Chmod(exe, 0o755))

	cmd := exec.Command(exe, "--dry-run", "-e", "BEGIN { exit(); }")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	require.NoError(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("gotrace as nobody did not end")
	}
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "stderr: %s", stderr.String())
	assert.Equal(t, 1, ee.ExitCode())
	assert.Empty(t, stdout.String())
	msg := stderr.String()
	noCrash(t, "BEGIN { exit(); }", msg)
	lines := strings.Split(strings.TrimSuffix(msg, "\n"), "\n")
	require.Len(t, lines, 1, "one line: %q", msg)
	assert.Regexp(t, `^ERROR: [^.]*\broot\b[^.]*CAP_BPF[^.]*$`, lines[0], "one sentence naming root and CAP_BPF")
	assert.NotContains(t, msg, "MEMLOCK", "no misleading hint")
}
