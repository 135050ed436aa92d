package examples_test

// Tests for the example tools in this directory. Every .gt file must
// compile and pass the kernel's verifier; every tool whose probes this
// kernel can attach also runs end to end here: the test starts it the way
// the command line does, triggers what it traces (spawns a process, opens
// a file, sends a signal...), ends it by cancelling the run as Ctrl-C
// would, and checks what it printed. The tools trace the whole system, and
// other programs run on it at the same time, so the checks look for the
// lines the trigger caused (by PID, process name, path or port) rather
// than comparing the whole output.
//
// The kernel-side tests need root, BPF and tracefs (the development VM of
// shared/ENVIRONMENT.md); they skip elsewhere.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime/tracetest"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// classics are the bpftrace tools every tracing user knows; each has a
// gotrace version here.
var classics = []string{
	"execsnoop", "opensnoop", "statsnoop", "killsnoop", "syscount", "pidpersec",
	"runqlat", "runqlen", "cpuwalk", "loads", "bashreadline", "threadsnoop",
	"naptime", "setuids", "writeback", "bitesize", "biolatency", "vfsstat",
	"vfscount", "tcpconnect", "tcpaccept", "tcplife", "capable", "oomkill",
	"gethostlatency",
}

// kprobeOnly are the tools that need kprobes: they are compiled and
// verified, but this kernel cannot attach them.
var kprobeOnly = map[string]bool{"vfscount": true}

// exampleNames lists the .gt files of this directory, without extension.
func exampleNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.gt")
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(f, ".gt"))
	}
	sort.Strings(names)
	return names
}

func readExample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name + ".gt")
	require.NoError(t, err)
	return string(b)
}

// needsKprobes reports whether the header says the tool needs kprobes.
func needsKprobes(text string) bool {
	return strings.Contains(text, "\n// Needs: kprobes")
}

// compile does what the command line does: parse, check, compile. A tool
// that needs kprobes is compiled as for a kernel that has them, so that the
// kprobe programs themselves are generated and verified.
func compile(name, text string, args []string) (*codegen.Program, error) {
	src := &lang.Source{Name: name + ".gt", Text: text}
	prog, err := lang.Parse(src)
	if err != nil {
		return nil, err
	}
	env := &lang.Env{Target: testtarget.Live(), Args: args}
	if needsKprobes(text) {
		env.Target = testtarget.WithFeatures(testtarget.Live(), map[target.Feature]bool{target.Kprobes: true})
	}
	info, err := lang.Check(prog, src, env)
	if err != nil {
		return nil, err
	}
	return codegen.Compile(info, codegen.Options{})
}

// requireRoot skips as a normal user; as root, BPF must work (testenv).
func requireRoot(t *testing.T) {
	t.Helper()
	testenv.RequireBPF(t)
}

// requireKernel skips as a normal user; as root, BPF and tracefs must be
// there (testenv).
func requireKernel(t *testing.T) {
	t.Helper()
	testenv.RequireTracefs(t)
}

// TestExamplesCompileAndVerify loads every example through the verifier.
func TestExamplesCompileAndVerify(t *testing.T) {
	names := exampleNames(t)
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			// Compiling reads tracefs (tracepoint formats).
			requireKernel(t)
			text := readExample(t, name)
			p, err := compile(name, text, nil)
			skipIfKernelLacks(t, name, err)
			require.NoError(t, err)
			// runtime.Load patches the start time that elapsed reads
			// before loading; do the same, then load the spec as is.
			spec := p.Spec.Copy()
			for _, ps := range spec.Programs {
				for i := range ps.Instructions {
					if ps.Instructions[i].Reference() == codegen.StartTimeVar {
						ps.Instructions[i].Constant = 1
						ps.Instructions[i] = ps.Instructions[i].WithReference("")
					}
				}
			}
			coll, err := ebpf.NewCollection(spec)
			require.NoError(t, err)
			coll.Close()
		})
	}
}

// TestExamplesSet checks the tool set itself: the classics are all there,
// at least five tools bpftrace does not ship, each file starts with its
// documentation (what it shows, what it needs, an example of its output),
// and the README lists every tool.
func TestExamplesSet(t *testing.T) {
	names := exampleNames(t)
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, c := range classics {
		assert.True(t, have[c], "classic tool %s.gt is missing", c)
	}
	extra := 0
	for _, n := range names {
		text := readExample(t, n)
		if strings.Contains(text, "Not in bpftrace's tool set.") {
			extra++
		}
		assert.True(t, strings.HasPrefix(text, "#!/usr/bin/env gotrace\n// "+n+": "), "%s.gt must start with its shebang and a '// %s: ...' line", n, n)
		assert.Contains(t, text, "\n// Needs: ", "%s.gt must say what it needs", n)
		assert.Contains(t, text, "\n// Example output", "%s.gt must show an example of its output", n)
		assert.Equal(t, needsKprobes(text), kprobeOnly[n], "%s.gt: the kprobe-only list and the header disagree", n)
	}
	assert.GreaterOrEqual(t, extra, 5, "tools not in bpftrace's set")

	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, n := range names {
		assert.Contains(t, string(readme), "["+n+".gt]("+n+".gt)", "README.md must list %s.gt", n)
	}
}

// runTimeout bounds one run: a tool that hangs fails instead of blocking
// the suite.
const runTimeout = 30 * time.Second

type runOpts struct {
	args []string
	// edit changes the script before it is compiled: tests shorten the
	// tools' one-second intervals so that several ticks fit in a test.
	edit func(string) string
	// until keeps the run going after the trigger returned until it holds
	// for what the tool printed; untilMaps, until it holds for the maps
	// as they would print now (tracetest.Options). Tests use them for
	// events that come after the trigger: timers, samples, other CPUs.
	until, untilMaps func(string) bool
}

