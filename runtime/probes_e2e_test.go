package runtime_test

// End-to-end tests of every probe type this kernel can attach: uprobes and
// uretprobes on a program the test builds with gcc (testdata/probes), by
// path, library name, +offset, address and wildcard, limited to one process;
// tracepoint wildcards; raw tracepoints; profile, software and interval
// probes on every CPU. Probe types the kernel cannot attach (kprobes,
// fentry, hardware events) are compiled, loaded through the verifier and
// must fail with one sentence naming what is missing.

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
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
	"testing"
	"time"

	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
	"github.com/gotrace/gotrace/runtime/tracetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// targetName is the traced program's file name, and so its comm.
const targetName = "probetarget"

// buildTarget compiles testdata/probes/target.c, or skips without gcc.
func buildTarget(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is needed to build the uprobe target")
	}
	src, err := filepath.Abs("../testdata/probes/target.c")
	require.NoError(t, err)
	// A short directory: probe names hold the path, and strings (probe,
	// func) hold 64 bytes.
	dir, err := os.MkdirTemp("", "gt")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, targetName)
	// -fcf-protection=none: no endbr64, so target+1 is the instruction
	// after "push %rbp".
	out, err := exec.Command(gcc, "-O0", "-fno-builtin", "-fcf-protection=none", "-o", bin, src).CombinedOutput()
	if err != nil {
		out, err = exec.Command(gcc, "-O0", "-fno-builtin", "-o", bin, src).CombinedOutput()
	}
	require.NoError(t, err, "gcc: %s", out)
	return bin
}

// runOpts runs script like run (e2e_test.go), with a uprobe pid.
func runOpts(t *testing.T, script string, pid int, trigger func()) string {
	t.Helper()
	return runUntil(t, script, pid, trigger, nil)
}

// runUntil is runOpts for events that come after the trigger returned (on
// other CPUs, from timers): the run goes on until untilMaps holds for the
// maps (tracetest.Options.UntilMaps).
func runUntil(t *testing.T, script string, pid int, trigger func(), untilMaps func(string) bool) string {
	t.Helper()
	requireKernel(t)
	p, err := compile(t, script, nil)
	require.NoError(t, err, "compiling:\n%s", script)
	out, errOut := tracetest.RunProgram(t, p, trigger, tracetest.Options{PID: pid, UntilMaps: untilMaps, Timeout: runTimeout})
	assert.Empty(t, errOut)
	return out
}

// matches is a condition for runUntil: every regular expression matches.
func matches(res ...string) func(string) bool {
	return func(s string) bool {
		for _, re := range res {
			if !regexp.MustCompile(re).MatchString(s) {
				return false
			}
		}
		return true
	}
}

// runTarget runs the target program with args to completion.
func runTarget(t *testing.T, bin string, args ...string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "%s", out)
}

// Arguments, return values, func and probe in uprobes and uretprobes, with
// exact counts and sums: target(i, 2i, 3, 4, 5, 6) for i = 1..4 returns
// 3i + 18.
func TestE2EUprobeArgsRetval(t *testing.T) {
	bin := buildTarget(t)
	script := strings.ReplaceAll(`uprobe:BIN:target { @c = count(); @a0 = sum(arg0); @a1 = sum(arg1); @a2 = sum(arg2);
  @a3 = sum(arg3); @a4 = sum(arg4); @a5 = sum(arg5); @f[func, probe] = count(); @h = hist(arg0); }
uretprobe:BIN:target { @r = sum(retval); @rmax = max(retval); @rf[func, probe] = count(); }`, "BIN", bin)
	out := runOpts(t, script, 0, func() { runTarget(t, bin, "4") })
	assert.Equal(t, "Attaching 2 probes...\n\n\n"+
		"@a0: 10\n@a1: 20\n@a2: 12\n@a3: 16\n@a4: 20\n@a5: 24\n@c: 4\n"+
		"@f[target, uprobe:"+bin+":target]: 4\n"+
		"@h: \n"+
		"[1]                    1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"+
		"[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"+
		"[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n\n"+
		"@r: 102\n"+
		"@rf[target, uretprobe:"+bin+":target]: 4\n"+
		"@rmax: 30\n", out)
}

