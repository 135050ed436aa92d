package main

// The command-line flags bpftrace has, compared with what bpftrace 0.17
// printed on the development VM for the same command (captured by
// testdata/cli/capture.sh; bpftrace is not needed to run these tests).

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// captured is a file of testdata/cli.
func captured(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cli", name))
	require.NoError(t, err)
	return string(b)
}

// gotraceBoth runs the binary with stdout and stderr in one pipe, as the
// runtime tests of bpftrace read it, and the given extra environment.
func gotraceBoth(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	needBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "gotrace %q did not end in time", args)
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return string(out), status
}

const notifyEnv = "__BPFTRACE_NOTIFY_PROBES_ATTACHED=1"

// The options parse as getopt_long parses bpftrace's.
func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want options
		err  string
	}{
		{args: []string{"-lv", "x"}, want: options{list: true, verbose: 1, rest: []string{"x"}}},
		{args: []string{"-kk", "-e", "p"}, want: options{helperErrs: 2, prog: "p", progSet: true}},
		{args: []string{"-p123", "-qe", "p"}, want: options{pid: "123", quiet: true, prog: "p", progSet: true}},
		{args: []string{"-e", "p", "a1", "-q", "a2"}, want: options{prog: "p", progSet: true, quiet: true, rest: []string{"a1", "a2"}}},
		{args: []string{"-e", "p", "--", "-q"}, want: options{prog: "p", progSet: true, rest: []string{"-q"}}},
		{args: []string{"--include=errno.h", "--include", "x.h", "-I", "/d", "-I/e"}, want: options{include: []string{"errno.h", "x.h"}, includeDir: []string{"/d", "/e"}}},
		{args: []string{"--vers"}, want: options{version: true}},
		{args: []string{"-V", "--no-warnings", "--usdt-file-activation", "-B", "full"}, want: options{version: true, noWarnings: true, usdtFile: true, buffering: "full"}},
		{args: []string{"-"}, want: options{rest: []string{"-"}}},
		{args: []string{"-x"}, err: "invalid option -- 'x'"},
		{args: []string{"-e"}, err: "option requires an argument -- 'e'"},
		{args: []string{"--bogus"}, err: "unrecognized option '--bogus'"},
		{args: []string{"--include"}, err: "option '--include' requires an argument"},
		{args: []string{"--info=1"}, err: "option '--info' doesn't allow an argument"},
		{args: []string{"--u"}, err: "option '--u' is ambiguous"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			o, err := parseOptions(tc.args)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			tc.want.format = "text"
			assert.Equal(t, &tc.want, o)
		})
	}
}