// shortInterval rewrites a tool's interval:s:1 to interval:ms:MS.
func shortInterval(ms int) func(string) string {
	return func(s string) string {
		return strings.ReplaceAll(s, "interval:s:1\n", fmt.Sprintf("interval:ms:%d\n", ms))
	}
}

// run runs the example name end to end: compile, load, attach, BEGIN, then
// trigger, then (once o.until and o.untilMaps hold) a cancel as Ctrl-C
// would do, then END and the maps. It returns what the tool printed.
func run(t *testing.T, name string, o runOpts, trigger func()) string {
	t.Helper()
	requireKernel(t)
	text := readExample(t, name)
	if o.edit != nil {
		edited := o.edit(text)
		require.NotEqual(t, text, edited, "the test's edit of %s.gt changed nothing", name)
		text = edited
	}
	p, err := compile(name, text, o.args)
	skipIfKernelLacks(t, name, err)
	require.NoError(t, err)
	out, _ := tracetest.RunProgram(t, p, trigger, tracetest.Options{Until: o.until, UntilMaps: o.untilMaps, Timeout: runTimeout})
	require.Regexp(t, `^Attaching \d+ probes?\.\.\.\n`, out)
	if t.Failed() || testing.Verbose() {
		t.Logf("%s printed:\n%s", name, out)
	}
	return out
}

// skipIfKernelLacks skips a tool that reads a tracepoint, or a field of a
// tracepoint or kernel struct, that this kernel does not have (the tools
// follow the development kernel: block:block_io_start is 6.5+,
// sched_process_exit's group_dead and cfs_rq.nr_queued are newer than
// Debian's kernels), saying what is missing. Any other error is the test's.
func skipIfKernelLacks(t *testing.T, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, missing := range []string{"tracepoint not found: ", " has no field '"} {
		if strings.Contains(msg, missing) {
			first, _, _ := strings.Cut(msg, "\n")
			t.Skipf("%s reads what this kernel does not have: %s", name, first)
		}
	}
}

// comm is the kernel's name for this process.
func comm(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/comm")
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// lineRE is a regular expression matching one whole output line.
func lineRE(format string, a ...any) *regexp.Regexp {
	return regexp.MustCompile("(?m)^" + fmt.Sprintf(format, a...) + "$")
}

// q formats like fmt.Sprintf and quotes the result for a regular
// expression: fixed-width columns are padded before they are quoted.
func q(format string, a ...any) string {
	return regexp.QuoteMeta(fmt.Sprintf(format, a...))
}

// requireLine fails unless some line of out matches re, and returns the
// submatches of the first that does.
func requireLine(t *testing.T, out string, re *regexp.Regexp) []string {
	t.Helper()
	m := re.FindStringSubmatch(out)
	require.NotNil(t, m, "no line matches %s in:\n%s", re, out)
	return m
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

var histRow = regexp.MustCompile(`^(\S.*?)\s+(\d+) \|[@ ]*\|$`)

// hist returns the rows of the histogram printed under header (such as
// "@usecs: "), label to count, in order.
func hist(t *testing.T, out, header string) ([]string, map[string]int) {
	t.Helper()
	i := strings.Index(out, "\n"+header+"\n")
	require.GreaterOrEqual(t, i, 0, "no histogram %q in:\n%s", header, out)
	var labels []string
	rows := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out[i+len(header)+2:]))
	for sc.Scan() {
		m := histRow.FindStringSubmatch(sc.Text())
		if m == nil {
			break
		}
		labels = append(labels, m[1])
		rows[m[1]] = atoi(t, m[2])
	}
	require.NotEmpty(t, rows, "histogram %q has no rows in:\n%s", header, out)
	return labels, rows
}

func total(rows map[string]int) int {
	n := 0
	for _, c := range rows {
		n += c
	}
	return n
}

// histText formats rows the way bpftrace does, to compare exactly.
func histText(header string, labels []string, counts []int) string {
	max := 0
	for _, c := range counts {
		if c > max {
			max = c
		}
	}
	var b strings.Builder
	b.WriteString(header + "\n")
	for i, l := range labels {
		n := 0
		if max > 0 {
			n = counts[i] * 52 / max
		}
		fmt.Fprintf(&b, "%-16s%8d |%s%s|\n", l, counts[i], strings.Repeat("@", n), strings.Repeat(" ", 52-n))
	}
	return b.String()
}

// mapValues returns the values of every line "PREFIX<int>" (such as
// "@syscall[110]: ").
func mapValues(t *testing.T, out, prefix string) []int {
	t.Helper()
	var vals []int
	for _, m := range lineRE(`%s(-?\d+)`, regexp.QuoteMeta(prefix)).FindAllStringSubmatch(out, -1) {
		vals = append(vals, atoi(t, m[1]))
	}
	return vals
}

// mapValuesOf is mapValues for a condition: it never fails the test.
func mapValuesOf(out, prefix string) []int {
	var vals []int
	for _, m := range lineRE(`%s(-?\d+)`, regexp.QuoteMeta(prefix)).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		vals = append(vals, n)
	}
	return vals
}

func sum(vals []int) int {
	n := 0
	for _, v := range vals {
		n += v
	}
	return n
}

// start starts a command and makes sure it is gone when the test ends.
func start(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// waitFor polls cond until it holds, and fails the test when it has not
// within 10 s. It waits for an event, not for a time.
func waitFor(t *testing.T, cond func() bool, what string, args ...any) {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("still waiting, after 10 s, for "+what, args...)
		}
	}
}

// waitComm waits until process pid is named comm (it has executed).
func waitComm(t *testing.T, pid int, comm string) {
	t.Helper()
	waitFor(t, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		return strings.TrimSpace(string(b)) == comm
	}, "process %d to become %s", pid, comm)
}

// procState is the state letter of process (or thread) path
// (/proc/PID or /proc/self/task/TID): R, S, T...
func procState(path string) string {
	b, _ := os.ReadFile(path + "/stat")
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+3 <= len(s) {
		return s[i+2 : i+3]
	}
	return ""
}

