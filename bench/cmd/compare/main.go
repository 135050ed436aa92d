// Command compare runs gotrace and bpftrace on the same scripts, in one run
// on one machine, and prints each figure of the performance goals with the
// ratio gotrace/bpftrace and whether the goal is met:
//
//   - start-up to attached and back: wall time of `BEGIN { exit(); }` and of
//     a 3-tracepoint script (hist, string keys) ended by interval:ms:1,
//     median of -runs runs;
//   - peak RSS (wait4 ru_maxrss), the largest over every script;
//   - BPF instructions per script after the verifier (bpftool prog show:
//     bytes_xlated / 8) of the programs each tool attached, found through
//     `bpftool perf show` by the tool's pid;
//   - added cost per traced event: a getppid loop timed without tracing and
//     with `@[comm] = count()` on sys_enter_getppid, (traced - baseline) / N.
//
// Run as root from the module (bench/run.sh does the set-up):
//
//	go run ./bench/cmd/compare [-runs 11] [-events 2000000] [-rounds 5] [-out DIR]
//
// Without bpftrace it prints gotrace's numbers alone. Progress goes to
// stderr, the tables (Markdown) to stdout; -out keeps the instruction dumps
// of both tools and every raw number (results.json).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/bench"
	"golang.org/x/sys/unix"
)

type tool struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version"`
}

type config struct {
	root, gotrace, bpftrace, bpftool, cc string
	runs, events, rounds                 int
	out                                  string
	skipOverhead                         bool
	settle                               time.Duration
	cpu                                  int
}

// Results holds every raw number of a run (written to results.json).
type Results struct {
	Date    string                         `json:"date"`
	Machine string                         `json:"machine"`
	Load    []string                       `json:"loadavg"` // /proc/loadavg at the start and the end
	Tools   []tool                         `json:"tools"`
	Notes   []string                       `json:"notes"`
	Startup map[string]map[string]*startup `json:"startup"` // script → tool
	RSS     map[string]map[string]int64    `json:"peak_rss_kb"`
	Progs   map[string]map[string][]prog   `json:"progs"`
	Over    *overhead                      `json:"overhead,omitempty"`
}

type startup struct {
	WallMS   []float64 `json:"wall_ms"`
	AttachMS []float64 `json:"attach_ms"`
	CPUMS    []float64 `json:"cpu_ms"` // user + system time of the tracer
	Failures []string  `json:"failures,omitempty"`
}

// overhead holds the workload's loop times: wall and CPU, untraced
// (baseline) and traced by each tool.
type overhead struct {
	Events        int                  `json:"events"`
	Rounds        int                  `json:"rounds"`
	BaselineMS    []float64            `json:"baseline_ms"`
	BaselineCPUMS []float64            `json:"baseline_cpu_ms"`
	TracedMS      map[string][]float64 `json:"traced_ms"`
	TracedCPUMS   map[string][]float64 `json:"traced_cpu_ms"`
	Counted       map[string][]int64   `json:"counted"`
	// ProgNS is the tool's program's own run time per event, from the
	// kernel's BPF statistics (run_time_ns / run_cnt), in a separate run.
	ProgNS   map[string]float64 `json:"prog_ns_per_run"`
	Failures []string           `json:"failures,omitempty"`
}

func main() {
	var c config
	flag.StringVar(&c.root, "root", "", "the gotrace module (default: found from the working directory)")
	flag.StringVar(&c.gotrace, "gotrace", "", "a gotrace binary to use instead of building one")
	flag.StringVar(&c.bpftrace, "bpftrace", "bpftrace", "bpftrace binary; \"none\" compares nothing")
	flag.StringVar(&c.bpftool, "bpftool", "bpftool", "bpftool binary")
	flag.StringVar(&c.cc, "cc", "gcc", "C compiler for the workload")
	flag.IntVar(&c.runs, "runs", 11, "runs per start-up figure (the median is reported)")
	flag.IntVar(&c.events, "events", 2_000_000, "getppid calls per workload run")
	flag.IntVar(&c.rounds, "rounds", 5, "workload runs per condition (baseline, each tracer)")
	flag.StringVar(&c.out, "out", "", "directory for instruction dumps and results.json (default: a new one under $TMPDIR)")
	flag.BoolVar(&c.skipOverhead, "skip-overhead", false, "skip the per-event cost figure (the slowest)")
	flag.IntVar(&c.cpu, "cpu", runtime.NumCPU()-1, "CPU the per-event workload runs on (-1: unpinned); see bench/README.md")
	flag.DurationVar(&c.settle, "settle", 500*time.Millisecond, "pause after each start-up run, for the kernel to finish tearing its probes down")
	flag.Parse()
	if err := run(c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "# "+format+"\n", args...)
}