// -q: no "Attaching N probes..." line, in text and in JSON.
func TestCLIQuiet(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "-q", "-e", `BEGIN { printf("hi\n"); @x = 1; exit(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, captured(t, "quiet.out"), r.stdout)
	r = gotrace(t, "", "-q", "-f", "json", "-e", `BEGIN { printf("hi\n"); @x = 1; exit(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, captured(t, "quiet-json.out"), r.stdout)
}

// The attach marker of bpftrace's test hook: on stderr, after "Attaching",
// before BEGIN's output, with or without -q, and only when asked for.
func TestCLINotifyAttached(t *testing.T) {
	needKernel(t)
	out, status := gotraceBoth(t, []string{notifyEnv}, "-e", `BEGIN { printf("hi\n"); exit(); }`)
	assert.Equal(t, 0, status)
	assert.Equal(t, captured(t, "notify.both"), out)

	out, status = gotraceBoth(t, []string{notifyEnv}, "-q", "-e", `BEGIN { printf("hi\n"); exit(); }`)
	assert.Equal(t, 0, status)
	assert.Equal(t, captured(t, "notify-quiet.both"), out)

	r := gotrace(t, "", "-e", `BEGIN { exit(); }`)
	assert.NotContains(t, r.stdout+r.stderr, "__BPFTRACE_NOTIFY_PROBES_ATTACHED")

	// With -c the command runs once the marker is out; what it prints
	// and BEGIN's output may come in either order, as in bpftrace.
	out, status = gotraceBoth(t, []string{notifyEnv}, "-c", "/bin/echo from the command", "-e", `BEGIN { printf("hi\n"); }`)
	assert.Equal(t, 0, status)
	want := strings.Split(captured(t, "notify-command.both"), "\n")
	got := strings.Split(out, "\n")
	require.GreaterOrEqual(t, len(got), 3, "%q", out)
	assert.Equal(t, want[:2], got[:2], "%q", out)
	assert.ElementsMatch(t, want[2:], got[2:], "%q", out)
}

// The marker means the probes are attached: an event caused right after it
// is caught, however busy the machine.
func TestCLINotifyMeansAttached(t *testing.T) {
	needKernel(t)
	needBinary(t)
	cmd := exec.Command(bin, "-e", `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf("caught\n"); exit(); }`, strconv.Itoa(os.Getpid()))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	out := &syncBuffer{}
	cmd.Stdout = out
	cmd.Env = append(os.Environ(), notifyEnv)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.After(15 * time.Second)
	select {
	case l := <-lines:
		require.Equal(t, "__BPFTRACE_NOTIFY_PROBES_ATTACHED", l)
	case <-deadline:
		t.Fatalf("no attach marker; stdout %q", out.String())
	}
	syscall.Getppid()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-deadline:
		t.Fatalf("the event after the marker was not caught; stdout %q", out.String())
	}
	assert.Equal(t, "Attaching 1 probe...\ncaught\n\n\n", out.String())
}

// -B line, full and none print the same; a bad mode is refused.
func TestCLIBuffering(t *testing.T) {
	needKernel(t)
	for _, m := range []string{"line", "full", "none"} {
		r := gotrace(t, "", "-B", m, "-e", `BEGIN { printf("a\n"); printf("b\n"); @x = 1; exit(); }`)
		assert.Equal(t, 0, r.status, r.stderr)
		assert.Equal(t, captured(t, "buffering-"+m+".out"), r.stdout, m)
	}
	out, status := gotraceBoth(t, nil, "-B", "bad", "-e", "BEGIN { exit(); }")
	assert.Equal(t, 1, status)
	assert.Equal(t, captured(t, "buffering-bad.both"), out)
}

// -B full holds the output until the end; the default writes each line
// as it comes (here: before the run ends).
func TestCLIBufferingFullHoldsOutput(t *testing.T) {
	needKernel(t)
	s := start(t, "Attaching 1 probe...\n", "-B", "line", "-e", `BEGIN { printf("early\n"); }`)
	s.out.waitFor(t, "early\n", s.errOut)
	assert.Equal(t, 0, s.stop(t, syscall.SIGINT))

	needBinary(t)
	cmd := exec.Command(bin, "-B", "full", "-e", `BEGIN { printf("early\n"); }`)
	cmd.Env = append(os.Environ(), notifyEnv)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	out := &syncBuffer{}
	cmd.Stdout = out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	waitLine(t, stderr, "__BPFTRACE_NOTIFY_PROBES_ATTACHED")
	assert.Empty(t, out.String(), "nothing written before the end")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait())
	assert.Equal(t, "Attaching 1 probe...\nearly\n\n\n", out.String())
}

// waitLine reads r until a line equal to want, with a deadline.
func waitLine(t *testing.T, r io.Reader, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() == want {
				found <- true
				io.Copy(io.Discard, r)
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		require.True(t, ok, "no line %q", want)
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %q", want)
	}
}

// -V and --version print the version on stdout (gotrace's name where
// bpftrace prints its own).
func TestCLIVersion(t *testing.T) {
	want := strings.Replace(captured(t, "version.out"), "bpftrace v0.17.0", version, 1)
	for _, f := range []string{"-V", "--version"} {
		r := gotrace(t, "", f)
		assert.Equal(t, 0, r.status)
		assert.Equal(t, want, r.stdout)
		assert.Empty(t, r.stderr)
	}
}