// inSyscall reports whether thread path (/proc/self/task/TID) is blocked
// in system call nr.
func inSyscall(path string, nr int) bool {
	b, _ := os.ReadFile(path + "/syscall")
	f := strings.Fields(string(b))
	return len(f) > 0 && f[0] == strconv.Itoa(nr)
}

// histRows reads the rows of the histogram printed under header (such as
// "@usecs: "), label to count; nil when there is none yet.
func histRows(out, header string) map[string]int {
	i := strings.Index("\n"+out, "\n"+header+"\n")
	if i < 0 {
		return nil
	}
	rows := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out[i+len(header)+1:]))
	for sc.Scan() {
		m := histRow.FindStringSubmatch(sc.Text())
		if m == nil {
			break
		}
		rows[m[1]], _ = strconv.Atoi(m[2])
	}
	return rows
}

// repeat calls f in a loop on its own goroutine until the test's run is
// over (the returned stop, or the end of the test): a workload for tools
// that print per interval, whose counts must reach a total however the
// ticks fall.
func repeat(t *testing.T, f func()) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !done.Load() {
			f()
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { done.Store(true); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// spin starts n busy loops, pinned to CPU cpu when cpu >= 0, and returns a
// function that stops them.
func spin(t *testing.T, n, cpu int) func() {
	t.Helper()
	var cmds []*exec.Cmd
	for i := 0; i < n; i++ {
		cmd := start(t, "/bin/sh", "-c", "while :; do :; done")
		if cpu >= 0 {
			var set unix.CPUSet
			set.Set(cpu)
			require.NoError(t, unix.SchedSetaffinity(cmd.Process.Pid, &set))
		}
		cmds = append(cmds, cmd)
	}
	return func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
}

// onThread runs f on one locked OS thread, so that tid-keyed state and
// per-thread credentials behave.
func onThread(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		f()
	}()
	<-done
}

func nanosleep(d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	unix.Nanosleep(&ts, nil)
}

// directFile makes a file of size bytes on a disk-backed file system and
// returns it opened with O_DIRECT, with a page-aligned buffer for reads.
// It skips the test where the temporary directory cannot do direct I/O
// (tmpfs).
func directFile(t *testing.T, size int) (int, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "direct")
	data := bytes.Repeat([]byte("gotrace!"), size/8)
	f, err := os.Create(path)
	require.NoError(t, err)
	_, err = f.Write(data)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		t.Skipf("direct I/O is not possible in %s: %v", filepath.Dir(path), err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	buf, err := unix.Mmap(-1, 0, 1<<20, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	require.NoError(t, err)
	t.Cleanup(func() { unix.Munmap(buf) })
	return fd, buf
}

// directReads reads 4 KiB three times and 64 KiB twice, bypassing the
// page cache: five block requests, from this process.
func directReads(t *testing.T, fd int, buf []byte) {
	for _, r := range []struct{ off, n int }{{0, 4096}, {16384, 4096}, {32768, 4096}, {65536, 65536}, {196608, 65536}} {
		n, err := unix.Pread(fd, buf[:r.n], int64(r.off))
		require.NoError(t, err)
		require.Equal(t, r.n, n)
	}
}

// --- The tools, one test each. ---

func TestExecsnoop(t *testing.T) {
	// echo under a path of its own: the conformance test tp_exec
	// (package runtime, run in parallel) traces every exec of /bin/echo.
	dir, err := os.MkdirTemp("", "gt")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	echo := filepath.Join(dir, "echo")
	require.NoError(t, os.Symlink("/bin/echo", echo))
	var pid int
	out := run(t, "execsnoop", runOpts{}, func() {
		cmd := exec.Command(echo, "gotrace", "examples", "execsnoop")
		require.NoError(t, cmd.Run())
		pid = cmd.Process.Pid
		require.Error(t, exec.Command("/nonexistent/gotrace-example", "--flag").Run())
	})
	assert.True(t, strings.HasPrefix(out, "Attaching 3 probes...\nTIME(ms)   PID   ARGS\n"), out)
	requireLine(t, out, lineRE(`\d+ +%s`, q("%-5d %s gotrace examples execsnoop", pid, echo)))
	requireLine(t, out, lineRE(`\d+ +\d+ +%s`, q("/nonexistent/gotrace-example --flag")))
}

func TestOpensnoop(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "opened")
	missing := filepath.Join(dir, "missing")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	var fd uintptr
	out := run(t, "opensnoop", runOpts{}, func() {
		f, err := os.Open(path)
		require.NoError(t, err)
		fd = f.Fd()
		f.Close()
		_, err = os.Open(missing)
		require.Error(t, err)
	})
	requireLine(t, out, lineRE("%s", q("%-6d %-16s %4d %3d %s", os.Getpid(), comm(t), fd, 0, path)))
	requireLine(t, out, lineRE("%s", q("%-6d %-16s %4d %3d %s", os.Getpid(), comm(t), -1, 2, missing)))
}

func TestStatsnoop(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "statted")
	missing := filepath.Join(dir, "missing")
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	out := run(t, "statsnoop", runOpts{}, func() {
		_, err := os.Stat(path)
		require.NoError(t, err)
		_, err = os.Lstat(missing)
		require.Error(t, err)
	})
	requireLine(t, out, lineRE("%s", q("%-6d %-16s %3d %s", os.Getpid(), comm(t), 0, path)))
	requireLine(t, out, lineRE("%s", q("%-6d %-16s %3d %s", os.Getpid(), comm(t), 2, missing)))
}

