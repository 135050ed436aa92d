package runtime_test

// Clean exits and load. However a run ends — context cancel, exit(),
// SIGINT, SIGTERM, SIGHUP, an attach error — every BPF program, map, link
// and perf event it created must be gone afterwards. In process this is
// checked on /proc/self/fd (no anon_inode:bpf-* or perf_event descriptor
// left over) and by kernel id (every program, map and link id seen during
// the run no longer exists). Signals are sent to a child process, this test
// binary re-run as TestCleanupHelperProcess, which calls runtime.Run with
// Signals set exactly as the command line does; there the ids come from the
// child's /proc/PID/fdinfo while it runs and are looked up after it exited
// (with bpftool when it is installed).
//
// The load tests run a tight syscall loop on both CPUs and check count()
// exactly and printf delivered+lost against the loop's own count. They are
// skipped with -short.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// bpfObj is one BPF object (or perf event) a process holds a descriptor to.
type bpfObj struct {
	kind string // "prog", "map", "link" or "perf"
	id   uint32 // kernel id (0 for perf events)
}

func (o bpfObj) String() string { return fmt.Sprintf("%s %d", o.kind, o.id) }

// heldBPF lists the BPF and perf event descriptors process pid ("self" or a
// number) holds, by descriptor number.
func heldBPF(pid string) map[string]bpfObj {
	dir := "/proc/" + pid + "/fd"
	ents, _ := os.ReadDir(dir)
	out := map[string]bpfObj{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var o bpfObj
		idField := ""
		switch target {
		case "anon_inode:bpf-prog":
			o.kind, idField = "prog", "prog_id:"
		case "anon_inode:bpf-map":
			o.kind, idField = "map", "map_id:"
		case "anon_inode:bpf_link":
			o.kind, idField = "link", "link_id:"
		case "anon_inode:[perf_event]":
			o.kind = "perf"
		default:
			continue
		}
		if idField != "" {
			info, _ := os.ReadFile("/proc/" + pid + "/fdinfo/" + e.Name())
			for _, line := range strings.Split(string(info), "\n") {
				if v, ok := strings.CutPrefix(line, idField); ok {
					n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
					o.id = uint32(n)
				}
			}
		}
		out[e.Name()] = o
	}
	return out
}

// objSet keeps every BPF object a process was seen holding at the moments
// a test chose (the program loaded, the probes attached), so that even a run
// that fails half way (attach errors) can be checked afterwards.
type objSet struct {
	mu   sync.Mutex
	seen map[bpfObj]bool
}

func newObjSet() *objSet { return &objSet{seen: map[bpfObj]bool{}} }

// add records what pid holds now and did not hold in before.
func (s *objSet) add(pid string, before map[string]bpfObj) {
	now := heldBPF(pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	for fd, o := range now {
		if b, ok := before[fd]; ok && b == o {
			continue
		}
		if o.id != 0 {
			s.seen[o] = true
		}
	}
}

func (s *objSet) list() []bpfObj {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]bpfObj, 0, len(s.seen))
	for o := range s.seen {
		out = append(out, o)
	}
	return out
}

// waitFor polls cond until it holds, and fails the test with what when it
// has not by the deadline. It waits for an event, not for a time: the
// interval only bounds how soon the event is noticed.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool, what string, args ...any) {
	t.Helper()
	if !eventually(timeout, cond) {
		t.Fatalf("after %v, still waiting for "+what, append([]any{timeout}, args...)...)
	}
}

// eventually polls cond until it holds or timeout passed, and reports
// whether it held.
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

// mapSum adds up every value (every key, every CPU) of the 8-byte map
// named name ("@i" is AT_i) of a loaded program.
func mapSum(t testing.TB, m *ebpf.Map) uint64 {
	t.Helper()
	var sum uint64
	it := m.Iterate()
	var key []byte
	if m.Type() == ebpf.PerCPUHash || m.Type() == ebpf.PerCPUArray {
		var vals []uint64
		for it.Next(&key, &vals) {
			for _, v := range vals {
				sum += v
			}
		}
	} else {
		var v uint64
		for it.Next(&key, &v) {
			sum += v
		}
	}
	require.NoError(t, it.Err())
	return sum
}

