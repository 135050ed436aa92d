package runtime_test

// End-to-end tests: scripts are compiled the way the command line compiles
// them, loaded into the running kernel, attached, triggered from the test
// and their output compared exactly. They need root and a kernel with BPF,
// tracepoints and perf events (the development VM described in
// ENVIRONMENT.md); they skip elsewhere.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime/tracetest"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// runTimeout bounds one run: a run that hangs fails instead of blocking the
// suite.
const runTimeout = 20 * time.Second

// requireKernel skips the test as a normal user, and fails it as root
// where the kernel side cannot run (testenv's rule).
func requireKernel(t *testing.T) {
	t.Helper()
	testenv.RequireTracefs(t)
}

// compile does what the command line does: parse, check, compile.
func compile(t *testing.T, script string, args []string) (*codegen.Program, error) {
	t.Helper()
	src := &lang.Source{Name: "stdin", Text: script}
	prog, err := lang.Parse(src)
	if err != nil {
		return nil, err
	}
	info, err := lang.Check(prog, src, &lang.Env{Target: testtarget.Live(), Args: args})
	if err != nil {
		return nil, err
	}
	return codegen.Compile(info, codegen.Options{})
}

// run compiles and runs script with a text printer. trigger is called once
// the probes are attached and BEGIN ran; the run is stopped once it
// returned: the events it caused in its own thread are all in by then. A
// nil trigger means the script ends by itself (exit()). It returns what the
// run printed on stdout and stderr.
func run(t *testing.T, script string, args []string, trigger func()) (stdout, stderr string) {
	t.Helper()
	requireKernel(t)
	p, err := compile(t, script, args)
	require.NoError(t, err, "compiling:\n%s", script)
	return tracetest.RunProgram(t, p, trigger, tracetest.Options{Timeout: runTimeout})
}

// comm is the kernel's name for this process (the first 15 bytes of the
// test binary's name).
func comm(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/comm")
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// sub replaces PID and COMM in a script with this process's values.
func sub(t *testing.T, script string) string {
	return strings.NewReplacer("PID", strconv.Itoa(os.Getpid()), "COMM", comm(t)).Replace(script)
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "e2e", name))
	require.NoError(t, err)
	return string(b)
}