func TestKillsnoop(t *testing.T) {
	const nosuch = 99999999
	var child int
	out := run(t, "killsnoop", runOpts{}, func() {
		cmd := start(t, "sleep", "10")
		child = cmd.Process.Pid
		require.NoError(t, syscall.Kill(child, syscall.SIGTERM))
		cmd.Wait()
		require.Equal(t, syscall.ESRCH, syscall.Kill(nosuch, 0))
	})
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d  %s`, q("%-6d %-16s %-4d %-6d %d", os.Getpid(), comm(t), 15, child, 0)))
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d  %s`, q("%-6d %-16s %-4d %-6d %d", os.Getpid(), comm(t), 0, nosuch, -3)))
}

func TestSyscount(t *testing.T) {
	const n = 20000
	out := run(t, "syscount", runOpts{}, func() {
		for i := 0; i < n; i++ {
			syscall.Getppid()
		}
	})
	require.Contains(t, out, "Counting syscalls... Hit Ctrl-C to end.\n\nTop 10 syscalls IDs:\n@syscall[")
	ids := out[strings.Index(out, "Top 10 syscalls IDs:"):strings.Index(out, "Top 10 processes:")]
	procs := out[strings.Index(out, "Top 10 processes:"):]
	assert.LessOrEqual(t, strings.Count(ids, "\n@syscall["), 10)
	assert.LessOrEqual(t, strings.Count(procs, "\n@process["), 10)
	v := mapValues(t, ids, fmt.Sprintf("@syscall[%d]: ", unix.SYS_GETPPID))
	require.Len(t, v, 1, out)
	assert.GreaterOrEqual(t, v[0], n)
	v = mapValues(t, procs, "@process["+comm(t)+"]: ")
	require.Len(t, v, 1, out)
	assert.GreaterOrEqual(t, v[0], n)
}

// tickSum adds up the "@: N" of every "PIDs/sec" tick printed so far, and
// counts the ticks.
func tickSum(out string) (sum, ticks int) {
	for _, m := range lineRE(`\d\d:\d\d:\d\d PIDs/sec: @: (\d+)`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[1])
		sum += n
		ticks++
	}
	return sum, ticks
}

func TestPidpersec(t *testing.T) {
	const n = 20
	// print(@) then zero(@) is not atomic (in bpftrace either): forks
	// counted between the two are lost. So the workload forks until the
	// ticks have counted n, over two ticks at least.
	var stop func()
	out := run(t, "pidpersec", runOpts{edit: shortInterval(100), until: func(out string) bool {
		sum, ticks := tickSum(out)
		return sum >= n && ticks >= 2
	}}, func() {
		stop = repeat(t, func() { assert.NoError(t, exec.Command("/bin/true").Run()) })
	})
	stop()
	sum, ticks := tickSum(out)
	assert.GreaterOrEqual(t, ticks, 2, out)
	assert.GreaterOrEqual(t, sum, n)
}

func TestRunqlat(t *testing.T) {
	out := run(t, "runqlat", runOpts{}, func() {
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				onThread(func() {
					for i := 0; i < 20; i++ {
						nanosleep(time.Millisecond)
					}
				})
			}()
		}
		wg.Wait()
	})
	_, rows := hist(t, out, "@usecs: ")
	assert.GreaterOrEqual(t, total(rows), 80, "at least one wakeup per sleep")
}

// waiting counts the samples of a run-queue histogram with tasks waiting.
func waiting(rows map[string]int) int {
	n := 0
	for l, c := range rows {
		if l != "[0, 1)" {
			n += c
		}
	}
	return n
}

func TestRunqlen(t *testing.T) {
	// Three busy loops on CPU 0: two always wait. The run goes on until
	// a sample of CPU 0 has seen them.
	var stop func()
	out := run(t, "runqlen", runOpts{untilMaps: func(maps string) bool {
		return waiting(histRows(maps, "@runqlen: ")) >= 1
	}}, func() { stop = spin(t, 3, 0) })
	stop()
	_, rows := hist(t, out, "@runqlen: ")
	assert.GreaterOrEqual(t, waiting(rows), 1, "samples of CPU 0 with tasks waiting")
}

func TestCpuwalk(t *testing.T) {
	cpu := 0
	if goruntime.NumCPU() > 1 {
		cpu = 1
	}
	busy := fmt.Sprintf("[%d, %d)", cpu, cpu+1)
	// A busy loop on cpu; the run goes on until a sample of it came.
	var stop func()
	out := run(t, "cpuwalk", runOpts{untilMaps: func(maps string) bool {
		return histRows(maps, "@cpu: ")[busy] >= 1
	}}, func() { stop = spin(t, 1, cpu) })
	stop()
	_, rows := hist(t, out, "@cpu: ")
	assert.GreaterOrEqual(t, rows[busy], 1, "samples of the busy CPU")
	for l := range rows {
		assert.Regexp(t, `^\[\d+, \d+\)$`, l)
	}
}

var loadsTick = lineRE(`\d\d:\d\d:\d\d load averages: (\d+)\.(\d{3}) (\d+)\.(\d{3}) (\d+)\.(\d{3}) \((\d+) now\)`)

// loadsSeen reads the ticks of loads: how many, the most tasks one counted,
// and the last tick's 1- and 15-minute averages in thousandths.
func loadsSeen(out string) (ticks, most, load1, load15 int) {
	all := loadsTick.FindAllStringSubmatch(out, -1)
	for _, m := range all {
		n, _ := strconv.Atoi(m[7])
		most = max(most, n)
	}
	if len(all) > 0 {
		last := all[len(all)-1]
		milli := func(i, f string) int {
			a, _ := strconv.Atoi(i)
			b, _ := strconv.Atoi(f)
			return a*1000 + b
		}
		load1, load15 = milli(last[1], last[2]), milli(last[5], last[6])
	}
	return len(all), most, load1, load15
}