// waitCount waits until the count() map named kernel (AT_i) of l counted
// at least one event.
func waitCount(t testing.TB, l *runtime.Loaded, kernel string) {
	t.Helper()
	m := l.Coll.Maps[kernel]
	require.NotNil(t, m, "no map %s", kernel)
	waitFor(t, 15*time.Second, func() bool { return mapSum(t, m) > 0 }, "map %s to count an event", kernel)
}

// exists reports whether the kernel still has the object.
func exists(o bpfObj) bool {
	var err error
	switch o.kind {
	case "prog":
		var p *ebpf.Program
		if p, err = ebpf.NewProgramFromID(ebpf.ProgramID(o.id)); err == nil {
			p.Close()
		}
	case "map":
		var m *ebpf.Map
		if m, err = ebpf.NewMapFromID(ebpf.MapID(o.id)); err == nil {
			m.Close()
		}
	case "link":
		var l link.Link
		if l, err = link.NewFromID(link.ID(o.id)); err == nil {
			l.Close()
		}
	default:
		return false
	}
	return err == nil || !errors.Is(err, os.ErrNotExist)
}

// bpftoolIDs returns the ids bpftool lists for kind (prog, map, link), or
// nil when bpftool is not installed.
func bpftoolIDs(t *testing.T, kind string) map[uint32]string {
	path, err := exec.LookPath("bpftool")
	if err != nil {
		return nil
	}
	out, err := exec.Command(path, "-j", kind, "show").Output()
	require.NoError(t, err, "bpftool -j %s show", kind)
	var list []struct {
		ID   uint32 `json:"id"`
		Name string `json:"name"`
	}
	require.NoError(t, json.Unmarshal(out, &list), "bpftool output: %s", out)
	ids := map[uint32]string{}
	for _, e := range list {
		ids[e.ID] = e.Name
	}
	return ids
}

// requireGone waits (the kernel frees some objects a moment after their last
// descriptor closes) until none of objs exists any more.
func requireGone(t *testing.T, objs []bpfObj) {
	t.Helper()
	var left []bpfObj
	if !eventually(5*time.Second, func() bool {
		left = left[:0]
		for _, o := range objs {
			if exists(o) {
				left = append(left, o)
			}
		}
		return len(left) == 0
	}) {
		t.Fatalf("BPF objects left in the kernel after the run: %v", left)
	}
	// The same, as bpftool sees it.
	for _, kind := range []string{"prog", "map", "link"} {
		ids := bpftoolIDs(t, kind)
		for _, o := range objs {
			if o.kind != kind {
				continue
			}
			if name, ok := ids[o.id]; ok {
				t.Errorf("bpftool %s show still lists id %d (%s)", kind, o.id, name)
			}
		}
	}
}

// requireNoNewFds checks this process holds no BPF or perf descriptor it
// did not hold before.
func requireNoNewFds(t *testing.T, before map[string]bpfObj) {
	t.Helper()
	var extra []string
	for fd, o := range heldBPF("self") {
		if b, ok := before[fd]; !ok || b != o {
			extra = append(extra, fd+": "+o.String())
		}
	}
	require.Empty(t, extra, "descriptors left open after the run")
}

func compileScript(t *testing.T, script string) *codegen.Program {
	t.Helper()
	src := &lang.Source{Name: "stdin", Text: script}
	prog, err := lang.Parse(src)
	require.NoError(t, err, script)
	info, err := lang.Check(prog, src, &lang.Env{Target: testtarget.Live()})
	require.NoError(t, err, script)
	p, err := codegen.Compile(info, codegen.Options{})
	require.NoError(t, err, script)
	return p
}

// cleanRun is the outcome of runInProcess.
type cleanRun struct {
	stdout, stderr string
	err            error
	started        bool
	objs           []bpfObj // BPF objects seen during the run
	held           int      // descriptors held once attached (0 if never started)
}

// runInProcess runs script in this process until it ends by itself or
// during() returns (then the context is cancelled), and checks that nothing
// is left behind. during gets the loaded program, to wait on its maps.
func runInProcess(t *testing.T, script string, during func(*runtime.Loaded)) cleanRun {
	t.Helper()
	return runInProcessUntil(t, script, during, nil)
}