// usageLayout is the skeleton of a usage text: its section titles and the
// flags it lists, in order.
func usageLayout(s string) (sections, flags []string) {
	flag := regexp.MustCompile(`^    (-[A-Za-z]+|--[a-z-]+)`)
	for _, l := range strings.Split(s, "\n") {
		if strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") {
			sections = append(sections, l)
		}
		if m := flag.FindStringSubmatch(l); m != nil {
			flags = append(flags, m[1])
		}
	}
	return
}

// --help and -h print bpftrace's layout of usage on stderr and exit 0; a
// bad flag prints the mistake and the usage and exits 1.
func TestCLIHelp(t *testing.T) {
	bpfSections, bpfFlags := usageLayout(captured(t, "help.err"))
	for _, f := range []string{"-h", "--help"} {
		r := gotrace(t, "", f)
		assert.Equal(t, strings.TrimSpace(captured(t, "help.status")), strconv.Itoa(r.status))
		assert.Equal(t, captured(t, "help.out"), r.stdout)
		sections, flags := usageLayout(r.stderr)
		assert.Equal(t, bpfSections, sections)
		// Every bpftrace flag but the LLVM ones and -dd, in bpftrace's order.
		var want []string
		for _, fl := range bpfFlags {
			if fl != "--emit-elf" && fl != "--emit-llvm" && fl != "-dd" {
				want = append(want, fl)
			}
		}
		var got []string
		for _, fl := range flags {
			if fl != "--dry-run" {
				got = append(got, fl)
			}
		}
		assert.Equal(t, want, got)
		assert.True(t, strings.HasPrefix(r.stderr, "USAGE:\n    gotrace [options] filename\n"), "%q", r.stderr)
	}
	r := gotrace(t, "", "-idonotexist")
	assert.Equal(t, strings.TrimSpace(captured(t, "badflag.status")), strconv.Itoa(r.status))
	assert.Equal(t, captured(t, "badflag.out"), r.stdout)
	assert.Equal(t, "ERROR: invalid option -- 'i'\n"+usage, r.stderr)
}

// Mistakes on the command line, in bpftrace's words.
func TestCLIUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"pid-nan.both", []string{"-p", "a1111", "file.bt"}},
		{"pid-range.both", []string{"-p", "5000000", "file.bt"}},
		{"format-bad.both", []string{"-f", "jsonx", "-e", "BEGIN { exit(); }"}},
		{"nofile.both", []string{"non_existent_file.bt"}},
	} {
		out, status := gotraceBoth(t, nil, tc.args...)
		assert.Equal(t, 1, status, "%q", tc.args)
		assert.Equal(t, captured(t, tc.file), out, "%q", tc.args)
	}
	out, status := gotraceBoth(t, nil, "-q")
	assert.Equal(t, 1, status)
	assert.Equal(t, captured(t, "noprogram.both"), out)
	// With no argument at all, the usage follows.
	out, status = gotraceBoth(t, nil)
	assert.Equal(t, 1, status)
	assert.Equal(t, captured(t, "noprogram.both")+usage, out)
}