// target+OFFSET, an address, a wildcard and a library short name.
func TestE2EUprobeOffsetAddressWildcardLibrary(t *testing.T) {
	bin := buildTarget(t)
	f, err := elf.Open(bin)
	require.NoError(t, err)
	syms, err := f.Symbols()
	require.NoError(t, err)
	var sym elf.Symbol
	for _, s := range syms {
		if s.Name == "target" {
			sym = s
		}
	}
	require.NotZero(t, sym.Value)
	// The first instruction must be the one-byte push %rbp for +1 to be
	// an instruction boundary.
	text := f.Section(".text")
	code, err := text.Data()
	require.NoError(t, err)
	f.Close()
	if code[sym.Value-text.Addr] != 0x55 {
		t.Skipf("target does not start with push %%rbp (0x%x)", code[sym.Value-text.Addr])
	}
	addr := fmt.Sprintf("0x%x", sym.Value)
	script := strings.NewReplacer("BIN", bin, "ADDR", addr, "COMM", targetName).Replace(
		`uprobe:BIN:target+1 { @off = sum(arg0); @offf[func] = count(); }
uprobe:BIN:ADDR { @addr = count(); @addrp[probe, func] = count(); }
uprobe:BIN:tar*t { @wild[probe] = count(); }
uprobe:libc:atol /comm == "COMM"/ { @libc = count(); }`)
	out := runOpts(t, script, 0, func() { runTarget(t, bin, "5") })
	assert.Equal(t, "Attaching 4 probes...\n\n\n"+
		"@addr: 5\n"+
		"@addrp[uprobe:"+bin+":"+addr+", target]: 5\n"+
		"@libc: 5\n"+
		"@off: 15\n"+
		"@offf[target]: 5\n"+
		"@wild[uprobe:"+bin+":target]: 5\n", out)
}

// With a pid, uprobes fire in that process only.
func TestE2EUprobePID(t *testing.T) {
	bin := buildTarget(t)
	traced := exec.Command(bin, "3", "wait")
	tracedIn, err := traced.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, traced.Start())
	defer traced.Process.Kill()
	script := strings.ReplaceAll(`uprobe:BIN:target { @[pid] = count(); } uprobe:libc:atol { @libc[pid] = count(); }`, "BIN", bin)
	out := runOpts(t, script, traced.Process.Pid, func() {
		runTarget(t, bin, "5") // not traced
		tracedIn.Write([]byte("x"))
		require.NoError(t, traced.Wait())
	})
	pid := strconv.Itoa(traced.Process.Pid)
	assert.Equal(t, "Attaching 2 probes...\n\n\n@["+pid+"]: 3\n@libc["+pid+"]: 3\n", out)
}

// Uprobe errors are script errors, at the probe.
func TestUprobeErrors(t *testing.T) {
	bin := buildTarget(t)
	for _, tc := range []struct{ script, want string }{
		{"uprobe:/no/such:f { }", "uprobe target file '/no/such' does not exist or is not executable"},
		{"uprobe:no_such_lib_xyz:f { }", "uprobe target file 'no_such_lib_xyz' does not exist or is not executable"},
		{"uprobe:BIN:nope { }", "function nope not found in BIN"},
		{"uprobe:BIN:printf { }", "function printf is not defined in BIN but imported from a library: probe it there, e.g. uprobe:libc:printf"},
		{"uprobe:BIN:nope* { }", "no function matches nope* in BIN"},
		{"uprobe:BIN:target+100000 { }", "Offset outside the function bounds ('target' size is"},
		{"uretprobe:BIN:target+1 { }", "uretprobe cannot take an offset"},
		{"uprobe:BIN:0x1 { }", "Could not resolve address: BIN:0x1 (it is not in an executable segment of BIN)"},
		{"uprobe:BIN { }", "uprobe probe must look like uprobe:/path/to/binary:function"},
	} {
		script := strings.ReplaceAll(tc.script, "BIN", bin)
		_, err := compile(t, script, nil)
		require.Error(t, err, script)
		assert.Contains(t, err.Error(), strings.ReplaceAll(tc.want, "BIN", bin), script)
		assert.Regexp(t, `^stdin:1:1-\d+: ERROR: `, err.Error())
	}
	// What the checker says about arguments depends on the probe kind.
	for _, tc := range []struct{ script, want string }{
		{"uprobe:BIN:target { @ = args->x; }", "args is only available in tracepoint probes"},
		{"uretprobe:BIN:target { @ = arg0; }", "arg0 is not available in uretprobe:BIN:target"},
		{"uprobe:BIN:target { @ = retval; }", "retval is only available"},
	} {
		script := strings.ReplaceAll(tc.script, "BIN", bin)
		_, err := compile(t, script, nil)
		require.Error(t, err, script)
		assert.Contains(t, err.Error(), strings.ReplaceAll(tc.want, "BIN", bin), script)
	}
	// A function missing beside others of the same probe is a warning, as
	// in bpftrace (whose tools probe functions some builds lack).
	p, err := compile(t, strings.ReplaceAll("uprobe:BIN:target, uprobe:BIN:nope { }", "BIN", bin), nil)
	require.NoError(t, err)
	require.Len(t, p.Probes, 1)
	assert.Equal(t, []string{"WARNING: function nope not found in " + bin + "; list them with: gotrace -l 'uprobe:" + bin + ":*'; skipping uprobe:" + bin + ":nope"}, runtime.Warnings(p))
}