// 1. BEGIN, printf, exit(): the whole output, exactly.
func TestE2EBeginPrintfExit(t *testing.T) {
	out, errOut := run(t, `BEGIN { printf("hello %d %s\n", 42, "world"); exit(); }`, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\nhello 42 world\n\n\n", out)
	assert.Empty(t, errOut)
}

// 1b. exit() with a map: the maps follow the printf output.
func TestE2EBeginExitPrintsMaps(t *testing.T) {
	out, _ := run(t, `BEGIN { printf("hello %d %s\n", 42, "world"); @n = 5; @m["k"] = 6; exit(); }`, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\nhello 42 world\n\n\n@m[k]: 6\n@n: 5\n", out)
}

// 2. The printf line of SPEC.md, with ten arguments.
func TestE2EPrintfSpecLine(t *testing.T) {
	script := `BEGIN { printf("%s|%d|%u|%x|%p|%c|%5s|%-5d|%lu|%lld\n", "abc", -1, -1, 255, 4096, 66, "ab", 7, 123, -9); exit(); }`
	_, err := compile(t, script, nil)
	require.NoError(t, err)
	out, _ := run(t, script, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\nabc|-1|4294967295|ff|0x1000|B|   ab|7    |123|-9\n\n\n", out)
}

// 2b. The same specifiers split over printf calls gotrace accepts today.
func TestE2EPrintfSpecifiers(t *testing.T) {
	script := `BEGIN {
		printf("%s|%d|%u|%x|%p|", "abc", -1, -1, 255, 4096);
		printf("%c|%5s|%-5d|%lu|%lld\n", 66, "ab", 7, 123, -9);
		printf("%X %o %d|%-6s|%3d|%%|\n", 255, 8, -3, "ab", 12345);
		printf("%s\n", "tab\there \\ \"q\" \x41");
		printf("100%% done\n");
		printf("a%%b %d\n", 1);
		exit();
	}`
	// bpftrace 0.17 turns "%%" into "%" only in the text before the first
	// conversion of a printf that has arguments; elsewhere it prints "%%".
	// gotrace matches it, quirk included.
	out, _ := run(t, script, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\n"+
		"abc|-1|4294967295|ff|0x1000|B|   ab|7    |123|-9\n"+
		"FF 10 -3|ab    |12345|%%|\n"+
		"tab\there \\ \"q\" A\n"+
		"100%% done\n"+
		"a%b 1\n"+
		"\n\n", out)
}

// 2c. %i is a C specifier SPEC.md lists; the checker accepts it.
func TestE2EPrintfPercentI(t *testing.T) {
	out, _ := run(t, `BEGIN { printf("%i|%5i|\n", -3, 42); exit(); }`, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\n-3|   42|\n\n\n", out)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// spawn starts n processes: Go's os/exec forks with the clone system call
// (clone3 only for cgroup or time-namespace options), once per process.
func spawn(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		require.NoError(t, exec.Command("/bin/true").Run())
	}
}

// runWithoutKprobes is run, compiled for this kernel as if it had no
// kprobes: the syscall tracepoint fallback, which attaches on any kernel.
// (kernelprobes_e2e_test.go runs kprobe:sys_X as each kernel has it.)
func runWithoutKprobes(t *testing.T, script string, trigger func()) (stdout, stderr string) {
	t.Helper()
	requireKernel(t)
	tg := testtarget.WithFeatures(testtarget.Live(), map[target.Feature]bool{target.Kprobes: false})
	return tracetest.Run(t, script, trigger, tracetest.Options{Env: &lang.Env{Target: tg}, Timeout: runTimeout})
}

// 3. kprobe:sys_clone on a kernel without kprobes: the tracepoint fallback,
// in both block forms, with one warning line.
func TestE2EKprobeSysCloneFallback(t *testing.T) {
	for _, script := range []string{
		`kprobe:sys_clone < printf("hi\n") >`,
		`kprobe:sys_clone { printf("hi\n"); }`,
	} {
		t.Run(script, func(t *testing.T) {
			const runs = 5
			out, errOut := runWithoutKprobes(t, script, func() { spawn(t, runs) })
			require.True(t, strings.HasPrefix(out, "Attaching 1 probe...\n"), "stdout: %q", out)
			require.True(t, strings.HasSuffix(out, "\n\n\n"), "stdout: %q", out)
			body := strings.TrimSuffix(strings.TrimPrefix(out, "Attaching 1 probe...\n"), "\n\n")
			lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
			for _, l := range lines {
				require.Equal(t, "hi", l, "every printed line is the printf's")
			}
			assert.GreaterOrEqual(t, len(lines), runs, "one clone per process spawned")

			warn := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			require.Len(t, warn, 1, "exactly one warning line, got %q", errOut)
			assert.True(t, strings.HasPrefix(warn[0], "WARNING: "), "%q", warn[0])
			assert.Contains(t, warn[0], "kprobe:sys_clone")
			assert.Contains(t, warn[0], "tracepoint:syscalls:sys_enter_clone")
		})
	}
}

// 3b. kretprobe:sys_X falls back to sys_exit_X.
func TestE2EKretprobeFallback(t *testing.T) {
	out, errOut := runWithoutKprobes(t, sub(t, `kretprobe:sys_getppid /pid == PID/ { @ret = count(); }`), func() {
		for i := 0; i < 3; i++ {
			syscall.Getppid()
		}
	})
	assert.Equal(t, "Attaching 1 probe...\n\n\n@ret: 3\n", out)
	assert.Contains(t, errOut, "tracepoint:syscalls:sys_exit_getppid")
	assert.Equal(t, 1, strings.Count(errOut, "\n"), "one warning line: %q", errOut)
}

// 4. Counting the test's own openat calls by comm, exactly.
func TestE2ECountOpenatByComm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("x"), 0o644))
	const n = 7
	out, _ := run(t, sub(t, `tracepoint:syscalls:sys_enter_openat /pid == PID/ { @[comm] = count(); }`), nil, func() {
		for i := 0; i < n; i++ {
			f, err := os.Open(path)
			require.NoError(t, err)
			f.Close()
		}
	})
	assert.Equal(t, fmt.Sprintf("Attaching 1 probe...\n\n\n@[%s]: %d\n", comm(t), n), out)
}

// 5. Predicates with && / || and string compares; str(args->filename)
// prints the exact path opened.
func TestE2EPredicatesAndStrFilename(t *testing.T) {
	dir, err := os.MkdirTemp("", "gt")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	target := filepath.Join(dir, "target-e2e.txt")
	other := filepath.Join(dir, "other-e2e.txt")
	for _, p := range []string{target, other} {
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	require.Less(t, len(target), 60, "the path must fit str()'s 64 bytes")
	c := comm(t)
	require.Greater(t, len(c), 2)

	script := sub(t, `
tracepoint:syscalls:sys_enter_openat /pid == PID && comm == "COMM"/ {
	if (str(args->filename) == "TARGET") {
		printf("match %s\n", str(args->filename));
	} else {
		printf("other %s\n", str(args->filename));
	}
}
tracepoint:syscalls:sys_enter_openat /pid == PID && (comm == "PREFIX" || comm == "COMMx" || comm != "COMM")/ {
	printf("wrong %s\n", comm);
}
tracepoint:syscalls:sys_enter_openat /pid != PID && comm == "COMM"/ {
	printf("wrong pid %d\n", pid);
}`)
	script = strings.NewReplacer("TARGET", target, "PREFIX", c[:len(c)-1]).Replace(script)
	out, _ := run(t, script, nil, func() {
		for _, p := range []string{target, other, target} {
			f, err := os.Open(p)
			require.NoError(t, err)
			f.Close()
		}
	})
	// Attaching the later probes opens tracefs files from this process once
	// the first probe is live: those events are real, but not the test's.
	var kept []string
	for _, l := range strings.SplitAfter(out, "\n") {
		if !strings.HasPrefix(l, "other /sys/kernel/") {
			kept = append(kept, l)
		}
	}
	out = strings.Join(kept, "")
	assert.Equal(t, "Attaching 3 probes...\n"+
		"match "+target+"\n"+
		"other "+other+"\n"+
		"match "+target+"\n"+
		"\n\n", out)
}

// 6a. Operators, precedence, scratch variables, if/else, ternary: the
// output bpftrace 0.17 prints for testdata/e2e/operators.bt.
func TestE2EOperators(t *testing.T) {
	out, _ := run(t, readTestdata(t, "operators.bt"), nil, nil)
	assert.Equal(t, readTestdata(t, "operators.txt"), out)
}

// 6b. Map printing: the output bpftrace 0.17 prints for
// testdata/e2e/maps.bt.
func TestE2EMapsPrinting(t *testing.T) {
	out, _ := run(t, readTestdata(t, "maps.bt"), nil, nil)
	assert.Equal(t, readTestdata(t, "maps.txt"), out)
}

// 6c. The aggregations of SPEC.md, printed exactly as there.
func TestE2EAggregationsSpec(t *testing.T) {
	script := `BEGIN { @c = count(); @c2[1] = count(); @s = sum(5); @a = avg(7); @mn = min(3); @mx = max(9); @st = stats(10); @st = stats(20); @h = hist(-1); @h = hist(0); @h = hist(1); @h = hist(1024); @l = lhist(-5, 0, 100, 10); @l = lhist(55, 0, 100, 10); @l = lhist(500, 0, 100, 10); @str["a"] = "x"; @t[1, "k"] = (2, "v"); @neg = -5; exit(); }`
	bar := strings.Repeat("@", 52)
	none := strings.Repeat(" ", 52)
	want := "Attaching 1 probe...\n\n\n" +
		"@a: 7\n\n" +
		"@c: 1\n" +
		"@c2[1]: 1\n" +
		"@h: \n" +
		"(..., 0)               1 |" + bar + "|\n" +
		"[0]                    1 |" + bar + "|\n" +
		"[1]                    1 |" + bar + "|\n"
	for _, l := range []string{"[2, 4)", "[4, 8)", "[8, 16)", "[16, 32)", "[32, 64)", "[64, 128)", "[128, 256)", "[256, 512)", "[512, 1K)"} {
		want += fmt.Sprintf("%-16s%8d |%s|\n", l, 0, none)
	}
	want += "[1K, 2K)               1 |" + bar + "|\n\n"
	want += "@l: \n(..., 0)               1 |" + bar + "|\n"
	for i := 0; i < 10; i++ {
		n, b := 0, none
		if i == 5 {
			n, b = 1, bar
		}
		want += fmt.Sprintf("%-16s%8d |%s|\n", fmt.Sprintf("[%d, %d)", i*10, i*10+10), n, b)
	}
	want += "[100, ...)             1 |" + bar + "|\n\n" +
		"@mn: 3\n" +
		"@mx: 9\n" +
		"@neg: -5\n" +
		"@s: 5\n" +
		"@st: count 2, average 15, total 30\n\n" +
		"@str[a]: x\n" +
		"@t[1, k]: (2, v)\n"
	out, _ := run(t, script, nil, nil)
	assert.Equal(t, want, out)
}

// 6d. count and sum keyed by two keys from a tracepoint, unkeyed
// aggregations next to them, plain maps written from an expression that
// reads another map, scratch variables.
func TestE2ETwoKeyAggregations(t *testing.T) {
	pid := os.Getpid()
	c := comm(t)
	script := sub(t, `
BEGIN { @base = 100; }
tracepoint:syscalls:sys_enter_getppid /pid == PID/ {
	@x[pid, comm] = count();
	@s[pid, comm] = sum(3);
	@s[0, "zero"] = sum(1);
	@all = count();
	@total = sum(10);
	$v = 5;
	$v = $v * 2;
	@y = @base + $v + 1;
	@scratch = $v;
}`)
	out, _ := run(t, script, nil, func() {
		for i := 0; i < 4; i++ {
			syscall.Getppid()
		}
	})
	want := fmt.Sprintf("Attaching 2 probes...\n\n\n"+
		"@all: 4\n"+
		"@base: 100\n"+
		"@s[0, zero]: 4\n"+
		"@s[%d, %s]: 12\n"+
		"@scratch: 10\n"+
		"@total: 40\n"+
		"@x[%d, %s]: 4\n"+
		"@y: 111\n", pid, c, pid, c)
	assert.Equal(t, want, out)
}

// 6d'. A map read in the statement that assigns it, or before a later
// assignment: bpftrace 0.17 accepts both (a missing entry reads as 0).
func TestE2EMapReadBeforeAssign(t *testing.T) {
	script := `BEGIN { @a = @a + 1; @a = @a + 1; @last = @prev + 1; @prev = @last * 2; @last = @prev + 1; exit(); }`
	_, err := compile(t, script, nil)
	require.NoError(t, err)
	out, _ := run(t, script, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\n\n\n@a: 2\n@last: 3\n@prev: 2\n", out)
}

// 6e. ++/--, while with break/continue, unroll, tuples, casts.
func TestE2EControlFlow(t *testing.T) {
	script := `BEGIN {
		$x = 5; $x++; ++$x; $x--;
		@a[1]++; @a[1]++; @a[2]--; @b++;
		$i = 0;
		while ($i < 10) { $i++; if ($i == 2) { continue; } if ($i == 5) { break; } printf("%d ", $i); }
		printf("| x=%d\n", $x);
		unroll(3) { @u = count(); }
		$t = (1, "two", 3);
		printf("%d %s %d\n", $t.0, $t.1, $t.2);
		printf("%d %d %d\n", (uint8)257, (int8)255, (uint16)65537);
		exit();
	}`
	out, _ := run(t, script, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\n1 3 4 | x=6\n1 two 3\n1 -1 1\n\n\n@a[2]: -1\n@a[1]: 2\n@b: 1\n@u: 3\n", out)
}

// 6f. Map functions of SPEC.md: delete, clear, zero, print.
func TestE2EMapFunctions(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{`BEGIN { @x[1] = 1; @x[2] = 2; @y = 2; delete(@x[1]); exit(); }`,
			"Attaching 1 probe...\n\n\n@x[2]: 2\n@y: 2\n"},
		{`BEGIN { @x[1] = 1; @x[2] = 3; clear(@x); @z = 1; exit(); }`,
			"Attaching 1 probe...\n\n\n\n@z: 1\n"},
		{`BEGIN { @x[1] = count(); @x[2] = count(); zero(@x); exit(); }`,
			"Attaching 1 probe...\n\n\n@x[1]: 0\n@x[2]: 0\n"},
		{`BEGIN { @x["a"] = 3; @x["b"] = 1; print(@x); printf("--\n"); exit(); }`,
			"Attaching 1 probe...\n@x[b]: 1\n@x[a]: 3\n--\n\n\n@x[b]: 1\n@x[a]: 3\n"},
	} {
		t.Run(tc.script, func(t *testing.T) {
			_, err := compile(t, tc.script, nil)
			require.NoError(t, err)
			out, _ := run(t, tc.script, nil, nil)
			assert.Equal(t, tc.want, out)
		})
	}
}

// 7. interval probes tick; exit() after the third.
//
// exit() ends the run asynchronously (as in bpftrace): a tick may come
// between the exit() and the detach, so the ticks after the third are not
// counted, and the count is exactly 3 however late the detach comes. The
// first tick comes 100 ms after the attach: three take at least 300 ms
// (a lower bound the machine's load cannot break).
func TestE2EIntervalExit(t *testing.T) {
	start := time.Now()
	out, _ := run(t, `interval:ms:100 /@ticks < 3/ { @ticks = count(); if (@ticks == 3) { exit(); } }`, nil, nil)
	assert.Equal(t, "Attaching 1 probe...\n\n\n@ticks: 3\n", out)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "three 100 ms ticks")
}

// 8. END runs after a cancel and after exit(); maps come after END's output.
func TestE2EEndProbe(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		out, _ := run(t, `BEGIN { printf("begin\n"); @m = 1; } END { printf("end\n"); @e = 2; }`, nil, func() {})
		assert.Equal(t, "Attaching 2 probes...\nbegin\nend\n\n\n@e: 2\n@m: 1\n", out)
	})
	t.Run("exit", func(t *testing.T) {
		out, _ := run(t, `END { printf("end %d\n", @m); } BEGIN { printf("begin\n"); @m = 7; exit(); }`, nil, nil)
		assert.Equal(t, "Attaching 2 probes...\nbegin\nend 7\n\n\n@m: 7\n", out)
	})
	t.Run("exit from a tracepoint", func(t *testing.T) {
		out, _ := run(t, sub(t, `tracepoint:syscalls:sys_enter_getppid /pid == PID/ { printf("tp\n"); exit(); } END { printf("end\n"); }`), nil, func() {
			syscall.Getppid()
		})
		assert.Equal(t, "Attaching 2 probes...\ntp\nend\n\n\n", out)
	})
}