// --info: bpftrace's layout, and each line the runtime tests read, its
// answer true to this kernel and to what gotrace implements.
func TestCLIInfo(t *testing.T) {
	needBinary(t)
	r := gotrace(t, "", "--info")
	assert.Equal(t, 0, r.status)
	assert.Empty(t, r.stdout)
	titles := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l != "" && !strings.HasPrefix(l, " ") {
				out = append(out, l)
			}
		}
		return out
	}
	assert.Equal(t, titles(captured(t, "info.err")), titles(r.stderr))
	line := regexp.MustCompile(`(?m)^  (.+): (.*)$`)
	got := map[string]string{}
	for _, m := range line.FindAllStringSubmatch(r.stderr, -1) {
		got[m[1]] = m[2]
	}
	// bpftrace's lines are all there, with a value.
	for _, m := range line.FindAllStringSubmatch(captured(t, "info.err"), -1) {
		assert.Contains(t, got, m[1])
	}
	// What gotrace does not implement.
	for _, name := range []string{"libdw (DWARF support)", "dpath", "skboutput", "iter:task", "iter:task_file", "kprobe_multi"} {
		assert.Equal(t, "no", got[name], name)
	}
	// What it implements, when this kernel has it.
	_, err := os.Stat("/sys/kernel/btf/vmlinux")
	assert.Equal(t, yes(err == nil), got["btf"])
	_, err = os.Stat("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset")
	assert.Equal(t, yes(err == nil), got["uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount)"])
	assert.Equal(t, "yes", got["bcc library path resolution"])
	if os.Geteuid() == 0 {
		// The development VM: loops, probe_read_kernel and send_signal,
		// and no fentry.
		assert.Equal(t, "yes", got["Loop support"])
		assert.Equal(t, "yes", got["probe_read_kernel"])
		assert.Equal(t, "yes", got["send_signal"])
		assert.Equal(t, "yes", got["perf_event_array"])
		if _, err := os.Stat("/sys/kernel/tracing/kprobe_events"); err != nil {
			assert.Equal(t, "no", got["kprobe"])
			assert.Equal(t, "no", got["kfunc"], "this VM refuses fentry programs")
		}
	}
}

// SIGUSR1 prints every map, as bpftrace does, and the run goes on until
// SIGINT prints them again at the end.
func TestCLISigusr1PrintsMaps(t *testing.T) {
	needKernel(t)
	needBinary(t)
	cmd := exec.Command(bin, "-e", `BEGIN { @a = 1; @b[1] = 2; @c = hist(5); @d = count(); }`)
	cmd.Env = append(os.Environ(), notifyEnv)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	out := &syncBuffer{}
	cmd.Stdout = out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill() })
	waitLine(t, stderr, "__BPFTRACE_NOTIFY_PROBES_ATTACHED")
	require.NoError(t, cmd.Process.Signal(syscall.SIGUSR1))
	out.waitFor(t, "@d: 1\n", &syncBuffer{})
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.NoError(t, cmd.Wait())
	assert.Equal(t, captured(t, "usr1.out"), out.String())
}

