package main

// bpftrace's own tools (/usr/sbin/*.bt), run for a few seconds each with a
// workload (testdata/tools/workload.sh), must print output of the same
// shape as bpftrace 0.17 running the same tool on Debian 12's 6.1 kernel:
// the same header lines, the same number of columns in the events a
// snooping tool prints, the same maps at the end. bpftrace's shapes were
// captured once inside the 6.1 VM of the kernel matrix (see
// testdata/tools/README) and are checked in as testdata/tools/6.1/NAME.txt.
//
// Tools that attach kprobes or fentry skip on a kernel without them; the
// others run everywhere. Inside the matrix:
//
//	go test -c -o /var/tmp/cli.test ./cmd/gotrace
//	cd cmd/gotrace && /work/wt-matrix/matrix/run 6.1 -- /var/tmp/cli.test -test.run TestBpftraceToolsShape -test.parallel 6 -test.v

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const toolsDir = "../../testdata/tools"

// toolShape is what of a tool's output must be the same as bpftrace's.
type toolShape struct {
	Header []string // the banner and column header lines, as printed
	// Columns is the kind of each column of the event lines but the last
	// (which is free-form: a path, a command line), "n" for a number, "w"
	// for anything else, in the most common event line ("" without a
	// column header or without events).
	Columns string
	Maps    []string // the maps printed, sorted ("@usecs")
}

var (
	mapName = regexp.MustCompile(`^(@[A-Za-z0-9_]*)[\[:]`)
	number  = regexp.MustCompile(`^-?[0-9]+$`)

	parenthesized = regexp.MustCompile(`\([^)]*\)`)
	clock         = regexp.MustCompile(`^[0-9]{2}:[0-9]{2}:[0-9]{2}`) // time() and strftime output
)

// shapeOf reads the shape of a tool's standard output: the header is the
// first line after "Attaching N probes..." and the lines after it with no
// digit in them (column headers), up to an empty line, a map or a time of
// day (swapin.bt prints the time every second, and no banner); event
// lines are those after the header, up to the first empty line or map.
func shapeOf(out string) toolShape {
	var s toolShape
	lines := strings.Split(out, "\n")
	if len(lines) > 0 && strings.HasPrefix(lines[0], "Attaching ") {
		lines = lines[1:]
	}
	i := 0
	for ; i < len(lines); i++ {
		l := lines[i]
		if l == "" || strings.HasPrefix(l, "@") || clock.MatchString(l) ||
			(i > 0 && strings.ContainsAny(l, "0123456789")) {
			break
		}
		s.Header = append(s.Header, l)
	}
	cols := 0
	if len(s.Header) > 0 {
		last := s.Header[len(s.Header)-1]
		// Column names are upper case, with units in parentheses: TIME(ms).
		bare := parenthesized.ReplaceAllString(last, "")
		if f := strings.Fields(last); len(f) >= 2 && bare == strings.ToUpper(bare) {
			cols = len(f)
		}
	}
	counts := map[string]int{}
	for ; i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@"); i++ {
		f := strings.Fields(lines[i])
		if cols == 0 || len(f) < cols-1 {
			continue
		}
		kinds := make([]string, cols-1)
		for j := range kinds {
			kinds[j] = "w"
			if number.MatchString(f[j]) {
				kinds[j] = "n"
			}
		}
		counts[strings.Join(kinds, " ")]++
	}
	for c, n := range counts {
		if n > counts[s.Columns] || (n == counts[s.Columns] && c < s.Columns) {
			s.Columns = c
		}
	}
	seen := map[string]bool{}
	for _, l := range lines[i:] {
		if m := mapName.FindStringSubmatch(l); m != nil && !seen[m[1]] {
			seen[m[1]] = true
			s.Maps = append(s.Maps, m[1])
		}
	}
	sort.Strings(s.Maps)
	return s
}

// String is the shape as its testdata file holds it.
func (s toolShape) String() string {
	var b strings.Builder
	for _, h := range s.Header {
		fmt.Fprintf(&b, "header %s\n", h)
	}
	fmt.Fprintf(&b, "columns %s\n", s.Columns)
	fmt.Fprintf(&b, "maps %s\n", strings.Join(s.Maps, " "))
	return b.String()
}