// 8b. BEGIN runs before any other probe can fire, as in bpftrace (which
// triggers BEGIN and only then attaches the other probes): probes may rely on
// state BEGIN sets, and BEGIN's output (often a header) comes first. The
// bpf() call that runs BEGIN is itself traced here, so a BEGIN that runs
// after the probes are attached shows up deterministically.
func TestE2EBeginRunsBeforeOtherProbes(t *testing.T) {
	script := sub(t, `
BEGIN { printf("begin\n"); @ready = 1; }
tracepoint:syscalls:sys_enter_bpf /pid == PID/ { printf("bpf ready=%d\n", @ready); }`)
	out, _ := run(t, script, nil, func() {})
	lines := strings.Split(out, "\n")
	require.GreaterOrEqual(t, len(lines), 2, "%q", out)
	require.Equal(t, "Attaching 2 probes...", lines[0])
	require.Equal(t, "begin", lines[1], "BEGIN must run before the other probes attach; output %q", out)
	assert.NotContains(t, out, "ready=0")
}

// 9. Builtins in a tracepoint the test fires itself.
func TestE2EBuiltins(t *testing.T) {
	script := sub(t, `tracepoint:syscalls:sys_enter_getppid /pid == PID/ {
	printf("%d %d %d %d %s\n", pid, tid, uid, gid, comm);
	printf("%llu %d %s %llu\n", nsecs, cpu, probe, elapsed);
}`)
	var tid int
	var before, after int64
	runStart := monotonic()
	out, _ := run(t, script, nil, func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		tid = syscall.Gettid()
		before = monotonic()
		syscall.Getppid()
		syscall.Getppid()
		after = monotonic()
	})
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 1+4+3, "output: %q", out)
	require.Equal(t, "Attaching 1 probe...", lines[0])
	require.Equal(t, []string{"", "", ""}, lines[5:])

	var prevNs uint64
	for i := 0; i < 2; i++ {
		ids := strings.Split(lines[1+2*i], " ")
		require.Len(t, ids, 5, "%q", lines[1+2*i])
		assert.Equal(t, strconv.Itoa(os.Getpid()), ids[0], "pid")
		assert.Equal(t, strconv.Itoa(tid), ids[1], "tid")
		assert.Equal(t, strconv.Itoa(os.Getuid()), ids[2], "uid")
		assert.Equal(t, strconv.Itoa(os.Getgid()), ids[3], "gid")
		assert.Equal(t, comm(t), ids[4], "comm")

		f := strings.Split(lines[2+2*i], " ")
		require.Len(t, f, 4, "%q", lines[2+2*i])
		ns, err := strconv.ParseUint(f[0], 10, 64)
		require.NoError(t, err)
		assert.NotZero(t, ns)
		assert.GreaterOrEqual(t, ns, uint64(before), "nsecs is CLOCK_MONOTONIC")
		assert.LessOrEqual(t, ns, uint64(after), "nsecs is CLOCK_MONOTONIC")
		assert.Greater(t, ns, prevNs, "nsecs increases")
		prevNs = ns
		cpu, err := strconv.Atoi(f[1])
		require.NoError(t, err)
		assert.GreaterOrEqual(t, cpu, 0)
		assert.Less(t, cpu, goruntime.NumCPU())
		assert.Equal(t, "tracepoint:syscalls:sys_enter_getppid", f[2])
		el, err := strconv.ParseUint(f[3], 10, 64)
		require.NoError(t, err)
		assert.NotZero(t, el, "elapsed")
		assert.Less(t, el, uint64(after-runStart), "elapsed counts from gotrace's start")
	}
}