// --no-warnings drops every warning, positioned or not; errors stay.
func TestCLINoWarnings(t *testing.T) {
	var b strings.Builder
	w := &noWarnings{w: &b}
	io.WriteString(w, "WARNING: this kernel has no kprobes; kprobe:sys_clone attaches to tracepoint:syscalls:sys_enter_clone instead\n")
	io.WriteString(w, "stdin:1:9-20: WARNING: Failed to probe_read_kernel: Bad address (-14)\nBEGIN { @x = *(uint8*)0; }\n        ~~~~~~~~~~~\n")
	io.WriteString(w, "ERROR: a real error\n")
	assert.Equal(t, "ERROR: a real error\n", b.String())

	needKernel(t)
	r := gotrace(t, "", "--no-warnings", "-e", `kprobe:sys_getppid { exit(); } BEGIN { exit(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Empty(t, r.stderr)
	if _, err := os.Stat("/sys/kernel/tracing/kprobe_events"); err != nil {
		r = gotrace(t, "", "-e", `kprobe:sys_getppid { exit(); } BEGIN { exit(); }`)
		assert.Contains(t, r.stderr, "WARNING:", "without the flag the fallback is announced")
	}
}

// -kk checks every helper, as -k does here; --usdt-file-activation is what
// gotrace always does (the kernel raises semaphores of the file), so both
// are accepted.
func TestCLIHelperChecksAndUsdtFileActivation(t *testing.T) {
	needKernel(t)
	for _, args := range [][]string{{"-k"}, {"-kk"}} {
		r := gotrace(t, "", append(args, "-e", `BEGIN { @x = *(uint64 *)8; exit(); }`)...)
		assert.Equal(t, 0, r.status, r.stderr)
		assert.Regexp(t, `^stdin:1:\d+-\d+: WARNING: Failed to probe_read`, r.stderr, "%q", args)
	}
	r := gotrace(t, "", "--usdt-file-activation", "-e", `BEGIN { printf("ok\n"); exit(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, "Attaching 1 probe...\nok\n\n\n", r.stdout)
}

// BPFTRACE_CAT_BYTES_MAX limits what cat() prints.
func TestCLICatBytesMax(t *testing.T) {
	needKernel(t)
	path := filepath.Join(t.TempDir(), "digits")
	require.NoError(t, os.WriteFile(path, []byte("0123456789\n"), 0o644))
	out, status := gotraceBoth(t, []string{"BPFTRACE_CAT_BYTES_MAX=3"}, "-e", `BEGIN { cat("`+path+`"); exit(); }`)
	assert.Equal(t, 0, status)
	assert.Equal(t, captured(t, "cat-max.out"), out)
}

// Bad BPFTRACE_* values are refused with bpftrace's words, not ignored.
func TestCLIBadEnvironment(t *testing.T) {
	for _, v := range []string{"BPFTRACE_STRLEN", "BPFTRACE_CAT_BYTES_MAX", "BPFTRACE_MAP_KEYS_MAX"} {
		out, status := gotraceBoth(t, []string{v + "=abc"}, "-e", "BEGIN { exit(); }")
		assert.Equal(t, 1, status, v)
		assert.Equal(t, captured(t, "env-bad-"+v+".both"), out, v)
	}
	out, status := gotraceBoth(t, []string{"BPFTRACE_STRLEN=300"}, "-e", "BEGIN { exit(); }")
	assert.Equal(t, 1, status)
	assert.Equal(t, captured(t, "env-strlen-300.both"), out)
}

// Headers are looked for as bpftrace's preprocessor does: a missing one,
// in the script or from --include, is an error in clang's words; -I adds
// a directory to search. Headers in a branch skipped because gotrace has
// BTF are not looked for.
func TestCLIIncludes(t *testing.T) {
	clang := regexp.MustCompile(`fatal error: (.*)$`)
	phrase := func(file string) string {
		m := clang.FindStringSubmatch(strings.TrimSpace(captured(t, file)))
		require.NotNil(t, m, file)
		return m[1]
	}
	r := gotrace(t, "", "--dry-run", "-e", "#include <lol/no.h>\nBEGIN { exit(); }")
	assert.Equal(t, 1, r.status)
	assert.Regexp(t, `^stdin:1:10-20: ERROR: `+regexp.QuoteMeta(phrase("include-missing.both")), r.stderr)

	r = gotrace(t, "", "--dry-run", "--include", "nope.h", "-e", "BEGIN { exit(); }")
	assert.Equal(t, 1, r.status)
	assert.True(t, strings.HasPrefix(r.stderr, "ERROR: "+phrase("include-flag-missing.both")), "%q", r.stderr)

	needKernel(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gotrace_test.h"), []byte("#define X 1\n"), 0o644))
	out, status := gotraceBoth(t, nil, "-I", dir, "--include", "gotrace_test.h", "-e", "BEGIN { exit(); }")
	assert.Equal(t, 0, status)
	assert.Equal(t, captured(t, "include-flag.both"), out)
	out, status = gotraceBoth(t, nil, "-e", "#include <sys/xattr.h>\n#ifndef BPFTRACE_HAVE_BTF\n#include <no/such.h>\n#endif\nBEGIN { exit(); }")
	assert.Equal(t, 0, status)
	assert.Equal(t, captured(t, "include-flag.both"), out)
}

// Once exit() is handled nothing else is printed but END's output, as in
// bpftrace: the interval fires again before the run ends.
func TestCLINothingPrintedAfterExit(t *testing.T) {
	needKernel(t)
	path := filepath.Join(t.TempDir(), "digits")
	require.NoError(t, os.WriteFile(path, []byte("0123456789\n"), 0o644))
	for i := 0; i < 3; i++ {
		out, status := gotraceBoth(t, []string{"BPFTRACE_CAT_BYTES_MAX=1"}, "-e", `i:ms:1 { cat("`+path+`"); exit(); } END { printf("end\n"); }`)
		assert.Equal(t, 0, status)
		assert.Equal(t, captured(t, "exit-stops-output.out"), out)
	}
}