// runInProcessUntil is runInProcess for a run that ends when ended closes
// (the -c command or the -p process exited); then during does not cancel
// it.
func runInProcessUntil(t *testing.T, script string, during func(*runtime.Loaded), ended <-chan struct{}) cleanRun {
	t.Helper()
	requireKernel(t)
	p := compileScript(t, script)
	before := heldBPF("self")
	objs := newObjSet()

	var out, errOut bytes.Buffer
	var r cleanRun
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var loaded *runtime.Loaded
	opts := runtime.Options{
		Out:    output.NewText(&out),
		Stderr: &errOut,
		Done:   ended,
		// Every program and map exists once loaded, before anything
		// attaches (or fails to); links and perf events once Started.
		Watch: func(l *runtime.Loaded) {
			loaded = l
			objs.add("self", before)
		},
		Started: func() {
			r.started = true
			objs.add("self", before)
			r.held = len(heldBPF("self")) - len(before)
			if during != nil {
				during(loaded)
				if ended == nil {
					cancel()
				}
			}
		},
	}
	done := make(chan error, 1)
	go func() { done <- runtime.Run(ctx, p, opts) }()
	select {
	case r.err = <-done:
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("the run did not end within 20s: %s", script)
	}
	r.objs = objs.list()
	r.stdout, r.stderr = out.String(), errOut.String()
	requireNoNewFds(t, before)
	requireGone(t, r.objs)
	return r
}

func kinds(objs []bpfObj) map[string]int {
	n := map[string]int{}
	for _, o := range objs {
		n[o.kind]++
	}
	return n
}

// A run cancelled through its context (the way the tests and Main's callers
// end runs): every probe type that attaches here, then nothing left.
func TestCleanupContextCancel(t *testing.T) {
	libc := "/lib/x86_64-linux-gnu/libc.so.6"
	uprobe := ""
	if _, err := os.Stat(libc); err == nil {
		uprobe = "uprobe:" + libc + ":getpid { @u = count(); }\n"
	}
	script := `BEGIN { @b = 1; }
tracepoint:syscalls:sys_enter_getppid { @t = count(); }
rawtracepoint:sys_enter { @r = count(); }
interval:ms:10 { @i = count(); }
profile:hz:97 { @p = count(); }
` + uprobe + `END { @e = 1; }`
	r := runInProcess(t, script, func(l *runtime.Loaded) {
		syscall.Getppid()
		syscall.Getpid()
		// The timers fire on their own: wait for them to have.
		waitCount(t, l, "AT_i")
		waitCount(t, l, "AT_p")
	})
	require.NoError(t, r.err, r.stderr)
	// Every probe but the uprobe (Go's getpid does not go through libc)
	// fired: the counts are not zero.
	for _, m := range []string{"t", "r", "i", "p"} {
		assert.Regexp(t, `\n@`+m+`: [1-9]\d*\n`, r.stdout)
	}
	assert.Contains(t, r.stdout, "\n@b: 1\n")
	assert.Contains(t, r.stdout, "\n@e: 1\n")
	k := kinds(r.objs)
	assert.GreaterOrEqual(t, k["prog"], 6, "programs seen: %v", r.objs)
	assert.GreaterOrEqual(t, k["map"], 3, "maps seen: %v", r.objs)
	assert.GreaterOrEqual(t, k["link"], 4, "links seen: %v", r.objs)
	assert.Greater(t, r.held, 0)
}

// exit() from a probe ends the run by itself: the probe is fired from here
// until the run is over, and the run is never cancelled.
func TestCleanupExit(t *testing.T) {
	script := sub(t, `tracepoint:syscalls:sys_enter_getppid /pid == PID/ { @n = count(); exit(); }
interval:ms:5 { @i = count(); }`)
	var stop atomic.Bool
	defer stop.Store(true)
	go func() {
		for !stop.Load() {
			syscall.Getppid()
			goruntime.Gosched()
		}
	}()
	r := runInProcess(t, script, nil)
	require.NoError(t, r.err, r.stderr)
	require.True(t, r.started)
	// exit() ends the run, but calls already in the probe count too.
	assert.Regexp(t, `\n@n: [1-9]\d*\n`, r.stdout)
}