func TestLoads(t *testing.T) {
	// Three busy loops, until a tick has counted them and the 1-minute
	// average has risen.
	var stop func()
	out := run(t, "loads", runOpts{edit: shortInterval(100), until: func(out string) bool {
		ticks, most, load1, _ := loadsSeen(out)
		return ticks >= 2 && most >= 3 && load1 > 0
	}}, func() { stop = spin(t, 3, -1) })
	stop()
	ticks, most, load1, load15 := loadsSeen(out)
	require.GreaterOrEqual(t, ticks, 2, out)
	assert.GreaterOrEqual(t, most, 3, "the three busy loops are runnable")
	assert.Greater(t, load1, 0)
	// From zero, the 1-minute average is above the 15-minute one for the
	// first 179 ticks whatever the load: 34*(2014/2048)^k >= 2*(2046/2048)^k.
	if ticks < 179 {
		assert.GreaterOrEqual(t, load1, load15, "from zero, the 1-minute average climbs fastest")
	}
}

func TestBashreadline(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) to give bash a terminal")
	}
	if _, err := os.Stat("/bin/bash"); err != nil {
		t.Skip("needs /bin/bash")
	}
	out := run(t, "bashreadline", runOpts{}, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, script, "-qc", "/bin/bash --norc --noprofile -i", "/dev/null")
		cmd.Stdin = strings.NewReader("echo gotrace-examples-readline\nexit\n")
		cmd.Stdout = io.Discard
		require.NoError(t, cmd.Run())
	})
	m := requireLine(t, out, lineRE(`\d\d:\d\d:\d\d  (\d+) +echo gotrace-examples-readline`))
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d  %s +exit`, m[1]))
}

func TestThreadsnoop(t *testing.T) {
	var cmd *exec.Cmd
	switch {
	case exec.Command("perl", "-Mthreads", "-e", "1").Run() == nil:
		cmd = exec.Command("perl", "-Mthreads", "-e", "threads->create(sub {})->join")
	case exec.Command("python3", "-c", "import threading").Run() == nil:
		cmd = exec.Command("python3", "-c", "import threading; t = threading.Thread(target=print); t.start(); t.join()")
	default:
		t.Skip("needs perl with threads or python3 to create a thread")
	}
	out := run(t, "threadsnoop", runOpts{}, func() {
		cmd.Stdout = io.Discard
		require.NoError(t, cmd.Run())
	})
	requireLine(t, out, lineRE(`\d+ +%-6d \S+ +\S+`, cmd.Process.Pid))
}

func TestNaptime(t *testing.T) {
	var pid int
	out := run(t, "naptime", runOpts{}, func() {
		cmd := exec.Command("sleep", "0.15")
		require.NoError(t, cmd.Run())
		pid = cmd.Process.Pid
	})
	parent := q("%-6d %-16s %-6d %-16s", os.Getpid(), comm(t), pid, "sleep")
	m := requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s (\d+)\.(\d{3})`, parent))
	ms := atoi(t, m[1])*1000 + atoi(t, m[2])
	assert.GreaterOrEqual(t, ms, 150)
	assert.Less(t, ms, 150000, "milliseconds, not microseconds")
	assert.NotRegexp(t, `(?m) 0\.0\d\d$`, out, "naps under 100 ms are left out")
}

func TestSetuids(t *testing.T) {
	out := run(t, "setuids", runOpts{}, func() {
		// On this thread only (raw syscalls, not Go's all-threads
		// setuid), and to the identity root already has: nothing
		// changes, but each call is made and checked.
		onThread(func() {
			_, _, e := unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0)
			require.Zero(t, e)
			unix.RawSyscall(unix.SYS_SETFSUID, 0, 0, 0)
			none := ^uintptr(0)
			_, _, e = unix.RawSyscall(unix.SYS_SETRESUID, none, none, none)
			require.Zero(t, e)
		})
	})
	head := q("%-6d %-16s %-6d ", os.Getpid(), comm(t), 0)
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s%s`, head, q("setuid    uid=0 (0)")))
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s%s`, head, q("setfsuid  uid=0 (prevuid=0)")))
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s%s`, head, q("setresuid ruid=-1 euid=-1 suid=-1 (0)")))
}

func TestWriteback(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dirty")
	out := run(t, "writeback", runOpts{}, func() {
		f, err := os.Create(path)
		require.NoError(t, err)
		defer f.Close()
		_, err = f.Write(bytes.Repeat([]byte("w"), 4<<20))
		require.NoError(t, err)
		require.NoError(t, unix.Syncfs(int(f.Fd())))
	})
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d  \S+ +\d+ +sync +\d+\.\d{3}`))
}

func TestBitesize(t *testing.T) {
	fd, buf := directFile(t, 256<<10)
	out := run(t, "bitesize", runOpts{}, func() { directReads(t, fd, buf) })
	header := "@[" + comm(t) + "]: "
	want := histText(header, []string{"[4K, 8K)", "[8K, 16K)", "[16K, 32K)", "[32K, 64K)", "[64K, 128K)"}, []int{3, 0, 0, 0, 2})
	assert.Contains(t, out, "\n"+want+"\n")
	assert.Contains(t, out, "\nI/O size (bytes) histograms by process name:")
}

func TestBiolatency(t *testing.T) {
	fd, buf := directFile(t, 256<<10)
	// Ten direct reads, each waited for: at least ten block requests,
	// each started and completed (the block layer never merges requests
	// of reads that wait for each other). A request completes, and wakes
	// the reader, before the block_io_done tracepoint fires: the run
	// waits for the ten completions in the map.
	const reads = 10
	out := run(t, "biolatency", runOpts{untilMaps: func(maps string) bool {
		return total(histRows(maps, "@usecs: ")) >= reads
	}}, func() {
		directReads(t, fd, buf)
		directReads(t, fd, buf)
	})
	_, rows := hist(t, out, "@usecs: ")
	assert.GreaterOrEqual(t, total(rows), reads, "completions of the direct reads")
}