// readShape reads testdata/tools/6.1/NAME.txt: "# " comments, then the
// lines String writes, plus "events maybe" for a tool whose events the
// workload does not always cause (only its header is compared), or
// "bpftrace fails WHY" for a tool bpftrace 0.17 cannot run on 6.1 (gotrace
// must run it and print a header; there is nothing to compare it with).
func readShape(t *testing.T, path string) (s toolShape, eventsMaybe bool, bpftraceFails string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		key, val, _ := strings.Cut(l, " ")
		switch key {
		case "#", "":
		case "header":
			s.Header = append(s.Header, val)
		case "columns":
			s.Columns = val
		case "maps":
			s.Maps = strings.Fields(val)
		case "events":
			eventsMaybe = val == "maybe"
		case "bpftrace":
			bpftraceFails = strings.TrimPrefix(val, "fails ")
		default:
			t.Fatalf("%s: unknown line %q", path, l)
		}
	}
	require.NoError(t, sc.Err())
	if len(s.Maps) == 0 {
		s.Maps = nil
	}
	return s, eventsMaybe, bpftraceFails
}

var kprobeLine = regexp.MustCompile(`(?m)^\s*(kprobe|kretprobe|fentry|fexit|k|kr|f|fr):`)

func TestBpftraceToolsShape(t *testing.T) {
	needBinary(t)
	needKernel(t)
	expected, _ := filepath.Glob(filepath.Join(toolsDir, "6.1", "*.txt"))
	require.NotEmpty(t, expected, "bpftrace's shapes are checked in")
	live := testtarget.Live()
	for _, path := range expected {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			// Tools run side by side (-test.parallel), each with its own
			// workload: what else traces the same events changes nothing.
			t.Parallel()
			tool := "/usr/sbin/" + name + ".bt"
			text, err := os.ReadFile(tool)
			if err != nil {
				t.Skip("bpftrace's tools are not installed (apt-get install bpftrace)")
			}
			if m := kprobeLine.FindStringSubmatch(string(text)); m != nil {
				kind := map[string]string{"k": "kprobe", "kr": "kprobe", "kretprobe": "kprobe", "f": "fentry", "fr": "fentry", "fexit": "fentry"}[m[1]]
				if kind == "" {
					kind = m[1]
				}
				f := map[string]target.Feature{"kprobe": target.Kprobes, "fentry": target.Fentry}[kind]
				if !live.Has(f) {
					t.Skipf("kernel has no %ss", kind)
				}
			}
			want, eventsMaybe, bpftraceFails := readShape(t, path)
			// A snooping tool runs until it has printed an event line.
			ready := func(string) bool { return true }
			if want.Columns != "" && !eventsMaybe && bpftraceFails == "" {
				ready = func(out string) bool { return shapeOf(out).Columns != "" }
			}
			out, errOut, err := runTool(t, tool, ready)
			if bpftraceFails != "" {
				// Nothing to compare with: gotrace may fail as well,
				// cleanly.
				t.Logf("bpftrace 0.17 cannot run %s on 6.1 (%s); gotrace: %v\n%s%s", name, bpftraceFails, err, out, errOut)
				noCrash(t, tool, errOut)
				return
			}
			if err != nil {
				if re, ok := readDryRunKnown(t)[name]; ok && re.MatchString(errOut) {
					t.Skipf("the kernel lacks what %s reads (testdata/tools/dryrun-known): %s", name, strings.TrimSpace(errOut))
				}
			}
			require.NoError(t, err, "%s; stderr:\n%s", tool, errOut)
			got := shapeOf(out)
			assert.Equal(t, want.Header, got.Header, "header lines; output:\n%s", out)
			if eventsMaybe {
				return
			}
			assert.Equal(t, want.Columns, got.Columns, "columns of event lines; output:\n%s", out)
			assert.Equal(t, want.Maps, got.Maps, "maps printed at exit; output:\n%s", out)
		})
	}
}

