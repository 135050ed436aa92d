package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

var eventsCache struct {
	mu     sync.Mutex
	events []string // sorted "cat:name"
}

// Tracepoints returns every tracepoint of the kernel as "CAT:NAME", sorted
// byte-wise. It reads tracefs' available_events, or walks events/ when that
// file cannot be read. The result is cached; do not modify it.
func Tracepoints() ([]string, error) {
	eventsCache.mu.Lock()
	defer eventsCache.mu.Unlock()
	if eventsCache.events != nil {
		return eventsCache.events, nil
	}
	events, err := ReadTracepoints()
	if err != nil {
		return nil, err
	}
	eventsCache.events = events
	return events, nil
}

// ReadTracepoints is Tracepoints, read anew from tracefs.
func ReadTracepoints() ([]string, error) {
	dir, err := TracefsDir()
	if err != nil {
		return nil, err
	}
	var events []string
	if data, err := os.ReadFile(filepath.Join(dir, "available_events")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if strings.Count(line, ":") == 1 && !strings.HasPrefix(line, ":") && !strings.HasSuffix(line, ":") {
				events = append(events, line)
			}
		}
	} else {
		events, err = walkEvents(filepath.Join(dir, "events"))
		if err != nil {
			return nil, fmt.Errorf("cannot list tracepoints: %v", err)
		}
	}
	sort.Strings(events)
	events = dedupSorted(events)
	if events == nil {
		events = []string{}
	}
	return events, nil
}

func walkEvents(eventsDir string) ([]string, error) {
	cats, err := os.ReadDir(eventsDir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cats {
		// ftrace's internal events are not tracepoints one can attach to.
		if !c.IsDir() || c.Name() == "ftrace" {
			continue
		}
		names, err := os.ReadDir(filepath.Join(eventsDir, c.Name()))
		if err != nil {
			continue
		}
		for _, n := range names {
			if !n.IsDir() {
				continue
			}
			if _, err := os.Stat(filepath.Join(eventsDir, c.Name(), n.Name(), "format")); err == nil {
				out = append(out, c.Name()+":"+n.Name())
			}
		}
	}
	return out, nil
}

func dedupSorted(s []string) []string {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// TracepointExists reports whether tracepoint cat:name exists.
func TracepointExists(cat, name string) bool {
	all, err := Tracepoints()
	if err == nil {
		key := cat + ":" + name
		i := sort.SearchStrings(all, key)
		if i < len(all) && all[i] == key {
			return true
		}
	}
	dir, err := TracefsDir()
	if err != nil || strings.ContainsAny(cat+name, "/\x00") || cat == "" || name == "" {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "events", cat, name, "format"))
	return err == nil
}

// ListTracepoints returns the tracepoints whose "CAT:NAME" matches glob (see
// Glob; "" matches all), sorted.
func ListTracepoints(glob string) ([]string, error) {
	all, err := Tracepoints()
	if err != nil {
		return nil, err
	}
	if glob == "" {
		return append([]string(nil), all...), nil
	}
	var out []string
	for _, ev := range all {
		if Glob(glob, ev) {
			out = append(out, ev)
		}
	}
	return out, nil
}

// MatchTracepoints returns the tracepoints whose category matches catGlob and
// whose name matches nameGlob, as "CAT:NAME", sorted. It is how a wildcard
// probe such as tracepoint:syscalls:sys_enter_* expands.
func MatchTracepoints(catGlob, nameGlob string) ([]string, error) {
	all, err := Tracepoints()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ev := range all {
		cat, name, _ := strings.Cut(ev, ":")
		if Glob(catGlob, cat) && Glob(nameGlob, name) {
			out = append(out, ev)
		}
	}
	return out, nil
}

var kfuncCache struct {
	mu    sync.Mutex
	funcs []string
}

// traceableFunctions returns the kernel functions kprobes can attach to
// (available_filter_functions without module suffixes and .part. clones).
// It returns nothing when the kernel has no kprobes.
func traceableFunctions() []string {
	if !HaveKprobes() {
		return nil
	}
	kfuncCache.mu.Lock()
	defer kfuncCache.mu.Unlock()
	if kfuncCache.funcs != nil {
		return kfuncCache.funcs
	}
	funcs, err := ReadTraceableFunctions()
	if err != nil {
		return nil
	}
	kfuncCache.funcs = funcs
	return funcs
}

// ReadTraceableFunctions reads the kernel functions kprobes can attach to
// from tracefs' available_filter_functions, sorted.
func ReadTraceableFunctions() ([]string, error) {
	p, err := tracefsFile("available_filter_functions")
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParseFilterFunctions(data), nil
}

// ParseFilterFunctions parses available_filter_functions: one function a
// line, perhaps followed by " [module]"; .part. clones are left out.
func ParseFilterFunctions(data []byte) []string {
	var funcs []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			line = line[:i] // drop " [module]"
		}
		if line == "" || strings.Contains(line, ".part.") {
			continue
		}
		funcs = append(funcs, line)
	}
	sort.Strings(funcs)
	funcs = dedupSorted(funcs)
	if funcs == nil {
		funcs = []string{}
	}
	return funcs
}

