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

// objSampler polls a process's descriptors while a run goes on and keeps
// every BPF object it ever saw there, so that even a run that fails half
// way (attach errors) can be checked afterwards.
type objSampler struct {
	mu   sync.Mutex
	seen map[bpfObj]bool
	stop chan struct{}
	done chan struct{}
}

func sampleBPF(pid string, before map[string]bpfObj) *objSampler {
	s := &objSampler{seen: map[bpfObj]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			s.add(pid, before)
			select {
			case <-s.stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return s
}

func (s *objSampler) add(pid string, before map[string]bpfObj) {
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

func (s *objSampler) finish() []bpfObj {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]bpfObj, 0, len(s.seen))
	for o := range s.seen {
		out = append(out, o)
	}
	return out
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		var left []bpfObj
		for _, o := range objs {
			if exists(o) {
				left = append(left, o)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("BPF objects left in the kernel after the run: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
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
// is left behind.
func runInProcess(t *testing.T, script string, during func()) cleanRun {
	t.Helper()
	return runInProcessUntil(t, script, during, nil)
}

// runInProcessUntil is runInProcess for a run that ends when done closes
// (the -c command or the -p process exited).
func runInProcessUntil(t *testing.T, script string, during func(), ended <-chan struct{}) cleanRun {
	t.Helper()
	requireKernel(t)
	p := compileScript(t, script)
	before := heldBPF("self")
	sampler := sampleBPF("self", before)

	var out, errOut bytes.Buffer
	var r cleanRun
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := runtime.Options{
		Out:    output.NewText(&out),
		Stderr: &errOut,
		Done:   ended,
		Started: func() {
			r.started = true
			r.held = len(heldBPF("self")) - len(before)
			if during != nil {
				during()
				cancel()
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
	r.objs = sampler.finish()
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
	r := runInProcess(t, script, func() {
		syscall.Getppid()
		syscall.Getpid()
		time.Sleep(50 * time.Millisecond)
	})
	require.NoError(t, r.err, r.stderr)
	assert.Contains(t, r.stdout, "@t: ")
	assert.Contains(t, r.stdout, "@e: 1")
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
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				syscall.Getppid()
			}
		}
	}()
	r := runInProcess(t, script, nil)
	require.NoError(t, r.err, r.stderr)
	require.True(t, r.started)
	assert.Contains(t, r.stdout, "\n@n: ")
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
	r := runInProcess(t, script, func() { t.Error("Started called although a probe could not attach") })
	require.Error(t, r.err)
	msg := r.err.Error()
	assert.Contains(t, msg, "cannot attach rawtracepoint:gotrace_no_such_event")
	assert.NotContains(t, msg, "goroutine")
	assert.False(t, r.started)
	// Probes attach in script order, so the four before the raw
	// tracepoint were attached when it failed. (Their links are closed
	// all at once, too quickly for the sampler to be sure to see them.)
	k := kinds(r.objs)
	assert.GreaterOrEqual(t, k["prog"], 4, "programs seen: %v", r.objs)
}

// A kprobe (this kernel has none) is refused before anything is loaded.
func TestCleanupAttachErrorKprobe(t *testing.T) {
	r := runInProcess(t, `BEGIN { @b = 1; } tracepoint:syscalls:sys_enter_getppid { @t = count(); } kprobe:vfs_read { @k = count(); }`,
		func() { t.Error("Started called although a probe could not attach") })
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
			sampler := sampleBPF(pid, nil)

			// Wait until the child attached its three probes.
			deadline := time.Now().Add(15 * time.Second)
			for {
				links := 0
				for _, o := range heldBPF(pid) {
					if o.kind == "link" {
						links++
					}
				}
				if links >= 1+2 { // tracepoint, interval, profile on >= 1 CPU
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the child did not attach; stdout %q stderr %q", out.String(), errOut.String())
				}
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond) // let interval fire
			require.NoError(t, cmd.Process.Signal(sig))
			var err error
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				t.Fatalf("the child did not exit within 15s of %v; stdout %q stderr %q", sig, out.String(), errOut.String())
			}
			objs := sampler.finish()
			require.NoError(t, err, "exit status after %v; stderr %q", sig, errOut.String())
			stdout, stderr := out.String(), errOut.String()
			assert.True(t, strings.HasPrefix(stdout, "Attaching 5 probes...\n"), "%q", stdout)
			assert.Contains(t, stdout, "\n\n\n@b: 1\n@e: 1\n@i: ", "maps printed at exit")
			assert.Empty(t, stderr)
			k := kinds(objs)
			assert.GreaterOrEqual(t, k["prog"], 5, "%v", objs)
			assert.GreaterOrEqual(t, k["link"], 3, "%v", objs)
			requireGone(t, objs)
		})
	}
}

// ---- Load ----

// loadDuration is how long the load tests keep both CPUs busy.
const loadDuration = 4 * time.Second

// hammer runs fn in a tight loop on one locked OS thread per CPU (at least
// two) for d and returns each thread's iteration count.
func hammer(d time.Duration, fn func(worker int, i uint64)) []uint64 {
	workers := max(goruntime.NumCPU(), 2)
	counts := make([]uint64, workers)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goruntime.LockOSThread()
			defer goruntime.UnlockOSThread()
			var n uint64
			for !stop.Load() {
				fn(w, n)
				n++
			}
			counts[w] = n
		}()
	}
	time.Sleep(d)
	stop.Store(true)
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
	r := runInProcess(t, script, func() {
		counts = hammer(loadDuration, func(int, uint64) { syscall.Getppid() })
	})
	require.NoError(t, r.err, r.stderr)
	var total uint64
	for _, c := range counts {
		total += c
	}
	t.Logf("%d getppid calls in %v (%v per thread)", total, loadDuration, counts)
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
				counts = hammer(loadDuration, func(w int, i uint64) {
					syscall.Getpgid(int(i)*workers + w + workers)
				})
				cancel()
			},
		})
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(loadDuration + 30*time.Second):
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
	sleep := exec.Command("/bin/sleep", "0.3")
	require.NoError(t, sleep.Start())
	defer sleep.Wait()
	exited, stop, err := runtime.WatchProcess(sleep.Process.Pid)
	require.NoError(t, err)
	defer stop()
	r := runInProcessUntil(t, `tracepoint:syscalls:sys_enter_getppid { @t = count(); } interval:ms:10 { @i = count(); }`, nil, exited)
	require.NoError(t, r.err, r.stderr)
	require.True(t, r.started)
	assert.Contains(t, r.stdout, "@i: ")
}

// The end of the -c command ends the run, and nothing is left behind.
func TestCleanupCommandExits(t *testing.T) {
	cmd, err := runtime.StartCommand([]string{"/bin/sleep", "0.2"}, nil, io.Discard, io.Discard)
	require.NoError(t, err)
	defer cmd.Stop()
	r := runInProcessUntil(t, `tracepoint:syscalls:sys_enter_nanosleep { @n = count(); } tracepoint:syscalls:sys_enter_clock_nanosleep { @c = count(); }`,
		func() { cmd.Release() }, cmd.Done())
	require.NoError(t, r.err, r.stderr)
	require.True(t, r.started)
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
