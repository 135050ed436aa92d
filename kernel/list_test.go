package kernel

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true},
		{"*", "anything:at:all", true},
		{"", "", true},
		{"", "x", false},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"sys_enter_*", "sys_enter_openat", true},
		{"sys_enter_*", "sys_exit_openat", false},
		{"*open*", "sys_enter_openat", true},
		{"*open*", "sys_enter_close", false},
		{"*at", "sys_enter_openat", true},
		{"*at", "sys_enter_openat2", false},
		{"sys_enter_open*", "sys_enter_open", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"a*b*c", "abcbc", true},
		{"*a*a*a", "aaaa", true},
		{"*a*a*a*a*a", "aaaa", false},
		{"sys_?nter_*", "sys_enter_x", true},
		{"sys_?nter_*", "sys_nter_x", false},
		{"?", "", false},
		{"[abc]x", "bx", true},
		{"[abc]x", "dx", false},
		{"[a-c]x", "cx", true},
		{"[!a-c]x", "dx", true},
		{"[^a-c]x", "ax", false},
		{"[]]", "]", true},
		{"[ab", "[ab", true},
		{"[ab", "a", false},
		{"sched*", "sched:sched_switch", true},
		{"*:sched_switch", "sched:sched_switch", true},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Glob(c.pattern, c.name), "Glob(%q, %q)", c.pattern, c.name)
	}
	assert.True(t, HasWildcard("a*"))
	assert.True(t, HasWildcard("a?"))
	assert.True(t, HasWildcard("[a]"))
	assert.False(t, HasWildcard("sys_enter_openat"))
}

func TestMatchTracepoints(t *testing.T) {
	requireTracefs(t)
	enters, err := MatchTracepoints("syscalls", "sys_enter_*")
	require.NoError(t, err)
	require.Greater(t, len(enters), 200)
	assert.True(t, sort.StringsAreSorted(enters))
	assert.Contains(t, enters, "syscalls:sys_enter_openat")
	for _, e := range enters {
		assert.True(t, strings.HasPrefix(e, "syscalls:sys_enter_"), e)
	}

	one, err := MatchTracepoints("sched", "sched_switch")
	require.NoError(t, err)
	assert.Equal(t, []string{"sched:sched_switch"}, one)

	none, err := MatchTracepoints("syscalls", "sys_enter_opnat")
	require.NoError(t, err)
	assert.Empty(t, none)

	anyCat, err := MatchTracepoints("*", "sched_switch")
	require.NoError(t, err)
	assert.Equal(t, []string{"sched:sched_switch"}, anyCat)

	q, err := MatchTracepoints("sch?d", "sched_s?itch")
	require.NoError(t, err)
	assert.Equal(t, []string{"sched:sched_switch"}, q)

	all, err := ListTracepoints("")
	require.NoError(t, err)
	viaGlob, err := ListTracepoints("*")
	require.NoError(t, err)
	assert.Equal(t, all, viaGlob)
	raw, err := ListTracepoints("raw_syscalls:*")
	require.NoError(t, err)
	assert.Equal(t, []string{"raw_syscalls:sys_enter", "raw_syscalls:sys_exit"}, raw)
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(f)
		require.NoError(t, err)
		r = gz
	}
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(data)
}

func listOutput(t *testing.T, pattern string, verbose bool) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, ListProbes(pattern, verbose, &buf))
	return buf.String()
}

// dropDynamic removes from a listing the tracepoint categories that appear
// and disappear at run time (kprobe/uprobe events made through tracefs by
// tools running at the same time).
func dropDynamic(listing string) string {
	var out []string
	skipping := false
	for _, line := range strings.SplitAfter(listing, "\n") {
		if strings.HasPrefix(line, "tracepoint:") {
			cat, _, _ := strings.Cut(strings.TrimPrefix(line, "tracepoint:"), ":")
			skipping = cat == "uprobes" || cat == "kprobes" || cat == "bpftrace" || cat == "gotrace"
		}
		if !skipping {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}

// tracefsEvents reads the running kernel's own list of tracepoints,
// tracefs' available_events ("cat:name" lines), without gotrace's code.
func tracefsEvents(t *testing.T) []string {
	t.Helper()
	dir := requireTracefs(t)
	data, err := os.ReadFile(filepath.Join(dir, "available_events"))
	require.NoError(t, err)
	var events []string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			events = append(events, line)
		}
	}
	sort.Strings(events)
	require.NotEmpty(t, events)
	return events
}