// exit() in BEGIN ends the run before anything else is attached.
func TestCleanupExitInBegin(t *testing.T) {
	r := runInProcess(t, `BEGIN { @x = 1; exit(); } tracepoint:syscalls:sys_enter_getppid { @n = count(); }`, nil)
	require.NoError(t, r.err, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "Attaching 2 probes...\n\n\n"), "%q", r.stdout)
	assert.True(t, strings.HasSuffix(r.stdout, "\n@x: 1\n"), "%q", r.stdout)
}

// A probe that cannot attach after others did (a raw tracepoint the kernel
// does not have: the checker cannot know, attaching finds out): the error is
// clear, and what was attached and loaded is gone.
func TestCleanupAttachErrorLate(t *testing.T) {
	script := `BEGIN { @b = 1; }
tracepoint:syscalls:sys_enter_getppid { @t = count(); }
interval:ms:10 { @i = count(); }
profile:hz:97 { @p = count(); }
rawtracepoint:gotrace_no_such_event { @r = count(); }`
	r := runInProcess(t, script, func(*runtime.Loaded) { t.Error("Started called although a probe could not attach") })
	require.Error(t, r.err)
	msg := r.err.Error()
	assert.Contains(t, msg, "cannot attach rawtracepoint:gotrace_no_such_event")
	assert.NotContains(t, msg, "goroutine")
	assert.False(t, r.started)
	// Every program was loaded before the attach failed (and is gone,
	// runInProcess checked).
	k := kinds(r.objs)
	assert.Equal(t, 5, k["prog"], "programs seen: %v", r.objs)
}

// A kprobe (this kernel has none) is refused before anything is loaded.
func TestCleanupAttachErrorKprobe(t *testing.T) {
	r := runInProcess(t, `BEGIN { @b = 1; } tracepoint:syscalls:sys_enter_getppid { @t = count(); } kprobe:vfs_read { @k = count(); }`,
		func(*runtime.Loaded) { t.Error("Started called although a probe could not attach") })
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "cannot attach kprobe:vfs_read")
	assert.Empty(t, r.stdout)
}

// ---- Signals, through a child process ----

const helperEnv = "GOTRACE_CLEANUP_HELPER_SCRIPT"

// TestCleanupHelperProcess is not a test: it is the child the signal tests
// start. It runs the script in $GOTRACE_CLEANUP_HELPER_SCRIPT the way the
// command line does and exits with the command line's status.
func TestCleanupHelperProcess(t *testing.T) {
	script := os.Getenv(helperEnv)
	if script == "" {
		t.Skip("helper process for the signal tests")
	}
	status := 0
	defer func() { os.Exit(status) }()
	src := &lang.Source{Name: "stdin", Text: script}
	prog, err := lang.Parse(src)
	if err == nil {
		var info *lang.Info
		if info, err = lang.Check(prog, src, &lang.Env{Target: testtarget.Live()}); err == nil {
			var p *codegen.Program
			if p, err = codegen.Compile(info, codegen.Options{}); err == nil {
				out := output.NewText(os.Stdout)
				err = runtime.Run(context.Background(), p, runtime.Options{Out: out, Stderr: os.Stderr, Signals: true})
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ERROR:", err)
		status = 1
	}
}

// lockedBuffer is written by a child's output copier and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestCleanupSignals(t *testing.T) {
	requireKernel(t)
	script := `BEGIN { @b = 1; }
tracepoint:syscalls:sys_enter_getppid { @t = count(); }
interval:ms:10 { @i = count(); }
profile:hz:97 { @p = count(); }
END { @e = 1; }`
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCleanupHelperProcess$")
			cmd.Env = append(os.Environ(), helperEnv+"="+script)
			var out, errOut lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					<-done
				}
			}()
			pid := strconv.Itoa(cmd.Process.Pid)

			// Wait until the child attached its three probes (one
			// profile link per CPU), then take what it holds.
			waitFor(t, 15*time.Second, func() bool {
				return heldKinds(pid)["link"] >= 2+len(onlineCPUs(t))
			}, "the child to attach; stdout %q stderr %q", &out, &errOut)
			objs := newObjSet()
			objs.add(pid, nil)
			// The interval fires on its own: wait until its count, read
			// from the child's map, is not zero.
			interval := childMap(t, pid, "AT_i")
			waitFor(t, 15*time.Second, func() bool { return mapSum(t, interval) > 0 }, "the child's interval probe to fire")
			interval.Close()
			require.NoError(t, cmd.Process.Signal(sig))
			var err error
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				t.Fatalf("the child did not exit within 15s of %v; stdout %q stderr %q", sig, out.String(), errOut.String())
			}
			require.NoError(t, err, "exit status after %v; stderr %q", sig, errOut.String())
			stdout, stderr := out.String(), errOut.String()
			assert.True(t, strings.HasPrefix(stdout, "Attaching 5 probes...\n"), "%q", stdout)
			assert.Regexp(t, `\n\n\n@b: 1\n@e: 1\n@i: [1-9]\d*\n`, stdout, "maps printed at exit, the interval's count not zero")
			assert.Empty(t, stderr)
			list := objs.list()
			k := kinds(list)
			assert.Equal(t, 5, k["prog"], "%v", list)
			assert.GreaterOrEqual(t, k["link"], 3, "%v", list)
			requireGone(t, list)
		})
	}
}