// TraceableFunctions returns the kernel functions kprobes can attach to,
// sorted (none when the kernel has no kprobes). Do not modify the result.
func TraceableFunctions() []string { return traceableFunctions() }

// IsTraceableFunction reports whether kprobes can attach to the kernel
// function name (it is in available_filter_functions).
func IsTraceableFunction(name string) bool {
	funcs := traceableFunctions()
	i := sort.SearchStrings(funcs, name)
	return i < len(funcs) && funcs[i] == name
}

// probeTypeAliases maps every spelling ListProbes accepts to the canonical
// probe type name it lists.
var probeTypeAliases = map[string]string{
	"tracepoint": "tracepoint", "t": "tracepoint",
	"software": "software", "s": "software",
	"hardware": "hardware", "h": "hardware",
	"kprobe": "kprobe", "k": "kprobe",
	"kretprobe": "kretprobe", "kr": "kretprobe",
	"uprobe": "uprobe", "u": "uprobe",
	"uretprobe": "uretprobe", "ur": "uretprobe",
	"usdt": "usdt", "U": "usdt",
}

// listableTypes are the probe types a wildcard probe type expands to, in
// output order (bpftrace sorts them by name; kretprobe is not listed on its
// own, as in bpftrace).
func listableTypes() []string {
	types := []string{"hardware"}
	if HaveKprobes() {
		types = append(types, "kprobe")
	}
	return append(types, "software", "tracepoint")
}

// MatchProbes returns the probes matching a `-l` pattern, in the order
// `bpftrace -l` prints them: "tracepoint:CAT:NAME", "software:NAME:",
// "hardware:NAME:", and "kprobe:FUNC" when the kernel has kprobes. The
// pattern is TYPE:REST with TYPE a probe type or alias (t, s, h, k) or a
// glob over type names, or just REST (all types), or empty (everything).
// An unknown probe type matches nothing.
func MatchProbes(pattern string) ([]string, error) {
	return MatchProbesPID(pattern, 0)
}

// MatchProbesPID is MatchProbes for `-l -p PID`: uprobe targets given by
// short name ("libc") are looked up in the process's maps first, and a
// pattern that does not name a uprobe binary ("", "*malloc*",
// "uprobe:*:read*") lists the functions of every ELF file the process has
// mapped, as "uprobe:PATH:FUNC".
func MatchProbesPID(pattern string, pid int) ([]string, error) {
	if pid > 0 && !namesUprobeTarget(pattern) {
		return matchProcessUprobes(pattern, pid)
	}
	typ, rest := "*", "*"
	if pattern != "" {
		if i := strings.IndexByte(pattern, ':'); i >= 0 {
			typ, rest = pattern[:i], pattern[i+1:]
		} else if _, ok := probeTypeAliases[pattern]; ok {
			typ = pattern
		} else {
			rest = pattern
		}
	}
	var types []string
	if HasWildcard(typ) {
		listable := listableTypes()
		if target, _, _ := strings.Cut(rest, ":"); strings.Contains(target, "/") {
			// "*:./prog:*": the probes of a file too, as bpftrace
			// lists them (uprobes, then USDT probes).
			listable = append(listable, "uprobe", "usdt")
		}
		for _, t := range listable {
			if Glob(typ, t) {
				types = append(types, t)
			}
		}
	} else if t, ok := probeTypeAliases[typ]; ok {
		types = []string{t}
	}
	var out []string
	for _, t := range types {
		m, err := matchProbesOfType(t, rest, pid)
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	return out, nil
}

func matchProbesOfType(typ, rest string, pid int) ([]string, error) {
	var out []string
	switch typ {
	case "tracepoint":
		if rest == "" {
			return nil, nil
		}
		var evs []string
		var err error
		if cat, name, ok := strings.Cut(rest, ":"); ok {
			evs, err = MatchTracepoints(cat, name)
		} else {
			// One word ("sys_enter_open*", "*sched*") matches the
			// event's name in any category, or CAT:NAME whole.
			var all []string
			all, err = ListTracepoints("")
			for _, ev := range all {
				_, name, _ := strings.Cut(ev, ":")
				if Glob(rest, name) || Glob(rest, ev) {
					evs = append(evs, ev)
				}
			}
		}
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			out = append(out, "tracepoint:"+ev)
		}
	case "software", "hardware":
		events := SoftwareEvents
		if typ == "hardware" {
			events = HardwareEvents
		}
		name, _, _ := strings.Cut(rest, ":")
		var names []string
		for _, ev := range events {
			for _, n := range []string{ev.Name, ev.Alias} {
				if n != "" && Glob(name, n) {
					names = append(names, n+":")
				}
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, typ+":"+n)
		}
	case "uprobe", "uretprobe":
		target, fn, ok := strings.Cut(rest, ":")
		if !ok || fn == "" {
			fn = "*"
		}
		paths, err := ResolveUprobeTarget(target, pid)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			b, err := OpenELFBinary(p)
			if err != nil {
				return nil, err
			}
			for _, s := range b.Match(fn) {
				out = append(out, typ+":"+p+":"+s.Name)
			}
		}
	case "usdt":
		// usdt:BINARY[:PROVIDER[:NAME]]
		parts := strings.SplitN(rest, ":", 3)
		provider, name := "*", "*"
		if len(parts) == 2 {
			name = parts[1]
		} else if len(parts) == 3 {
			provider, name = parts[1], parts[2]
		}
		paths, err := ResolveUprobeTarget(parts[0], pid)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			probes, err := USDTProbes(p)
			if err != nil {
				return nil, err
			}
			var names []string
			for _, u := range probes {
				if Glob(provider, u.Provider) && Glob(name, u.Name) {
					names = append(names, "usdt:"+p+":"+u.Provider+":"+u.Name)
				}
			}
			// Sorted, and each once (a probe may have several
			// locations), as bpftrace lists them.
			sort.Strings(names)
			out = append(out, dedupSorted(names)...)
		}
	case "kprobe", "kretprobe":
		for _, f := range traceableFunctions() {
			if Glob(rest, f) {
				out = append(out, typ+":"+f)
			}
		}
	}
	return out, nil
}