// formatFields reads the argument declarations of tracepoint cat:name
// from its format file the simplest way: every "field:DECL;" but the
// common_ ones, in order. This is what bpftrace -lv prints
// (TestListVerboseFormatLikeBpftrace checks it on recorded formats).
func formatFields(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "field:")
		if !ok {
			continue
		}
		decl, _, _ := strings.Cut(rest, ";")
		f := strings.Fields(decl)
		if len(f) == 0 {
			continue
		}
		name, _, _ := strings.Cut(f[len(f)-1], "[")
		if !strings.HasPrefix(name, "common_") {
			out = append(out, decl)
		}
	}
	return out
}

// bpftraceListing is what bpftrace -l (-lv) prints for the tracepoints of
// events that match: "tracepoint:cat:name" lines in byte order, each with
// its argument declarations under -v.
func bpftraceListing(t *testing.T, dir string, events []string, match func(string) bool, verbose bool) string {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		if !match(e) {
			continue
		}
		b.WriteString("tracepoint:" + e + "\n")
		if !verbose {
			continue
		}
		cat, name, _ := strings.Cut(e, ":")
		text, err := os.ReadFile(filepath.Join(dir, "events", cat, name, "format"))
		if err != nil {
			continue // gone since available_events was read
		}
		for _, f := range formatFields(string(text)) {
			b.WriteString("    " + f + "\n")
		}
	}
	return b.String()
}

// gotrace -l and -lv list the running kernel's tracepoints, whatever its
// build, as bpftrace lists them: the expected listing is made from
// tracefs' own available_events and format files.
func TestListTracepointsMatchTracefs(t *testing.T) {
	dir := requireTracefs(t)
	events := tracefsEvents(t)
	typed := func(glob string) func(string) bool {
		return func(e string) bool { ok, _ := path.Match(glob, e); return ok }
	}
	cases := []struct {
		pattern string
		match   func(string) bool
		verbose bool
	}{
		{"tracepoint:*", typed("*"), false},
		{"tracepoint:*", typed("*"), true},
		{"tracepoint:syscalls:sys_enter_open*", typed("syscalls:sys_enter_open*"), false},
		{"tracepoint:syscalls:sys_enter_open*", typed("syscalls:sys_enter_open*"), true},
		{"t:syscalls:*open*", typed("syscalls:*open*"), false},
		{"tracepoint:sched:*", typed("sched:*"), true},
		// Without a probe type the pattern matches the whole probe name.
		{"*sched*", func(e string) bool { ok, _ := path.Match("*sched*", "tracepoint:"+e); return ok }, false},
	}
	for _, c := range cases {
		want := dropDynamic(bpftraceListing(t, dir, events, c.match, c.verbose))
		require.NotEmpty(t, want, c.pattern)
		got := dropDynamic(listOutput(t, c.pattern, c.verbose))
		assert.Equal(t, want, got, "gotrace -l%s %q", map[bool]string{true: "v"}[c.verbose], c.pattern)
	}
}

// The -lv declarations are what bpftrace 0.17 printed for the same format
// files, recorded in testdata/formats: arrays, __data_loc strings,
// pointers, kernel typedefs. No tracefs needed.
func TestListVerboseFormatLikeBpftrace(t *testing.T) {
	want := readTestdata(t, "bpftrace-lv-formats.txt")
	var got, simple strings.Builder
	for _, block := range strings.SplitAfter(want, "\n") {
		probe, ok := strings.CutPrefix(strings.TrimSuffix(block, "\n"), "tracepoint:")
		if !ok {
			continue
		}
		cat, name, _ := strings.Cut(probe, ":")
		text := readTestdata(t, filepath.Join("formats", cat, name, "format"))
		tf, err := ParseTracepointFormat(cat, name, text)
		require.NoError(t, err, probe)
		got.WriteString("tracepoint:" + probe + "\n")
		simple.WriteString("tracepoint:" + probe + "\n")
		for _, f := range tf.Fields {
			if !f.Common {
				got.WriteString("    " + f.Decl + "\n")
			}
		}
		for _, f := range formatFields(text) {
			simple.WriteString("    " + f + "\n")
		}
	}
	assert.Equal(t, want, got.String(), "the parsed declarations")
	assert.Equal(t, want, simple.String(), "the format-file rule TestListTracepointsMatchTracefs expects")
}