// onlineCPUs lists the online CPUs.
func onlineCPUs(t testing.TB) []int {
	t.Helper()
	cpus, err := kernel.OnlineCPUs()
	require.NoError(t, err)
	return cpus
}

// childMap opens the map named name (AT_i) that process pid holds.
func childMap(t testing.TB, pid, name string) *ebpf.Map {
	t.Helper()
	for _, o := range heldBPF(pid) {
		if o.kind != "map" {
			continue
		}
		m, err := ebpf.NewMapFromID(ebpf.MapID(o.id))
		if err != nil {
			continue
		}
		if info, err := m.Info(); err == nil && info.Name == name {
			return m
		}
		m.Close()
	}
	t.Fatalf("process %s holds no map %s", pid, name)
	return nil
}

// ---- Load ----

// loadCalls is how many system calls each load-test thread makes: a
// fixed workload, so that the expected counts are exact.
const loadCalls = 400_000

// hammer runs fn loadCalls times in a tight loop on one locked OS thread
// per CPU (at least two) and returns each thread's iteration count.
func hammer(fn func(worker int, i uint64)) []uint64 {
	workers := max(goruntime.NumCPU(), 2)
	counts := make([]uint64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goruntime.LockOSThread()
			defer goruntime.UnlockOSThread()
			var n uint64
			for ; n < loadCalls; n++ {
				fn(w, n)
			}
			counts[w] = n
		}()
	}
	wg.Wait()
	return counts
}

// count() under a tracepoint that fires as fast as two CPUs can make it:
// the total is exact.
func TestLoadCountExact(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: several seconds of tight syscall loops")
	}
	script := sub(t, `tracepoint:syscalls:sys_enter_getppid /pid == PID/ { @n = count(); @s = sum(3); }`)
	var counts []uint64
	r := runInProcess(t, script, func(*runtime.Loaded) {
		counts = hammer(func(int, uint64) { syscall.Getppid() })
	})
	require.NoError(t, r.err, r.stderr)
	var total uint64
	for _, c := range counts {
		total += c
	}
	t.Logf("%d getppid calls (%v per thread)", total, counts)
	assert.Equal(t, fmt.Sprintf("Attaching 1 probe...\n\n\n@n: %d\n@s: %d\n", total, 3*total), r.stdout)
}

// lineCounter takes printf output as it comes: it counts the per-event
// lines of each worker, checks they arrive in order, and picks up
// "Lost N events".
type lineCounter struct {
	mu      sync.Mutex
	partial []byte
	last    []int64 // last value seen per worker
	lines   uint64
	lost    uint64
	lostSet bool
	other   []string
	order   []string
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		c.line(string(c.partial[:i]))
		c.partial = c.partial[i+1:]
	}
	return len(p), nil
}

func (c *lineCounter) line(s string) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		w := int(v % int64(len(c.last)))
		if v <= c.last[w] && len(c.order) < 5 {
			c.order = append(c.order, fmt.Sprintf("worker %d: %d after %d", w, v, c.last[w]))
		}
		c.last[w] = v
		c.lines++
		return
	}
	if n, ok := strings.CutPrefix(s, "Lost "); ok {
		if n, ok = strings.CutSuffix(n, " events"); ok {
			if v, err := strconv.ParseUint(n, 10, 64); err == nil {
				c.lost += v
				c.lostSet = true
				return
			}
		}
	}
	if s != "" && s != "Attaching 1 probe..." && len(c.other) < 5 {
		c.other = append(c.other, s)
	}
}