// namesUprobeTarget reports whether a -l pattern is uprobe:TARGET[:FUNC]
// (or uretprobe, usdt) with a TARGET free of wildcards.
func namesUprobeTarget(pattern string) bool {
	typ, rest, ok := strings.Cut(pattern, ":")
	if t := probeTypeAliases[typ]; !ok || t != "uprobe" && t != "uretprobe" && t != "usdt" {
		return false
	}
	target, _, _ := strings.Cut(rest, ":")
	return target != "" && !HasWildcard(target)
}

// matchProcessUprobes lists the uprobes, then the USDT probes, of every ELF
// file process pid has mapped whose full name matches pattern ("" matches
// all).
func matchProcessUprobes(pattern string, pid int) ([]string, error) {
	files, err := ProcessMappedFiles(pid)
	if err != nil {
		return nil, err
	}
	var out, usdts []string
	for _, f := range files {
		b, err := OpenELFBinary(f)
		if err != nil {
			continue
		}
		for _, s := range b.Funcs {
			name := "uprobe:" + f + ":" + s.Name
			if pattern == "" || Glob(pattern, name) {
				out = append(out, name)
			}
		}
		probes, _ := USDTProbes(f)
		var names []string
		for _, u := range probes {
			name := "usdt:" + f + ":" + u.Provider + ":" + u.Name
			if pattern == "" || Glob(pattern, name) {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		usdts = append(usdts, dedupSorted(names)...)
	}
	return append(out, usdts...), nil
}

// ListProbes prints the probes matching pattern (see MatchProbes) to w, one
// a line, like `bpftrace -l PATTERN`. With verbose, each tracepoint is
// followed by its argument fields indented by four spaces, like
// `bpftrace -lv`. No match prints nothing and is not an error.
func ListProbes(pattern string, verbose bool, w io.Writer) error {
	return ListProbesPID(pattern, verbose, 0, w)
}

// ListProbesPID is ListProbes for `-l -p PID` (see MatchProbesPID).
func ListProbesPID(pattern string, verbose bool, pid int, w io.Writer) error {
	probes, err := MatchProbesPID(pattern, pid)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for _, p := range probes {
		bw.WriteString(p)
		bw.WriteByte('\n')
		if verbose && strings.HasPrefix(p, "tracepoint:") {
			cat, name, _ := strings.Cut(strings.TrimPrefix(p, "tracepoint:"), ":")
			tf, err := ReadTracepointFormat(cat, name)
			if err != nil {
				continue
			}
			for _, f := range tf.Fields {
				if !f.Common {
					bw.WriteString("    ")
					bw.WriteString(f.Decl)
					bw.WriteByte('\n')
				}
			}
		}
	}
	return bw.Flush()
}