func TestVfsstat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vfs")
	require.NoError(t, os.WriteFile(path, []byte("0123456789"), 0o644))
	name, err := unix.BytePtrFromString(path + ".new")
	require.NoError(t, err)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	// One round: 30 reads, 5 writes, an fsync, an open and a creat(2)
	// (Go's Creat is an openat).
	round := func() {
		b := make([]byte, 1)
		for i := 0; i < 30; i++ {
			_, err := f.ReadAt(b, 0)
			assert.NoError(t, err)
		}
		for i := 0; i < 5; i++ {
			_, err := f.WriteAt(b, 0)
			assert.NoError(t, err)
		}
		assert.NoError(t, f.Sync())
		g, err := os.Open(path)
		if assert.NoError(t, err) {
			g.Close()
		}
		nfd, _, e := unix.Syscall(unix.SYS_CREAT, uintptr(unsafe.Pointer(name)), 0o644, 0)
		assert.Zero(t, e)
		unix.Close(int(nfd))
	}
	want := map[string]int{"read": 300, "write": 50, "fsync": 10, "open": 10, "create": 10}
	enough := func(out string) bool {
		for k, n := range want {
			if sum(mapValuesOf(out, "@["+k+"]: ")) < n {
				return false
			}
		}
		return len(lineRE(`\d\d:\d\d:\d\d`).FindAllString(out, -1)) >= 2
	}
	// print(@) then clear(@) is not atomic (in bpftrace either): calls
	// counted between the two are lost. So the rounds go on until the
	// ticks have counted ten rounds' worth, over two ticks at least.
	var stop func()
	out := run(t, "vfsstat", runOpts{edit: shortInterval(100), until: enough}, func() { stop = repeat(t, round) })
	stop()
	require.GreaterOrEqual(t, len(lineRE(`\d\d:\d\d:\d\d`).FindAllString(out, -1)), 2, out)
	for k, n := range want {
		assert.GreaterOrEqual(t, sum(mapValues(t, out, "@["+k+"]: ")), n, k)
	}
}

// listen opens a TCP listener on the loopback address.
func listen(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, port := listen(t)
	ln.Close()
	return port
}

func TestTcpconnect(t *testing.T) {
	ln, port := listen(t)
	refused := closedPort(t)
	refused6 := 0
	if ln6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		refused6 = ln6.Addr().(*net.TCPAddr).Port
		ln6.Close()
	}
	var lport int
	out := run(t, "tcpconnect", runOpts{}, func() {
		c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err)
		lport = c.LocalAddr().(*net.TCPAddr).Port
		s, err := ln.Accept()
		require.NoError(t, err)
		s.Close()
		c.Close()
		_, err = net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", refused))
		require.Error(t, err)
		if refused6 != 0 {
			_, err = net.Dial("tcp6", fmt.Sprintf("[::1]:%d", refused6))
			require.Error(t, err)
		}
	})
	const lo, lo6 = "127.0.0.1", "0000:0000:0000:0000:0000:0000:0000:0001"
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s +\d+ connected`,
		q("%-8d %-16s %-39s %-6d %-39s %-6d", os.Getpid(), comm(t), lo, lport, lo, port)))
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s\d+ +%s +\d+ failed`,
		q("%-8d %-16s %-39s ", os.Getpid(), comm(t), lo), q("%-39s %-6d", lo, refused)))
	if refused6 != 0 {
		requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s\d+ +%s +\d+ failed`,
			q("%-8d %-16s %-39s ", os.Getpid(), comm(t), lo6), q("%-39s %-6d", lo6, refused6)))
	}
}

func TestTcpaccept(t *testing.T) {
	ln, port := listen(t)
	var fd int
	out := run(t, "tcpaccept", runOpts{}, func() {
		c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err)
		defer c.Close()
		s, err := ln.Accept()
		require.NoError(t, err)
		defer s.Close()
		raw, err := s.(*net.TCPConn).SyscallConn()
		require.NoError(t, err)
		raw.Control(func(f uintptr) { fd = int(f) })
	})
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d %s`, q("%-7d %-16s %d", os.Getpid(), comm(t), fd)))
	requireLine(t, out, lineRE(`@established\[%d\]: 1`, port))
}

func TestTcplife(t *testing.T) {
	ln, port := listen(t)
	var cport int
	const lo = "127.0.0.1"
	lines := func() []*regexp.Regexp {
		return []*regexp.Regexp{
			lineRE(`%s +\d+`, q("%-7d %-16s %-15s %-6d %-15s %-6d %8d %8d", os.Getpid(), comm(t), lo, cport, lo, port, 3000, 500)),
			lineRE(`%s +\d+`, q("%-7d %-16s %-15s %-6d %-15s %-6d %8d %8d", os.Getpid(), comm(t), lo, port, lo, cport, 500, 3000)),
		}
	}
	// The last state changes (TIME_WAIT, CLOSE) happen as the loopback
	// packets are processed, after close() returned: the run waits for
	// both lines.
	out := run(t, "tcplife", runOpts{until: func(out string) bool {
		for _, re := range lines() {
			if !re.MatchString(out) {
				return false
			}
		}
		return true
	}}, func() {
		c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		require.NoError(t, err)
		cport = c.LocalAddr().(*net.TCPAddr).Port
		s, err := ln.Accept()
		require.NoError(t, err)
		_, err = c.Write(bytes.Repeat([]byte("q"), 3000))
		require.NoError(t, err)
		_, err = io.ReadFull(s, make([]byte, 3000))
		require.NoError(t, err)
		_, err = s.Write(bytes.Repeat([]byte("r"), 500))
		require.NoError(t, err)
		_, err = io.ReadFull(c, make([]byte, 500))
		require.NoError(t, err)
		require.NoError(t, c.Close())
		_, err = s.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF)
		require.NoError(t, s.Close())
	})
	for _, re := range lines() {
		requireLine(t, out, re)
	}
}