// lockedThread runs functions on one OS thread whose tid scripts filter on,
// so that the Go runtime's own system calls do not count.
type lockedThread struct {
	tid  int
	work chan func()
	done chan struct{}
}

func newLockedThread(t *testing.T) *lockedThread {
	th := &lockedThread{work: make(chan func()), done: make(chan struct{})}
	ready := make(chan int)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread exits with the goroutine
		ready <- unix.Gettid()
		for f := range th.work {
			f()
			th.done <- struct{}{}
		}
	}()
	th.tid = <-ready
	t.Cleanup(func() { close(th.work) })
	return th
}

func (th *lockedThread) do(f func()) {
	th.work <- f
	<-th.done
}

// Wildcard tracepoints: every match is attached, each with its own probe
// name; counts are exact.
func TestE2ETracepointWildcard(t *testing.T) {
	requireKernel(t)
	matches, err := kernel.MatchTracepoints("syscalls", "sys_enter_get*")
	require.NoError(t, err)
	require.Greater(t, len(matches), 10)
	th := newLockedThread(t)
	script := fmt.Sprintf(`tracepoint:syscalls:sys_enter_get* /tid == %d/ { @[probe] = count(); }`, th.tid)
	start := time.Now()
	out := runOpts(t, script, 0, func() {
		th.do(func() {
			for i := 0; i < 3; i++ {
				unix.Getpid()
			}
			unix.Getppid()
			unix.Getppid()
			unix.Getpgid(0)
			unix.Getuid()
			unix.Getuid()
			unix.Getuid()
			unix.Getuid()
		})
	})
	t.Logf("%d tracepoints attached, run and detached in %v", len(matches), time.Since(start))
	assert.Equal(t, fmt.Sprintf("Attaching %d probes...\n\n\n", len(matches))+
		"@[tracepoint:syscalls:sys_enter_getpgid]: 1\n"+
		"@[tracepoint:syscalls:sys_enter_getppid]: 2\n"+
		"@[tracepoint:syscalls:sys_enter_getpid]: 3\n"+
		"@[tracepoint:syscalls:sys_enter_getuid]: 4\n", out)
}

// Raw tracepoints: arg0.. are the tracepoint's arguments (sys_enter: regs,
// syscall number).
func TestE2ERawTracepoint(t *testing.T) {
	requireKernel(t)
	th := newLockedThread(t)
	script := fmt.Sprintf(`rawtracepoint:sys_enter /tid == %d/ { @[arg1, probe] = count(); }
rt:sched_switch { @sw = count(); }`, th.tid)
	// sched_switch fires when any CPU switches tasks, not necessarily
	// while the trigger runs: the run waits for one.
	out := runUntil(t, script, 0, func() {
		th.do(func() {
			for i := 0; i < 5; i++ {
				unix.Getppid()
			}
		})
	}, matches(`(^|\n)@sw: [1-9]`))
	assert.True(t, strings.HasPrefix(out, "Attaching 2 probes...\n"), out)
	assert.Contains(t, out, fmt.Sprintf("@[%d, rawtracepoint:sys_enter]: 5\n", unix.SYS_GETPPID))
	assert.Regexp(t, `\n@sw: [1-9]\d*\n`, out)
}

// cpuKeys returns the keys of @[cpu] lines.
func cpuKeys(t *testing.T, out, prefix string) []int {
	var cpus []int
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, prefix+"["); ok {
			k, _, _ := strings.Cut(rest, "]")
			n, err := strconv.Atoi(k)
			require.NoError(t, err, line)
			cpus = append(cpus, n)
		}
	}
	sort.Ints(cpus)
	return cpus
}