// runTool runs gotrace on tool: once it has attached, the workload runs for
// three seconds, and again (up to five times in all) until ready says the
// output has what the test needs; then the tool gets SIGINT, as a user's
// Ctrl-C. It returns the standard output and error, and how gotrace ended.
func runTool(t *testing.T, tool string, ready func(stdout string) bool) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, tool)
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for !strings.HasPrefix(out.String(), "Attaching ") {
		select {
		case err := <-done:
			return out.String(), errOut.String(), fmt.Errorf("gotrace ended before attaching: %v", err)
		case <-deadline:
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s did not attach within 2 minutes; stderr:\n%s", tool, errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	workload, err := filepath.Abs(filepath.Join(toolsDir, "workload.sh"))
	require.NoError(t, err)
	dir := t.TempDir()
	for i := 0; i < 5 && (i == 0 || !ready(out.String())); i++ {
		w := exec.Command(workload, "3")
		w.Dir = dir
		w.Env = append(os.Environ(), "TMPDIR="+dir)
		wout, err := w.CombinedOutput()
		require.NoError(t, err, "workload: %s", wout)
	}
	_ = cmd.Process.Signal(syscall.SIGINT) // unless it ended by itself
	err = <-done
	return out.String(), errOut.String(), err
}

// TestRecordToolShapes writes testdata/tools/6.1 from the output of
// capture.sh run under bpftrace inside the 6.1 VM (TOOLS_CAPTURE=FILE);
// without it, it skips.
func TestRecordToolShapes(t *testing.T) {
	capture := os.Getenv("TOOLS_CAPTURE")
	if capture == "" {
		t.Skip("TOOLS_CAPTURE names capture.sh's output to record shapes from")
	}
	data, err := os.ReadFile(capture)
	require.NoError(t, err)
	dir := filepath.Join(toolsDir, "6.1")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	seen := map[string]bool{}
	for _, run := range splitCapture(string(data)) {
		// capture.sh ran bpftrace first, then gotrace.
		if seen[run.name] {
			continue
		}
		seen[run.name] = true
		var b strings.Builder
		fmt.Fprintf(&b, "# bpftrace 0.17 running /usr/sbin/%s.bt on Debian 12's 6.1 (testdata/tools/README)\n", run.name)
		// 137: bpftrace did not end within a minute of SIGINT (xfsdist,
		// with none of its functions on 6.1) and was killed; what it
		// printed stands.
		if !strings.HasPrefix(run.out, "Attaching ") || run.status != "0" && run.status != "137" {
			why := "exit status " + run.status
			for _, l := range strings.Split(run.stderr, "\n") {
				if strings.Contains(l, "ERROR") || strings.Contains(l, "error") {
					why = strings.TrimSpace(l)
					break
				}
			}
			fmt.Fprintf(&b, "bpftrace fails %s\n", why)
		} else {
			if why, ok := eventsMaybe[run.name]; ok {
				fmt.Fprintf(&b, "# %s\nevents maybe\n", why)
			}
			b.WriteString(shapeOf(run.out).String())
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, run.name+".txt"), []byte(b.String()), 0o644))
	}
}

// eventsMaybe are the tools whose events the workload does not reliably
// cause on 6.1 (only their headers are compared), and why.
var eventsMaybe = map[string]string{
	"bashreadline":   "no interactive bash reads a line",
	"biolatency":     "6.1 has none of the blk_account_io_* functions it probes",
	"biosnoop":       "6.1 has none of the blk_account_io_* functions it probes",
	"biostacks":      "6.1 has none of the blk_account_io_* functions it probes",
	"gethostlatency": "getent's lookups may not go through the traced functions",
	"naptime":        "sleep(1) calls clock_nanosleep, not nanosleep",
	"oomkill":        "nothing runs out of memory",
	"ssllatency":     "nothing uses OpenSSL",
	"sslsnoop":       "nothing uses OpenSSL",
	"swapin":         "nothing swaps",
	"tcpretrans":     "the loopback does not retransmit",
	"threadsnoop":    "glibc 2.34+ creates threads in libc, not libpthread",
	"undump":         "no UNIX socket traffic is certain",
	"writeback":      "writeback happens when the kernel decides",
	"xfsdist":        "no XFS file system",
	"loads":          "its lines carry the time and the load",
	"cpuwalk":        "sampling",
	"runqlen":        "sampling",
}

type capturedRun struct{ name, status, out, stderr string }

// splitCapture splits capture.sh's output ("=== RUN NAME STATUS", the
// output, "=== STDERR NAME", its stderr, "=== END NAME") into its runs.
func splitCapture(data string) []capturedRun {
	var runs []capturedRun
	var cur *capturedRun
	var b strings.Builder
	for _, l := range strings.SplitAfter(data, "\n") {
		l = strings.TrimRight(l, "\r\n")
		f := strings.Fields(l)
		switch {
		case len(f) == 4 && f[0] == "===" && f[1] == "RUN":
			cur = &capturedRun{name: f[2], status: f[3]}
			b.Reset()
		case len(f) == 3 && f[0] == "===" && f[1] == "STDERR" && cur != nil:
			cur.out = b.String()
			b.Reset()
		case len(f) == 3 && f[0] == "===" && f[1] == "END" && cur != nil:
			cur.stderr = b.String()
			runs = append(runs, *cur)
			cur = nil
		default:
			if cur != nil {
				b.WriteString(l + "\n")
			}
		}
	}
	return runs
}