func run(c config, stdout io.Writer) error {
	if os.Geteuid() != 0 {
		return errors.New("tracing needs root: run as root (bench/run.sh)")
	}
	ctx := context.Background()
	var err error
	if c.root == "" {
		if c.root, err = bench.ModuleRoot("."); err != nil {
			return err
		}
	}
	if c.out == "" {
		if c.out, err = os.MkdirTemp("", "gotrace-bench-"); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	res := &Results{
		Date:    time.Now().Format("2006-01-02 15:04 MST"),
		Machine: machine(),
		Load:    []string{loadavg()},
		Startup: map[string]map[string]*startup{},
		RSS:     map[string]map[string]int64{},
		Progs:   map[string]map[string][]prog{},
	}
	note := func(format string, args ...any) {
		res.Notes = append(res.Notes, fmt.Sprintf(format, args...))
		logf(format, args...)
	}

	// The machine: bpftrace asks for an unlimited RLIMIT_MEMLOCK (kernels
	// since 5.11 account BPF memory to the cgroup instead); tracepoints
	// need tracefs.
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}); err != nil {
		note("RLIMIT_MEMLOCK stays as it is (%v); bpftrace warns about it, and loads anyway on this kernel", err)
	}
	if err := ensureTracefs(); err != nil {
		return err
	}

	// The tools.
	tools := []tool{}
	gt := c.gotrace
	if gt == "" {
		gt = filepath.Join(c.out, "gotrace")
		logf("building gotrace: go build -o %s ./cmd/gotrace", gt)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", gt, "./cmd/gotrace")
		cmd.Dir = c.root
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building gotrace: %v", err)
		}
	}
	tools = append(tools, tool{Name: "gotrace", Path: gt, Version: version(ctx, gt) + gitRev(ctx, c.root)})
	if c.bpftrace == "none" {
		note("bpftrace not run (-bpftrace none): gotrace's numbers only")
	} else {
		if p, err := exec.LookPath(c.bpftrace); err == nil {
			tools = append(tools, tool{Name: "bpftrace", Path: p, Version: version(ctx, p)})
		} else {
			note("bpftrace not found (%v): gotrace's numbers only", err)
		}
	}
	res.Tools = tools
	bpftool, err := exec.LookPath(c.bpftool)
	if err != nil {
		note("bpftool not found: no instruction counts")
		bpftool = ""
	}
	workload := ""
	if cc, err := exec.LookPath(c.cc); err != nil {
		note("no C compiler (%s): no uprobe script and no per-event cost", c.cc)
	} else if workload, err = buildWorkload(ctx, cc, c.out); err != nil {
		note("building the workload failed: %v", err)
		workload = ""
	}

	scripts := map[string]string{}
	for _, s := range bench.Scripts {
		if strings.Contains(s.Text, bench.WorkloadPlaceholder) {
			if workload == "" {
				continue
			}
			scripts[s.Name] = strings.ReplaceAll(s.Text, bench.WorkloadPlaceholder, workload)
		} else {
			scripts[s.Name] = s.Text
		}
	}
	rss := func(script, tool string, kb int64) {
		if res.RSS[script] == nil {
			res.RSS[script] = map[string]int64{}
		}
		res.RSS[script][tool] = max(res.RSS[script][tool], kb)
	}

	// 1. Start-up, interleaved: for each run, every script under every tool.
	for _, s := range bench.Scripts {
		if s.Startup {
			res.Startup[s.Name] = map[string]*startup{}
			for _, t := range tools {
				res.Startup[s.Name][t.Name] = &startup{}
			}
		}
	}
	logf("start-up: %d runs (+1 warm-up) of each start-up script under each tool", c.runs)
	for i := -1; i < c.runs; i++ {
		for _, s := range bench.Scripts {
			if !s.Startup {
				continue
			}
			for _, t := range tools {
				r := runTool(t.Path, time.Minute, "-e", scripts[s.Name])
				// Both tools leave work to the kernel when they exit
				// (freeing programs and maps, RCU callbacks; gotrace's
				// releaser closing perf events): let it finish, so no
				// run is timed against the last one's clean-up.
				time.Sleep(c.settle)
				st := res.Startup[s.Name][t.Name]
				if r.Err != nil || r.ToAttach == 0 {
					st.Failures = append(st.Failures, fmt.Sprintf("%v: %s", r.Err, tail(r.Stderr)))
					continue
				}
				if i < 0 {
					continue // warm-up: page cache, tracefs dentries
				}
				st.WallMS = append(st.WallMS, ms(r.Wall))
				st.AttachMS = append(st.AttachMS, ms(r.ToAttach))
				st.CPUMS = append(st.CPUMS, ms(r.CPU))
				rss(s.Name, t.Name, r.MaxRSSKB)
			}
		}
	}

	// 2. Instructions after the verifier, and RSS while attached.
	for _, s := range bench.Scripts {
		if s.Startup {
			continue
		}
		text, ok := scripts[s.Name]
		if !ok {
			continue
		}
		res.Progs[s.Name] = map[string][]prog{}
		for _, t := range tools {
			logf("attached: %s under %s", s.Name, t.Name)
			progs, kb, err := attachedRun(ctx, c, bpftool, t, s.Name, text, workload)
			if err != nil {
				note("%s under %s: %v", s.Name, t.Name, err)
			}
			if progs != nil {
				res.Progs[s.Name][t.Name] = progs
			}
			if kb > 0 {
				rss(s.Name, t.Name, kb)
			}
		}
	}

	// 3. Added cost per event.
	if workload != "" && !c.skipOverhead {
		res.Over = measureOverhead(ctx, c, bpftool, tools, workload, rss)
		if bpftool != "" {
			progTime(ctx, c, bpftool, tools, workload, res.Over)
		}
	}

	res.Load = append(res.Load, loadavg())
	if b, err := json.MarshalIndent(res, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(c.out, "results.json"), b, 0o644)
	}
	report(stdout, res, tools, c)
	logf("instruction dumps and results.json are in %s", c.out)
	return nil
}