// profile and software events sample every CPU; interval runs on one.
// They fire on their own clocks: the run keeps every CPU busy (an idle CPU
// takes almost no cpu-clock samples under NOHZ) until each probe has
// fired on every CPU, however long that takes under load.
func TestE2EProfileSoftwareInterval(t *testing.T) {
	requireKernel(t)
	online, err := kernel.OnlineCPUs()
	require.NoError(t, err)
	th := newLockedThread(t)
	script := fmt.Sprintf(`profile:ms:5 { @p[cpu] = count(); }
p:hz:199 { @hz[cpu] = count(); }
software:cpu-clock:2000000 { @s[cpu] = count(); @sp[probe] = count(); }
s:faults:1 /tid == %d/ { @faults = count(); }
i:ms:20 { @i = count(); }`, th.tid)
	const pages = 64
	var everyCPU []string
	for _, cpu := range online {
		for _, m := range []string{"p", "hz", "s"} {
			everyCPU = append(everyCPU, fmt.Sprintf(`(^|\n)@%s\[%d\]: [1-9]`, m, cpu))
		}
	}
	stop := busyCPUs(t, online)
	out := runUntil(t, script, 0, func() {
		th.do(func() {
			mem, err := unix.Mmap(-1, 0, pages*4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
			require.NoError(t, err)
			for i := 0; i < pages; i++ {
				mem[i*4096] = 1
			}
			unix.Munmap(mem)
		})
	}, matches(append(everyCPU, `(^|\n)@i: [1-9]`)...))
	stop()
	assert.True(t, strings.HasPrefix(out, "Attaching 5 probes...\n"), out)
	assert.Equal(t, online, cpuKeys(t, out, "@p"), "profile:ms:5 on every CPU:\n%s", out)
	assert.Equal(t, online, cpuKeys(t, out, "@hz"), "profile:hz:199 on every CPU:\n%s", out)
	assert.Equal(t, online, cpuKeys(t, out, "@s"), "software:cpu-clock on every CPU:\n%s", out)
	assert.Regexp(t, `\n@sp\[software:cpu-clock:2000000\]: [1-9]\d*\n`, out)
	m := regexpFind(t, `\n@faults: (\d+)\n`, out)
	assert.GreaterOrEqual(t, m, pages, "a page fault per page touched")
	assert.GreaterOrEqual(t, regexpFind(t, `\n@i: (\d+)\n`, out), 1)
}

// busyCPUs keeps each of cpus busy with a thread pinned to it until the
// returned function is called (or the test ends).
func busyCPUs(t *testing.T, cpus []int) func() {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for _, cpu := range cpus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goruntime.LockOSThread()
			defer goruntime.UnlockOSThread()
			var set unix.CPUSet
			set.Set(cpu)
			unix.SchedSetaffinity(0, &set)
			for !stop.Load() {
			}
		}()
	}
	var once sync.Once
	f := func() { once.Do(func() { stop.Store(true); wg.Wait() }) }
	t.Cleanup(f)
	return f
}

func regexpFind(t *testing.T, re, s string) int {
	t.Helper()
	m := mustMatch(t, re, s)
	n, err := strconv.Atoi(m)
	require.NoError(t, err)
	return n
}

func mustMatch(t *testing.T, re, s string) string {
	t.Helper()
	r := regexp.MustCompile(re)
	m := r.FindStringSubmatch(s)
	require.NotNil(t, m, "%s in\n%s", re, s)
	return m[1]
}