// printf per event under the same load: every event is either printed or
// counted in "Lost N events", so that printed + lost == fired.
func TestLoadPrintfDeliveredPlusLost(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: several seconds of tight syscall loops")
	}
	requireKernel(t)
	workers := max(goruntime.NumCPU(), 2)
	// Each worker calls getpgid(v) with v = i*workers + worker + workers,
	// so a line tells which worker fired it and where in its sequence.
	p := compileScript(t, sub(t, `tracepoint:syscalls:sys_enter_getpgid /pid == PID/ { printf("%d\n", args->pid); }`))
	before := heldBPF("self")
	lc := &lineCounter{last: make([]int64, workers)}
	var counts []uint64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runtime.Run(ctx, p, runtime.Options{
			Out:    output.NewText(lc),
			Stderr: &errOut,
			Started: func() {
				counts = hammer(func(w int, i uint64) {
					syscall.Getpgid(int(i)*workers + w + workers)
				})
				cancel()
			},
		})
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("the run did not end")
	}
	require.NoError(t, err, errOut.String())
	requireNoNewFds(t, before)

	var total uint64
	for _, c := range counts {
		total += c
	}
	lc.mu.Lock()
	defer lc.mu.Unlock()
	t.Logf("%d events fired, %d printed, %d reported lost", total, lc.lines, lc.lost)
	assert.Empty(t, lc.other, "unexpected output lines")
	assert.Empty(t, lc.order, "events of one thread out of order")
	assert.Equal(t, total, lc.lines+lc.lost, "printed + lost must equal fired (printed %d, lost %d, fired %d)", lc.lines, lc.lost, total)
	if lc.lines < total {
		assert.True(t, lc.lostSet, "events went missing without a Lost N events line")
	}
}

// The end of the -p process ends the run, and nothing is left behind.
func TestCleanupTracedProcessExits(t *testing.T) {
	// cat runs until the test closes its standard input.
	cat := exec.Command("cat")
	in, err := cat.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cat.Start())
	defer cat.Wait()
	defer in.Close()
	exited, stop, err := runtime.WatchProcess(cat.Process.Pid)
	require.NoError(t, err)
	defer stop()
	r := runInProcessUntil(t, `tracepoint:syscalls:sys_enter_getppid { @t = count(); } interval:ms:10 { @i = count(); }`, func(l *runtime.Loaded) {
		waitCount(t, l, "AT_i")
		in.Close()
	}, exited)
	require.NoError(t, r.err, r.stderr)
	require.True(t, r.started)
	assert.Regexp(t, `\n@i: [1-9]\d*\n`, r.stdout)
}

// The end of the -c command ends the run, and nothing is left behind.
func TestCleanupCommandExits(t *testing.T) {
	cmd, err := runtime.StartCommand([]string{"/bin/sleep", "0"}, nil, io.Discard, io.Discard)
	require.NoError(t, err)
	defer cmd.Stop()
	r := runInProcessUntil(t, fmt.Sprintf(`tracepoint:syscalls:sys_enter_nanosleep /pid == %d/ { @n = count(); }
tracepoint:syscalls:sys_enter_clock_nanosleep /pid == %d/ { @c = count(); }`, cmd.Pid(), cmd.Pid()),
		func(*runtime.Loaded) { cmd.Release() }, cmd.Done())
	require.NoError(t, r.err, r.stderr)
	require.True(t, r.started)
	// The command ran under the probes: its one sleep was counted.
	assert.Regexp(t, `\n@c: 1\n|\n@n: 1\n`, r.stdout)
}

// attachForDetach loads and attaches two tracepoints and a timer, and
// returns a function counting the first tracepoint's events.
func attachForDetach(t *testing.T) (*runtime.Loaded, *runtime.Attached, func() uint64) {
	p := compileScript(t, `tracepoint:syscalls:sys_enter_getppid { @a = count(); }
tracepoint:syscalls:sys_enter_getpgid { @b = count(); }
interval:ms:50 { @i = count(); }`)
	l, err := runtime.Load(p, runtime.LoadOptions{})
	require.NoError(t, err)
	a, err := runtime.Attach(l, runtime.AttachOptions{})
	require.NoError(t, err)
	count := func() (n uint64) {
		var key uint64
		var vals []uint64
		if err := l.Coll.Maps["AT_a"].Lookup(&key, &vals); err == nil {
			for _, v := range vals {
				n += v
			}
		}
		return n
	}
	return l, a, count
}