func monotonic() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		panic(err)
	}
	return ts.Nano()
}

// 9b. probe names each attach point of a wildcard and of a probe list.
func TestE2EProbeBuiltinPerAttachPoint(t *testing.T) {
	script := sub(t, `tracepoint:syscalls:sys_enter_getpp*, tracepoint:syscalls:sys_enter_getpgid /pid == PID/ { @[probe] = count(); }`)
	out, _ := run(t, script, nil, func() {
		syscall.Getppid()
		syscall.Getpgid(0)
		syscall.Getpgid(0)
	})
	assert.Equal(t, "Attaching 2 probes...\n\n\n"+
		"@[tracepoint:syscalls:sys_enter_getppid]: 1\n"+
		"@[tracepoint:syscalls:sys_enter_getpgid]: 2\n", out)
}

// 9c. Positional parameters.
func TestE2EPositionalParams(t *testing.T) {
	out, _ := run(t, `BEGIN { printf("%d %d %d\n", $1 + $2, $#, $1 * 2); exit(); }`, []string{"40", "2"}, nil)
	assert.Equal(t, "Attaching 1 probe...\n42 2 80\n\n\n", out)
}

// 11. count() is exact under concurrency: per-CPU counters lose nothing.
func TestE2ECountConcurrent(t *testing.T) {
	const workers, each = 4, 5000
	script := sub(t, `tracepoint:syscalls:sys_enter_getppid /pid == PID/ { @n = count(); @s = sum(2); @k[1] = count(); }`)
	out, _ := run(t, script, nil, func() {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					syscall.Getppid()
				}
			}()
		}
		wg.Wait()
	})
	n := workers * each
	assert.Equal(t, fmt.Sprintf("Attaching 1 probe...\n\n\n@k[1]: %d\n@n: %d\n@s: %d\n", n, n, 2*n), out)
}

// printf events are all delivered, in order, when many arrive quickly.
func TestE2EPrintfManyEventsInOrder(t *testing.T) {
	const n = 2000
	script := sub(t, `tracepoint:syscalls:sys_enter_getpgid /pid == PID/ { printf("%d\n", args->pid); }`)
	out, _ := run(t, script, nil, func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		for i := 1; i <= n; i++ {
			syscall.Getpgid(i + 1_000_000)
		}
	})
	var want strings.Builder
	want.WriteString("Attaching 1 probe...\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&want, "%d\n", i+1_000_000)
	}
	want.WriteString("\n\n")
	assert.Equal(t, want.String(), out)
}