// Every probe alias compiles to its canonical kind and name.
func TestProbeAliases(t *testing.T) {
	requireKernel(t)
	for _, tc := range []struct{ spec, kind, name string }{
		{"BEGIN", "BEGIN", "BEGIN"},
		{"begin", "BEGIN", "BEGIN"},
		{"end", "END", "END"},
		{"t:syscalls:sys_enter_getppid", "tracepoint", "tracepoint:syscalls:sys_enter_getppid"},
		{"rt:sched_switch", "rawtracepoint", "rawtracepoint:sched_switch"},
		{"p:hz:99", "profile", "profile:hz:99"},
		{"i:s:1", "interval", "interval:s:1"},
		{"s:cpu:1000", "software", "software:cpu:1000"},
		{"s:faults", "software", "software:faults"},
		{"h:cycles:1e6", "hardware", "hardware:cycles:1e6"},
		{"u:/bin/sh:main", "uprobe", "uprobe:/bin/sh:main"},
		{"ur:libc:malloc", "uretprobe", ""},
		{"k:vfs_read", "kprobe", "kprobe:vfs_read"},
		{"kr:vfs_read", "kretprobe", "kretprobe:vfs_read"},
		{"f:vfs_read", "fentry", "fentry:vfs_read"},
		{"kfunc:vfs_read", "fentry", "fentry:vfs_read"},
		{"fr:vfs_read", "fexit", "fexit:vfs_read"},
		{"kretfunc:vfs_read", "fexit", "fexit:vfs_read"},
	} {
		if tc.kind == "uprobe" {
			if _, err := elf.Open("/bin/sh"); err != nil {
				continue
			}
			if b, err := kernel.OpenELFBinary("/bin/sh"); err != nil || len(b.Match("main")) == 0 {
				continue
			}
		}
		if strings.HasPrefix(tc.kind, "k") && kernel.HaveKprobes() {
			continue
		}
		p, err := compile(t, tc.spec+" { @ = count(); }", nil)
		require.NoError(t, err, tc.spec)
		require.Len(t, p.Probes, 1, tc.spec)
		ap := p.Probes[0].Attach
		assert.Equal(t, tc.kind, ap.Kind, tc.spec)
		if tc.name != "" {
			assert.Equal(t, tc.name, ap.Name, tc.spec)
		}
	}
	p, err := compile(t, "s:cpu:1000 { } h:cycles:1e6 { } software:page-faults { }", nil)
	require.NoError(t, err)
	assert.Equal(t, "cpu-clock", p.Probes[0].Attach.PerfEvent)
	assert.Equal(t, uint64(1000), p.Probes[0].Attach.Period)
	assert.Equal(t, "cpu-cycles", p.Probes[1].Attach.PerfEvent)
	assert.Equal(t, uint64(1000000), p.Probes[1].Attach.Period)
	assert.Equal(t, uint64(0), p.Probes[2].Attach.Period, "the event's default period")
}

// Probe types that cannot attach here still compile and pass the
// verifier; attaching fails with one sentence naming the missing feature.
func TestUnattachableProbesVerify(t *testing.T) {
	requireKernel(t)
	type tc struct {
		script  string
		attach  string // what the error says, when the kernel lacks the feature
		lacking bool
	}
	noKprobes := !kernel.HaveKprobes()
	for _, c := range []tc{
		{"kprobe:vfs_read { @[arg0, arg1, func, probe] = count(); }", "cannot attach kprobe:vfs_read: this kernel has no kprobes (CONFIG_KPROBES is off)", noKprobes},
		{"kprobe:vfs_read+0x10 { @ = count(); }", "cannot attach kprobe:vfs_read+0x10: this kernel has no kprobes (CONFIG_KPROBES is off)", noKprobes},
		{"kprobe:vfs_* { @[func] = count(); }", "cannot attach kprobe:vfs_*: this kernel has no kprobes (CONFIG_KPROBES is off), so there are no kernel functions to match the wildcard against", noKprobes},
		{"kretprobe:vfs_read { @ = sum(retval); }", "cannot attach kretprobe:vfs_read: this kernel has no kprobes (CONFIG_KPROBES is off)", noKprobes},
		{"hardware:cycles:1e6 { @[cpu] = count(); }", "cannot attach hardware:cycles:1e6: this machine has no hardware performance counters", !kernel.HaveHardwarePMU()},
		{"h:instructions { @ = count(); }", "cannot attach hardware:instructions: this machine has no hardware performance counters", !kernel.HaveHardwarePMU()},
	} {
		p, err := compile(t, c.script, nil)
		require.NoError(t, err, c.script)
		l, err := runtime.Load(p, runtime.LoadOptions{})
		require.NoError(t, err, "%s passes the verifier", c.script)
		l.Close()
		if !c.lacking {
			continue
		}
		err = runtime.Preflight(p)
		require.Error(t, err, c.script)
		assert.True(t, strings.HasPrefix(err.Error(), c.attach), "%s: %v", c.script, err)
		assert.NotContains(t, err.Error(), "\n")
	}
}