// requireNotCounting checks that no program counts getppid calls any more.
func requireNotCounting(t *testing.T, count func() uint64) {
	t.Helper()
	was := count()
	for i := 0; i < 100; i++ {
		unix.Getppid()
	}
	require.Equal(t, was, count(), "a detached program counted getppid calls")
}

// Without a releaser, Detach leaves no link and no program running, only
// the perf events (tracepoints and timer), which Release closes.
func TestDetachThenRelease(t *testing.T) {
	requireKernel(t)
	before := heldBPF("self")
	l, a, count := attachForDetach(t)
	defer l.Close()
	attached := kinds(newObjs(before))
	require.Equal(t, 3, attached["link"], "one link per probe")
	require.Equal(t, 3, attached["perf"], "one perf event per probe")

	a.Detach(nil)
	held := kinds(newObjs(before))
	require.Zero(t, held["link"], "no link after Detach")
	require.Equal(t, 3, held["perf"], "the perf events stay open until Release")
	requireNotCounting(t, count)

	a.Release()
	l.Close()
	requireNoNewFds(t, before)
}

// With a releaser (this test binary, started as one: internal/releaser
// serves it from its init), Detach
// returns once no program runs, holding nothing itself: the releaser has
// the perf events, and exits when told gotrace is done.
func TestDetachWithReleaser(t *testing.T) {
	requireKernel(t)
	before := heldBPF("self")
	l, a, count := attachForDetach(t)
	defer l.Close()
	r := runtime.NewReleaser()
	require.NoError(t, r.Start())
	proc, err := os.FindProcess(r.Pid())
	require.NoError(t, err)

	a.Detach(r)
	requireNotCounting(t, count)
	held := kinds(newObjs(before))
	require.Zero(t, held["link"], "no link left in gotrace")
	require.Zero(t, held["perf"], "no perf event left in gotrace")
	require.Eventually(t, func() bool {
		return heldKinds(strconv.Itoa(r.Pid()))["perf"] == 3
	}, 5*time.Second, time.Millisecond, "the releaser holds the three perf events")
	require.Zero(t, heldKinds(strconv.Itoa(r.Pid()))["prog"], "the releaser holds no program")

	a.Release()
	l.Close()
	requireNoNewFds(t, before)
	require.NoError(t, r.Close())
	exited := make(chan error, 1)
	go func() { _, err := proc.Wait(); exited <- err }()
	select {
	case err := <-exited:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		proc.Kill()
		t.Fatal("the releaser did not exit once told gotrace was done")
	}
}

// newObjs is what this process holds now that it did not hold before.
func newObjs(before map[string]bpfObj) []bpfObj {
	var out []bpfObj
	for fd, o := range heldBPF("self") {
		if b, ok := before[fd]; !ok || b != o {
			out = append(out, o)
		}
	}
	return out
}

// heldKinds counts the BPF objects and perf events process pid holds.
func heldKinds(pid string) map[string]int {
	n := map[string]int{}
	for _, o := range heldBPF(pid) {
		n[o.kind]++
	}
	return n
}

// The kernel gets each instruction's script text as BTF line info only
// when asked (-v): it costs start-up, and gotrace maps verifier errors
// from its own notes.
func TestLoadLineInfoOnlyWhenAsked(t *testing.T) {
	requireKernel(t)
	p := compileScript(t, `tracepoint:syscalls:sys_enter_getppid { @a = count(); }`)
	for _, want := range []bool{false, true} {
		l, err := runtime.Load(p, runtime.LoadOptions{LineInfo: want})
		require.NoError(t, err)
		info, err := l.Coll.Programs[p.Probes[0].Name].Info()
		require.NoError(t, err)
		lines, _ := info.LineInfos()
		if want {
			require.NotEmpty(t, lines, "line info asked for")
			require.Contains(t, lines[0].Line.Line(), "@a = count()")
		} else {
			require.Empty(t, lines, "line info not asked for")
		}
		l.Close()
	}
}