func TestCapable(t *testing.T) {
	out := run(t, "capable", runOpts{}, func() {
		onThread(func() {
			// setuid() checks CAP_SETUID first; root to root changes
			// nothing.
			_, _, e := unix.RawSyscall(unix.SYS_SETUID, 0, 0, 0)
			require.Zero(t, e)
		})
	})
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d  %s`, q("%-6d %-6d %-16s %-4d %-22s %d", 0, os.Getpid(), comm(t), 7, "CAP_SETUID", 0)))
}

// memoryCgroup creates a memory cgroup limited to limit bytes and returns
// the file a process writes its PID to in order to join it. It skips where
// there is no memory controller to use.
func memoryCgroup(t *testing.T, limit int) string {
	t.Helper()
	name := fmt.Sprintf("gotrace-examples-oom-%d", os.Getpid())
	write := func(path, value string) {
		require.NoError(t, os.WriteFile(path, []byte(value), 0o644), path)
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		dir := filepath.Join("/sys/fs/cgroup/memory", name) // cgroup v1
		require.NoError(t, os.Mkdir(dir, 0o755))
		t.Cleanup(func() { os.Remove(dir) })
		write(filepath.Join(dir, "memory.limit_in_bytes"), strconv.Itoa(limit))
		if _, err := os.Stat(filepath.Join(dir, "memory.memsw.limit_in_bytes")); err == nil {
			write(filepath.Join(dir, "memory.memsw.limit_in_bytes"), strconv.Itoa(limit))
		}
		return filepath.Join(dir, "cgroup.procs")
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control"); err == nil && strings.Contains(string(b), "memory") {
		dir := filepath.Join("/sys/fs/cgroup", name) // cgroup v2
		require.NoError(t, os.Mkdir(dir, 0o755))
		t.Cleanup(func() { os.Remove(dir) })
		write(filepath.Join(dir, "memory.max"), strconv.Itoa(limit))
		write(filepath.Join(dir, "memory.swap.max"), "0")
		return filepath.Join(dir, "cgroup.procs")
	}
	t.Skip("no memory cgroup controller to confine an out-of-memory process")
	return ""
}

func TestOomkill(t *testing.T) {
	requireKernel(t) // before making the cgroup, which is root's too
	procs := memoryCgroup(t, 32<<20)
	var victim int
	out := run(t, "oomkill", runOpts{}, func() {
		// tail keeps the longest line it has seen: on /dev/zero, all
		// of it, until the cgroup's OOM killer ends it.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", `echo $$ > "$1" && exec tail /dev/zero`, "sh", procs)
		err := cmd.Run()
		victim = cmd.Process.Pid
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal(), "tail must die of the OOM killer")
	})
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d Triggered by PID \d+ \("tail"\), OOM kill of PID %d \("tail"\), uid 0, `+
		`total-vm \d+ kB, anon-rss \d+ kB, file-rss \d+ kB, shmem-rss \d+ kB, `+
		`loadavg: \d+\.\d\d \d+\.\d\d \d+\.\d\d \d+/\d+ \d+`, victim))
}

func TestGethostlatency(t *testing.T) {
	if _, err := os.Stat("/lib/x86_64-linux-gnu/libc.so.6"); err != nil {
		t.Skip("the tool attaches to /lib/x86_64-linux-gnu/libc.so.6")
	}
	getent, err := exec.LookPath("getent")
	if err != nil {
		t.Skip("needs getent to resolve a name through the C library")
	}
	var pid int
	out := run(t, "gethostlatency", runOpts{}, func() {
		cmd := exec.Command(getent, "ahosts", "localhost")
		cmd.Stdout = io.Discard
		require.NoError(t, cmd.Run())
		pid = cmd.Process.Pid
	})
	requireLine(t, out, lineRE(`\d\d:\d\d:\d\d  %-6d %-16s +\d+ localhost`, pid, "getent"))
}

func TestSyslatency(t *testing.T) {
	out := run(t, "syslatency", runOpts{args: []string{strconv.Itoa(os.Getpid())}}, func() {
		onThread(func() {
			for i := 0; i < 5; i++ {
				nanosleep(3 * time.Millisecond)
			}
		})
	})
	labels, rows := hist(t, out, "@usecs["+comm(t)+"]: ")
	slow := 0
	for _, l := range labels {
		if strings.HasPrefix(l, "[2K,") || strings.HasPrefix(l, "[4K,") || strings.HasPrefix(l, "[8K,") {
			slow += rows[l]
		}
	}
	assert.GreaterOrEqual(t, slow, 5, "five 3 ms sleeps")
	assert.NotRegexp(t, `(?m)^@usecs\[`, strings.ReplaceAll(out, "@usecs["+comm(t)+"]", ""), "only this process is traced")
}

func TestRwbytes(t *testing.T) {
	// dd under a name of its own: other tests (other packages, run in
	// parallel) run dd too.
	dir := t.TempDir()
	dd := filepath.Join(dir, "ddrwbytes")
	ddPath, err := exec.LookPath("dd")
	require.NoError(t, err)
	require.NoError(t, os.Symlink(ddPath, dd))
	path := filepath.Join(dir, "out")
	out := run(t, "rwbytes", runOpts{}, func() {
		require.NoError(t, exec.Command(dd, "if=/dev/zero", "of="+path, "bs=12345", "count=3", "status=none").Run())
	})
	requireLine(t, out, lineRE(`@write_bytes\[ddrwbytes\]: %d`, 3*12345))
	v := mapValues(t, out, "@read_bytes[ddrwbytes]: ")
	require.Len(t, v, 1, out)
	assert.GreaterOrEqual(t, v[0], 3*12345)
}