// A raw tracepoint the kernel does not have fails to attach, in one line.
func TestRawTracepointMissing(t *testing.T) {
	requireKernel(t)
	p, err := compile(t, "rawtracepoint:no_such_tracepoint { @ = count(); }", nil)
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	err = runtime.Run(context.Background(), p, runtime.Options{Out: output.NewText(&out), Stderr: &errOut,
		Started: func() { t.Error("Started although nothing could attach") }})
	require.Error(t, err)
	assert.Equal(t, "cannot attach rawtracepoint:no_such_tracepoint: the kernel has no tracepoint called no_such_tracepoint (list them with: gotrace -l 'tracepoint:*:no_such_tracepoint*')", err.Error())
}

// fentry/fexit: where the kernel refuses tracing programs, they fail with
// one sentence before anything is loaded (--dry-run too).
func TestFentryRefused(t *testing.T) {
	requireKernel(t)
	for _, script := range []string{"fentry:vfs_read { @ = count(); }", "kretfunc:vfs_read { @ = count(); }"} {
		p, err := compile(t, script, nil)
		require.NoError(t, err, script)
		err = runtime.Unloadable(p)
		if err == nil {
			t.Skip("this kernel loads fentry programs")
		}
		assert.Regexp(t, `^cannot load f(entry|exit):vfs_read: f(entry|exit) probes need BPF trampolines, which this kernel refuses \(fentry/fexit programs cannot load`, err.Error())
		assert.Equal(t, err, runtime.Preflight(p))
	}
}

// A usdt probe that the binary does not have is refused in one sentence
// that says how to list the ones it has (usdt_e2e_test.go runs real ones).
func TestUsdtMissing(t *testing.T) {
	for _, script := range []string{"usdt:/bin/sh:prov:name { }", "U:/bin/sh:prov:name { }"} {
		_, err := compile(t, script, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no USDT probe prov:name in /bin/sh; list them with: gotrace -l 'usdt:/bin/sh:*'")
	}
}

func TestSplitCommand(t *testing.T) {
	for in, want := range map[string][]string{
		"ls -l /tmp":              {"ls", "-l", "/tmp"},
		`  sh -c 'echo "a b"'  `:  {"sh", "-c", `echo "a b"`},
		`echo "x \"y\" \$z" a\ b`: {"echo", `x "y" $z`, "a b"},
		`a '' b`:                  {"a", "", "b"},
	} {
		got, err := runtime.SplitCommand(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "   ", `echo 'x`, `echo "x`} {
		_, err := runtime.SplitCommand(bad)
		assert.Error(t, err, bad)
	}
}

// A -c command is created stopped, runs only once released, and its exit
// is seen.
func TestStartCommand(t *testing.T) {
	requireKernel(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	var out bytes.Buffer
	cmd, err := runtime.StartCommand([]string{"sh", "-c", "touch " + marker + "; echo hi"}, nil, &out, &out)
	require.NoError(t, err)
	pid := cmd.Pid()
	// The child waits in read() on its start pipe (fd 3): wait until it
	// is there, then it has not run the command, and cannot any more
	// before Release.
	waitFor(t, 10*time.Second, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
		f := strings.Fields(string(b))
		return len(f) > 1 && f[0] == strconv.Itoa(unix.SYS_READ) && f[1] == "0x3"
	}, "the -c child to wait on its start pipe")
	_, err = os.Stat(marker)
	assert.True(t, os.IsNotExist(err), "the command must not run before Release")
	cmd.Release()
	select {
	case <-cmd.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not end")
	}
	assert.Equal(t, 0, cmd.ExitCode())
	assert.Equal(t, "hi\n", out.String())
	_, err = os.Stat(marker)
	assert.NoError(t, err)
	assert.Greater(t, pid, 0)

	// Never released: it exits without running.
	cmd, err = runtime.StartCommand([]string{"touch", marker + "2"}, nil, nil, nil)
	require.NoError(t, err)
	cmd.Stop()
	_, err = os.Stat(marker + "2")
	assert.True(t, os.IsNotExist(err))

	_, err = runtime.StartCommand([]string{"no_such_command_xyz"}, nil, nil, nil)
	assert.EqualError(t, err, "cannot run the command no_such_command_xyz: executable file not found in $PATH")
}

// WatchProcess sees a process exit.
func TestWatchProcess(t *testing.T) {
	requireKernel(t)
	cmd := exec.Command("sleep", "0.1")
	require.NoError(t, cmd.Start())
	exited, stop, err := runtime.WatchProcess(cmd.Process.Pid)
	require.NoError(t, err)
	defer stop()
	go cmd.Wait()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the exit was not seen")
	}
	_, _, err = runtime.WatchProcess(1 << 30)
	assert.Error(t, err)
}