var attachingRE = regexp.MustCompile(`Attaching (\d+) probe`)

// attachedRun starts a tool on a script that runs until stopped, reads its
// programs with bpftool once attached, makes some events, and stops it.
func attachedRun(ctx context.Context, c config, bpftool string, t tool, name, text, workload string) ([]prog, int64, error) {
	s, err := startAttached(ctx, bpftool, t, text)
	if err != nil {
		return nil, 0, err
	}
	want := 1
	if m := attachingRE.FindStringSubmatch(s.out.String()); m != nil {
		want, _ = strconv.Atoi(m[1])
	}
	var progs []prog
	var perr error
	if bpftool != "" {
		progs, perr = attachedProgs(ctx, bpftool, s.pid(), want, 10*time.Second)
		if perr == nil {
			perr = dumpProgs(ctx, bpftool, filepath.Join(c.out, "xlated", name, t.Name), progs)
		}
	}
	// Some events, so that the maps have something to print.
	for range 20 {
		_, _ = os.ReadFile("/proc/self/status")
	}
	if workload != "" {
		for _, mode := range []string{"u", "s"} {
			if _, err := runWorkload(ctx, workload, mode, 10_000, -1); err != nil && perr == nil {
				perr = err
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	r := s.stop(time.Minute)
	if r.Err != nil && perr == nil {
		perr = fmt.Errorf("exit: %v: %s", r.Err, tail(r.Stderr))
	}
	if perr == nil && strings.Count(r.Stdout, "@") == 0 {
		perr = fmt.Errorf("printed no map at exit:\n%s", tail(r.Stdout))
	}
	return progs, r.MaxRSSKB, perr
}

var countRE = regexp.MustCompile(`@\[` + bench.WorkloadComm + `\]: (\d+)`)

// measureOverhead times the getppid loop untraced and traced by each tool,
// in rounds that rotate the order, each tracer started afresh per round.
func measureOverhead(ctx context.Context, c config, bpftool string, tools []tool, workload string, rss func(string, string, int64)) *overhead {
	o := &overhead{Events: c.events, Rounds: c.rounds, TracedMS: map[string][]float64{},
		TracedCPUMS: map[string][]float64{}, Counted: map[string][]int64{}, ProgNS: map[string]float64{}}
	logf("per-event cost: %d rounds of %d getppid calls, untraced and under each tool", c.rounds, c.events)
	// Warm-up: the binary in the page cache, the CPU clocks up.
	if _, err := runWorkload(ctx, workload, "s", c.events/4, c.cpu); err != nil {
		o.Failures = append(o.Failures, err.Error())
		return o
	}
	conds := []string{"baseline"}
	for _, t := range tools {
		conds = append(conds, t.Name)
	}
	for round := range c.rounds {
		for k := range conds {
			cond := conds[(k+round)%len(conds)]
			if cond == "baseline" {
				d, err := runWorkload(ctx, workload, "s", c.events, c.cpu)
				if err != nil {
					o.Failures = append(o.Failures, err.Error())
					continue
				}
				o.BaselineMS = append(o.BaselineMS, ms(d.wall))
				o.BaselineCPUMS = append(o.BaselineCPUMS, ms(d.cpu))
				continue
			}
			var t tool
			for _, tt := range tools {
				if tt.Name == cond {
					t = tt
				}
			}
			s, err := startAttached(ctx, bpftool, t, bench.OverheadScript)
			if err != nil {
				o.Failures = append(o.Failures, fmt.Sprintf("%s: %v", cond, err))
				continue
			}
			d, werr := runWorkload(ctx, workload, "s", c.events, c.cpu)
			r := s.stop(time.Minute)
			rss("getppid_count", cond, r.MaxRSSKB)
			if werr != nil {
				o.Failures = append(o.Failures, werr.Error())
				continue
			}
			var n int64 = -1
			if m := countRE.FindStringSubmatch(r.Stdout); m != nil {
				n, _ = strconv.ParseInt(m[1], 10, 64)
			}
			o.Counted[cond] = append(o.Counted[cond], n)
			if n < int64(c.events) {
				o.Failures = append(o.Failures, fmt.Sprintf("%s counted %d of %d getppid calls", cond, n, c.events))
			}
			o.TracedMS[cond] = append(o.TracedMS[cond], ms(d.wall))
			o.TracedCPUMS[cond] = append(o.TracedCPUMS[cond], ms(d.cpu))
		}
	}
	return o
}

// startAttached starts a tool on a script and returns once its programs
// are attached: bpftool perf show lists as many as the "Attaching" line
// announced (without bpftool, half a second after that line).
func startAttached(ctx context.Context, bpftool string, t tool, script string) (*session, error) {
	s, err := startTool(t.Path, "-e", script)
	if err != nil {
		return nil, err
	}
	if err := s.waitAttached(time.Minute); err != nil {
		s.stop(time.Minute)
		return nil, err
	}
	if bpftool == "" {
		time.Sleep(500 * time.Millisecond)
		return s, nil
	}
	want := 1
	if m := attachingRE.FindStringSubmatch(s.out.String()); m != nil {
		want, _ = strconv.Atoi(m[1])
	}
	if _, err := attachedProgs(ctx, bpftool, s.pid(), want, 30*time.Second); err != nil {
		s.stop(time.Minute)
		return nil, err
	}
	return s, nil
}

// progTime measures each tool's program alone: with the kernel's BPF run
// time statistics on (BPF_ENABLE_STATS: on while its fd is open, for the
// whole machine), the workload makes events, and bpftool reports the
// program's run_time_ns and run_cnt.
func progTime(ctx context.Context, c config, bpftool string, tools []tool, workload string, o *overhead) {
	n := max(c.events/10, 10_000)
	for _, t := range tools {
		s, err := startAttached(ctx, bpftool, t, bench.OverheadScript)
		if err != nil {
			o.Failures = append(o.Failures, fmt.Sprintf("program time under %s: %v", t.Name, err))
			continue
		}
		err = func() error {
			stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
			if err != nil {
				return fmt.Errorf("enabling BPF statistics: %v", err)
			}
			defer stats.Close()
			if _, err := runWorkload(ctx, workload, "s", n, -1); err != nil {
				return err
			}
			progs, err := attachedProgs(ctx, bpftool, s.pid(), 1, time.Second)
			if err != nil {
				return err
			}
			if len(progs) != 1 || progs[0].RunCnt < uint64(n) {
				return fmt.Errorf("expected one program run %d times, got %+v", n, progs)
			}
			o.ProgNS[t.Name] = float64(progs[0].RunTimeNS) / float64(progs[0].RunCnt)
			return nil
		}()
		s.stop(time.Minute)
		if err != nil {
			o.Failures = append(o.Failures, fmt.Sprintf("program time under %s: %v", t.Name, err))
		}
	}
}

func ensureTracefs() error {
	if b, err := os.ReadFile("/proc/mounts"); err == nil && strings.Contains(string(b), " /sys/kernel/tracing tracefs ") {
		return nil
	}
	if err := syscall.Mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, ""); err != nil && !errors.Is(err, syscall.EBUSY) {
		return fmt.Errorf("mounting tracefs: %v", err)
	}
	return nil
}

func version(ctx context.Context, path string) string {
	out, err := command(ctx, path, "--version")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func gitRev(ctx context.Context, root string) string {
	out, err := command(ctx, "git", "-C", root, "rev-parse", "--short", "HEAD")
	if err != nil {
		return ""
	}
	rev := " (" + strings.TrimSpace(string(out))
	if st, err := command(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no"); err == nil && len(st) > 0 {
		rev += ", modified"
	}
	return rev + ")"
}

func machine() string {
	var u unix.Utsname
	_ = unix.Uname(&u)
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
	}
	var si unix.Sysinfo_t
	_ = unix.Sysinfo(&si)
	mem := float64(si.Totalram) * float64(si.Unit) / (1 << 30)
	return fmt.Sprintf("Linux %s, %d CPUs (%s), %.0f GiB", unix.ByteSliceToString(u.Release[:]), runtime.NumCPU(), cpu, mem)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