func TestSlowopen(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o600))
	out := run(t, "slowopen", runOpts{args: []string{"20"}}, func() {
		opened := make(chan error, 1)
		tid := make(chan int, 1)
		go func() {
			goruntime.LockOSThread()
			defer goruntime.UnlockOSThread()
			tid <- unix.Gettid()
			// Blocks until a writer opens the FIFO.
			f, err := os.OpenFile(fifo, os.O_RDONLY, 0)
			if err == nil {
				f.Close()
			}
			opened <- err
		}()
		// Wait until the reader is blocked in openat, then keep it
		// there for 60 ms: the length of the slow open is the workload
		// (the tool reports opens over 20 ms), not a synchronisation.
		task := fmt.Sprintf("/proc/self/task/%d", <-tid)
		waitFor(t, func() bool { return inSyscall(task, unix.SYS_OPENAT) && procState(task) == "S" }, "the FIFO reader to block in openat")
		<-time.After(60 * time.Millisecond)
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		require.NoError(t, err)
		require.NoError(t, <-opened)
		w.Close()
	})
	require.Contains(t, out, "Tracing open() calls slower than 20 ms... Hit Ctrl-C to end.\n")
	m := lineRE(`\d+ +%s +(\d+) +(\d+) %s`, q("%-6d %-16s", os.Getpid(), comm(t)), regexp.QuoteMeta(fifo)).FindAllStringSubmatch(out, -1)
	require.Len(t, m, 1, "only the reader's open waited:\n%s", out)
	assert.GreaterOrEqual(t, atoi(t, m[0][1]), 50)
}

func TestProclife(t *testing.T) {
	var sh int
	out := run(t, "proclife", runOpts{}, func() {
		cmd := exec.Command("/bin/sh", "-c", "/bin/sleep 0.1; exit 0")
		require.NoError(t, cmd.Run())
		sh = cmd.Process.Pid
	})
	m := requireLine(t, out, lineRE(`\d+ +%-7d \d+ +sleep +(\d+) /bin/sleep`, sh))
	assert.GreaterOrEqual(t, atoi(t, m[1]), 100)
	m = requireLine(t, out, lineRE(`\d+ +%-7d %-7d \S+ +(\d+) /bin/sh`, os.Getpid(), sh))
	assert.GreaterOrEqual(t, atoi(t, m[1]), 100)
}

func TestOffcpu(t *testing.T) {
	out := run(t, "offcpu", runOpts{}, func() {
		require.NoError(t, exec.Command("sleep", "0.2").Run())
	})
	v := mapValues(t, out, "@offcpu_us[sleep]: ")
	require.Len(t, v, 1, out)
	assert.GreaterOrEqual(t, v[0], 190000)
}

func TestSiglatency(t *testing.T) {
	var term, stop int
	line := `\d+ +%-6d %-16s %-4d +\d+`
	lines := func() []*regexp.Regexp {
		return []*regexp.Regexp{lineRE(line, term, "sleep", 15), lineRE(line, stop, "sleep", 19), lineRE(line, stop, "sleep", 9)}
	}
	out := run(t, "siglatency", runOpts{until: func(out string) bool {
		for _, re := range lines() {
			if !re.MatchString(out) {
				return false
			}
		}
		return true
	}}, func() {
		a := start(t, "sleep", "10")
		b := start(t, "sleep", "10")
		term, stop = a.Process.Pid, b.Process.Pid
		waitComm(t, term, "sleep")
		waitComm(t, stop, "sleep")
		require.NoError(t, syscall.Kill(term, syscall.SIGTERM))
		a.Wait()
		require.NoError(t, syscall.Kill(stop, syscall.SIGSTOP))
		// SIGSTOP is delivered once the process has stopped.
		proc := fmt.Sprintf("/proc/%d", stop)
		waitFor(t, func() bool { return procState(proc) == "T" }, "process %d to stop", stop)
		require.NoError(t, syscall.Kill(stop, syscall.SIGKILL))
		b.Wait()
	})
	for _, re := range lines() {
		requireLine(t, out, re)
	}
	hist(t, out, "@usecs[15]: ")
}

func TestPagefaults(t *testing.T) {
	const pages = 2048
	out := run(t, "pagefaults", runOpts{}, func() {
		size := pages * os.Getpagesize()
		mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
		require.NoError(t, err)
		defer unix.Munmap(mem)
		unix.Madvise(mem, unix.MADV_NOHUGEPAGE)
		for i := 0; i < size; i += os.Getpagesize() {
			mem[i] = 1
		}
	})
	v := mapValues(t, out, fmt.Sprintf("@faults[%d, %s]: ", os.Getpid(), comm(t)))
	require.Len(t, v, 1, out)
	assert.GreaterOrEqual(t, v[0], pages)
}

// vfscount needs kprobes: it runs where the kernel has them (the 6.1
// kernel of the kernel matrix) and skips only where the kernel is built
// without CONFIG_KPROBES (testenv's rule).
func TestVfscount(t *testing.T) {
	requireKernel(t)
	testenv.SkipUnlessConfig(t, "kprobes", "CONFIG_KPROBES", kernel.HaveKprobes())
	path := filepath.Join(t.TempDir(), "vfs")
	require.NoError(t, os.WriteFile(path, []byte("gotrace"), 0o644))
	const n = 5
	out := run(t, "vfscount", runOpts{}, func() {
		for i := 0; i < n; i++ {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, "gotrace", string(b))
		}
	})
	v := mapValues(t, out, "@[vfs_read]: ")
	require.Len(t, v, 1, out)
	assert.GreaterOrEqual(t, v[0], n, "a vfs_read per file read")
}

func TestErrnos(t *testing.T) {
	const n = 17
	out := run(t, "errnos", runOpts{}, func() {
		for i := 0; i < n; i++ {
			_, err := unix.Getpgid(99999999)
			require.Equal(t, unix.ESRCH, err)
		}
	})
	requireLine(t, out, lineRE(`@errors\[%s, %d, %d\]: %d`, regexp.QuoteMeta(comm(t)), unix.SYS_GETPGID, unix.ESRCH, n))
}