func TestListProbesPatterns(t *testing.T) {
	requireTracefs(t)
	lines := func(pattern string) []string {
		out := listOutput(t, pattern, false)
		if out == "" {
			return nil
		}
		return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	sw := []string{
		"software:alignment-faults:", "software:bpf-output:", "software:context-switches:",
		"software:cpu-clock:", "software:cpu-migrations:", "software:cpu:", "software:cs:",
		"software:dummy:", "software:emulation-faults:", "software:faults:",
		"software:major-faults:", "software:minor-faults:", "software:page-faults:",
		"software:task-clock:",
	}
	assert.Equal(t, sw, lines("software:*"))
	assert.Equal(t, sw, lines("s:*"))
	assert.Equal(t, sw, lines("software"))
	assert.Equal(t, []string{"software:cpu-clock:", "software:cpu-migrations:", "software:cpu:"}, lines("s:cpu*"))
	assert.Equal(t, []string{"software:cpu-clock:"}, lines("software:cpu-clock:1000"))
	hw := lines("hardware:*")
	assert.Len(t, hw, 12)
	assert.Contains(t, hw, "hardware:cycles:")
	assert.Contains(t, hw, "hardware:cpu-cycles:")
	assert.Equal(t, []string{"hardware:cycles:"}, lines("h:cycles"))

	assert.Equal(t, []string{"tracepoint:sched:sched_switch"}, lines("tracepoint:sched:sched_switch"))
	assert.Equal(t, []string{"tracepoint:sched:sched_switch"}, lines("t:*:sched_switch"))
	assert.Nil(t, lines("tracepoint:sched:sched_swi"))
	assert.Nil(t, lines("tracepoint:sched"))
	assert.Nil(t, lines("sched:*"), "unknown probe type")
	assert.Nil(t, lines("nosuchthing"))
	assert.Nil(t, lines("rawtracepoint:*"), "bpftrace 0.17 does not list raw tracepoints")

	everything := lines("")
	assert.Equal(t, everything, lines("*"))
	assert.Equal(t, everything, lines("*:*"))
	assert.Equal(t, "hardware:backend-stalls:", everything[0])
	tps, err := Tracepoints()
	require.NoError(t, err)
	nk := 0
	for _, l := range everything {
		if strings.HasPrefix(l, "kprobe:") {
			nk++
		}
	}
	if !HaveKprobes() {
		assert.Zero(t, nk)
		assert.Nil(t, lines("kprobe:*"))
		assert.Nil(t, lines("k:vfs_*"))
		assert.Len(t, everything, len(hw)+len(sw)+len(tps))
	}
	assert.True(t, sort.SliceIsSorted(everything, func(i, j int) bool {
		ti, _, _ := strings.Cut(everything[i], ":")
		tj, _, _ := strings.Cut(everything[j], ":")
		return ti < tj
	}), "probe types in name order")

	verbose := listOutput(t, "tracepoint:syscalls:sys_enter_openat", true)
	assert.Equal(t, "tracepoint:syscalls:sys_enter_openat\n    int __syscall_nr\n    int dfd\n    const char * filename\n    int flags\n    umode_t mode\n", verbose)
	// -v adds nothing to software probes.
	assert.Equal(t, "software:cpu-clock:\n", listOutput(t, "software:cpu-clock", true))
}

func TestHaveKprobes(t *testing.T) {
	dir := requireTracefs(t)
	_, err1 := os.Stat(filepath.Join(dir, "kprobe_events"))
	_, err2 := os.Stat("/sys/bus/event_source/devices/kprobe")
	assert.Equal(t, err1 == nil || err2 == nil, HaveKprobes())
	// This project's machines run a kernel without kprobes.
	if _, err := os.Stat("/sys/bus/event_source/devices/kprobe"); os.IsNotExist(err) {
		assert.False(t, HaveKprobes())
	}
	assert.True(t, HaveUprobes())
}
