package lang

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/target"
)

// AttachPoint is one concrete place a probe attaches: a ProbeSpec after
// wildcard expansion and kernel fallbacks. Each gets its own BPF program.
type AttachPoint struct {
	Spec *ProbeSpec
	Kind string // canonical probe kind actually attached
	Name string // full name, as the probe builtin prints it

	Category, Event string // tracepoint
	Func            string // kprobe/uprobe/fentry function, rawtracepoint event
	Path            string // uprobe binary (resolved: "libc" → /lib/.../libc.so.6)
	Offset          uint64 // kprobe/uprobe +offset
	Address         uint64 // uprobe:bin:0xADDR: the virtual address given
	// FileOffset is where in Path a uprobe attaches: the function's (or
	// address's) offset in the file, plus Offset.
	FileOffset uint64
	Unit       string // interval/profile: "s", "ms", "us", "hz"
	Period     uint64 // interval/profile/software/hardware count
	// PerfEvent is the software/hardware event's canonical name
	// ("cpu-clock"); Period 0 means its default period.
	PerfEvent string
	// Wildcard is set on a kprobe whose function is a pattern that could
	// not be expanded (a kernel without kprobes): it compiles, and fails
	// to attach.
	Wildcard bool

	// Format is the tracepoint's record layout (tracepoints only).
	Format *kernel.TracepointFormat
	// SyscallArgs is set when a kprobe:sys_X was turned into a syscall
	// tracepoint: arg0..arg5 then read the tracepoint's argument slots.
	SyscallArgs bool
	// SyscallWrapper is set when kprobe:sys_X attaches to the
	// architecture's syscall entry (__x64_sys_X), whose one argument is
	// the user's registers: arg0..arg5 are the syscall's own arguments,
	// read from there.
	SyscallWrapper bool
	// Warning is printed once on stderr (e.g. the kprobe fallback).
	Warning string
	// USDT is the probe's note (usdt probes): where its arguments live and
	// its semaphore.
	USDT *kernel.USDTProbe
	// Proto is the traced function's BTF prototype (fentry/fexit), set when
	// the script reads args: args->name is parameter name.
	Proto *btf.FuncProto
}

// HasArgN reports whether arg0..arg5 mean something here.
func (ap *AttachPoint) HasArgN() bool {
	switch ap.Kind {
	case "kprobe", "uprobe", "rawtracepoint", "usdt":
		return true
	case "tracepoint":
		return ap.SyscallArgs && strings.HasPrefix(ap.Event, "sys_enter_")
	}
	return false
}

// HasRetval reports whether retval means something here.
func (ap *AttachPoint) HasRetval() bool {
	switch ap.Kind {
	case "kretprobe", "uretprobe", "fexit":
		return true
	case "tracepoint":
		return ap.SyscallArgs && strings.HasPrefix(ap.Event, "sys_exit_")
	}
	return false
}

// expandSpec resolves one ProbeSpec into attach points against the kernel.
func (c *checker) expandSpec(s *ProbeSpec) []*AttachPoint {
	bad := func(format string, args ...any) []*AttachPoint {
		c.errorf(s, format, args...)
		return nil
	}
	want := func(n int, form string) bool {
		if len(s.Parts) != n {
			c.errorf(s, "%s probe must look like %s", s.Kind, form)
			return false
		}
		return true
	}
	switch s.Kind {
	case "BEGIN", "END":
		if len(s.Parts) != 0 {
			return bad("%s takes no arguments", s.Kind)
		}
		return []*AttachPoint{{Spec: s, Kind: s.Kind, Name: s.Kind}}

	case "tracepoint":
		if !want(2, "tracepoint:category:event") {
			return nil
		}
		return c.tracepoints(s, s.Parts[0], s.Parts[1], false)

	case "kprobe", "kretprobe":
		if len(s.Parts) == 2 {
			// kprobe:module:function, as newer bpftrace writes it.
			s = &ProbeSpec{Kind: s.Kind, Parts: s.Parts[1:], Raw: s.Raw, Span: s.Span}
		}
		if !want(1, s.Kind+":function[+offset]") {
			return nil
		}
		fn, off, err := splitOffset(s.Parts[0])
		if err != nil {
			return bad("%v", err)
		}
		if fn == "" {
			return bad("%s needs a kernel function name", s.Kind)
		}
		if off != 0 && s.Kind == "kretprobe" {
			return bad("kretprobe cannot take an offset: it fires when the function returns")
		}
		if msg := bannedKretprobe(s.Kind, fn); msg != "" {
			return bad("%s", msg)
		}
		wild := kernel.HasWildcard(fn)
		if wild && off != 0 {
			return bad("a wildcard kprobe cannot take an offset")
		}
		if !c.env.target().Has(target.Kprobes) {
			if name, ok := strings.CutPrefix(fn, "sys_"); ok && off == 0 {
				event := "sys_enter_" + name
				if s.Kind == "kretprobe" {
					event = "sys_exit_" + name
				}
				aps := c.tracepoints(s, "syscalls", event, true)
				for _, ap := range aps {
					// A wildcard warns once, naming the wildcard.
					ap.Warning = fmt.Sprintf("WARNING: this kernel has no kprobes; %s:%s attaches to tracepoint:syscalls:%s instead", s.Kind, fn, event)
				}
				return aps
			}
			// Nothing to expand against: one program, which compiles
			// and is verified, and fails to attach.
			return []*AttachPoint{{Spec: s, Kind: s.Kind, Func: fn, Offset: off, Wildcard: wild, Name: s.Kind + ":" + s.Parts[0]}}
		}
		if wild {
			funcs, err := c.env.target().TraceableFunctions()
			if err != nil {
				return bad("cannot list the kernel's traceable functions: %v", err)
			}
			var aps []*AttachPoint
			for _, f := range funcs {
				if kernel.Glob(fn, f) {
					aps = append(aps, &AttachPoint{Spec: s, Kind: s.Kind, Func: f, Name: s.Kind + ":" + f})
				}
			}
			if len(aps) == 0 {
				// As in bpftrace, a wildcard that matches nothing here
				// (dcsnoop's lookup_fast.constprop.*, where the
				// compiler made no such clone) is skipped, and is an
				// error only when no probe of the script is left.
				ap := missing(s, fmt.Sprintf("no kernel function matches %s; list them with: gotrace -l '%s:*'", fn, s.Kind))
				ap.Wildcard = true
				return []*AttachPoint{ap}
			}
			return aps
		}
		ap := &AttachPoint{Spec: s, Kind: s.Kind, Func: fn, Offset: off, Name: s.Kind + ":" + s.Parts[0]}
		if strings.HasPrefix(fn, "sys_") {
			// Syscalls are entered through the architecture's wrapper
			// (__x64_sys_clone): kprobe:sys_clone means that function.
			funcs, err := c.env.target().TraceableFunctions()
			if err == nil && !hasString(funcs, fn) && hasString(funcs, SyscallPrefix+fn) {
				ap.Func, ap.SyscallWrapper = SyscallPrefix+fn, true
			}
		}
		return []*AttachPoint{ap}

	case "interval", "profile":
		if !want(2, s.Kind+":unit:count (units: s, ms, us, hz)") {
			return nil
		}
		n, err := parseCount(s.Parts[1])
		if err != nil || n == 0 {
			return bad("%s count must be a positive integer, got %q", s.Kind, s.Parts[1])
		}
		unit := s.Parts[0]
		var period uint64
		switch unit {
		case "s":
			period = n * 1e9
		case "ms":
			period = n * 1e6
		case "us":
			period = n * 1e3
		case "hz":
			period = n
		default:
			return bad("%s unit must be s, ms, us or hz, got %q", s.Kind, unit)
		}
		return []*AttachPoint{{Spec: s, Kind: s.Kind, Unit: unit, Period: period,
			Name: s.Kind + ":" + unit + ":" + s.Parts[1]}}

	case "software", "hardware":
		if len(s.Parts) < 1 || len(s.Parts) > 2 || s.Parts[0] == "" {
			return bad("%s probe must look like %s:event[:count], e.g. %s", s.Kind, s.Kind,
				map[string]string{"software": "software:cpu-clock:100000", "hardware": "hardware:cycles:1000000"}[s.Kind])
		}
		lookup := kernel.LookupSoftwareEvent
		if s.Kind == "hardware" {
			lookup = kernel.LookupHardwareEvent
		}
		ev, ok := lookup(s.Parts[0])
		if !ok {
			return bad("unknown %s event '%s'; list them with: gotrace -l '%s:*'", s.Kind, s.Parts[0], s.Kind)
		}
		var period uint64
		if len(s.Parts) == 2 && s.Parts[1] != "" {
			n, err := parseCount(s.Parts[1])
			if err != nil || n == 0 {
				return bad("%s count must be a positive integer, got %q", s.Kind, s.Parts[1])
			}
			period = n
		}
		return []*AttachPoint{{Spec: s, Kind: s.Kind, PerfEvent: ev.Name, Period: period,
			Name: s.Kind + ":" + strings.Join(s.Parts, ":")}}

	case "rawtracepoint":
		if len(s.Parts) < 1 || len(s.Parts) > 2 || s.Parts[len(s.Parts)-1] == "" {
			return bad("rawtracepoint probe must look like rawtracepoint:event")
		}
		ev := s.Parts[len(s.Parts)-1]
		if !kernel.HasWildcard(ev) {
			return []*AttachPoint{{Spec: s, Kind: s.Kind, Func: ev, Name: "rawtracepoint:" + ev}}
		}
		cat := "*"
		if len(s.Parts) == 2 {
			cat = s.Parts[0]
		}
		matches, err := c.env.target().MatchTracepoints(cat, ev)
		if err != nil {
			return bad("%v", err)
		}
		seen := map[string]bool{}
		var aps []*AttachPoint
		for _, m := range matches {
			_, e, _ := strings.Cut(m, ":")
			if !seen[e] {
				seen[e] = true
				aps = append(aps, &AttachPoint{Spec: s, Kind: s.Kind, Func: e, Name: "rawtracepoint:" + e})
			}
		}
		if len(aps) == 0 {
			return bad("no raw tracepoint matches %s", ev)
		}
		return aps

	case "uprobe", "uretprobe":
		if !want(2, s.Kind+":/path/to/binary:function (or library:function, or binary:0xADDRESS)") {
			return nil
		}
		return c.uprobes(s)

	case "fentry", "fexit":
		if len(s.Parts) < 1 || len(s.Parts) > 2 || s.Parts[len(s.Parts)-1] == "" {
			return bad("%s probe must look like %s:function", s.Kind, s.Kind)
		}
		fn := s.Parts[len(s.Parts)-1]
		return []*AttachPoint{{Spec: s, Kind: s.Kind, Func: fn, Wildcard: kernel.HasWildcard(fn),
			Name: s.Kind + ":" + strings.Join(s.Parts, ":")}}

	case "usdt":
		return c.usdts(s)
	case "watchpoint", "asyncwatchpoint":
		return bad("%s probes are not supported yet", s.Kind)
	}
	return bad("%s probes are not supported yet", s.Kind)
}

// uprobes expands uprobe:TARGET:FUNC: the target is resolved to binaries
// (paths, library short names, wildcards), the function to symbols
// (wildcards, +offset) or to an address.
func (c *checker) uprobes(s *ProbeSpec) []*AttachPoint {
	target, fnSpec := s.Parts[0], s.Parts[1]
	if fnSpec == "" {
		c.errorf(s, "%s needs a function: %s:%s:function", s.Kind, s.Kind, target)
		return nil
	}
	paths, err := c.env.target().ResolveBinary(target, c.env.PID)
	if err != nil {
		c.errorf(s, "%v", err)
		return nil
	}
	fn, off, err := splitOffset(fnSpec)
	if err != nil {
		c.errorf(s, "%v", err)
		return nil
	}
	if off != 0 && s.Kind == "uretprobe" {
		c.errorf(s, "uretprobe cannot take an offset: it fires when the function returns")
		return nil
	}
	var aps []*AttachPoint
	for _, path := range paths {
		bin, err := c.env.target().ELF(path)
		if err != nil {
			c.errorf(s, "%v", err)
			return nil
		}
		newAP := func(sym string, fileOff uint64, name string) *AttachPoint {
			return &AttachPoint{Spec: s, Kind: s.Kind, Path: path, Func: sym, Offset: off,
				FileOffset: fileOff, Name: s.Kind + ":" + path + ":" + name}
		}
		switch {
		case isAddress(fn):
			addr, err := strconv.ParseUint(fn, 0, 64)
			if err != nil {
				c.errorf(s, "bad address %q", fn)
				return nil
			}
			fo, err := bin.AddressOffset(addr + off)
			if err != nil {
				c.errorf(s, "%v", err)
				return nil
			}
			sym := fn
			if in, ok := bin.SymbolAt(addr + off); ok {
				sym = in.Name
			}
			ap := newAP(sym, fo, fnSpec)
			ap.Address = addr
			aps = append(aps, ap)
		case kernel.HasWildcard(fn):
			if off != 0 {
				c.errorf(s, "a wildcard uprobe cannot take an offset")
				return nil
			}
			for _, sym := range bin.Match(fn) {
				aps = append(aps, newAP(sym.Name, sym.Offset, sym.Name))
			}
		default:
			if _, ok := bin.Lookup(fn); !ok {
				if !strings.Contains(target, "/") {
					// A library named by its short name may have
					// handed the function to one it links to
					// (glibc 2.34 moved libpthread into libc).
					if dep, depBin := c.inNeededLib(bin, fn); depBin != nil {
						bin, path = depBin, dep
						_, fo, err := bin.FuncOffset(fn, off)
						if err != nil {
							c.errorf(s, "%v", err)
							return nil
						}
						ap := newAP(fn, fo, fnSpec)
						ap.Path = dep
						ap.Name = s.Kind + ":" + dep + ":" + fnSpec
						ap.Warning = fmt.Sprintf("WARNING: %s is not in %s but in %s, which it links to: %s attaches there", fn, paths[0], dep, s.Raw)
						aps = append(aps, ap)
						continue
					}
				}
				// As in bpftrace, a missing function is not fatal while
				// the probe has other attach points (see dropMissing).
				return []*AttachPoint{missing(s, bin.NotFound(fn).Error())}
			}
			_, fo, err := bin.FuncOffset(fn, off)
			if err != nil {
				c.errorf(s, "%v", err)
				return nil
			}
			aps = append(aps, newAP(fn, fo, fnSpec))
		}
	}
	if len(aps) == 0 {
		return []*AttachPoint{missing(s, fmt.Sprintf("no function matches %s in %s; list them with: gotrace -l '%s:%s:*'", fn, strings.Join(paths, ", "), s.Kind, paths[0]))}
	}
	return aps
}

// missingKind marks a placeholder attach point: a spec that matched
// nothing. dropMissing removes it.
const missingKind = "missing"

func missing(s *ProbeSpec, why string) *AttachPoint {
	return &AttachPoint{Spec: s, Kind: missingKind, Name: s.String(), Warning: why}
}

// dropMissing removes the specs of a probe that matched nothing. When the
// probe has other attach points each is a warning ("WARNING: ...; skipping
// SPEC"), carried by the first of them; when nothing is left it is an error.
func (c *checker) dropMissing(aps []*AttachPoint) []*AttachPoint {
	var kept, gone []*AttachPoint
	for _, ap := range aps {
		if ap.Kind == missingKind {
			gone = append(gone, ap)
		} else {
			kept = append(kept, ap)
		}
	}
	if len(gone) == 0 {
		return aps
	}
	if len(kept) == 0 {
		for _, ap := range gone {
			if ap.Wildcard {
				// Dropped, unless no probe is left (see emptyWildcards).
				c.emptyWildcards = append(c.emptyWildcards, ap)
				continue
			}
			c.errorf(ap.Spec, "%s", ap.Warning)
		}
		return nil
	}
	var warns []string
	if kept[0].Warning != "" {
		warns = append(warns, kept[0].Warning)
	}
	for _, ap := range gone {
		warns = append(warns, fmt.Sprintf("WARNING: %s; skipping %s", ap.Warning, ap.Spec.Raw))
	}
	kept[0].Warning = strings.Join(warns, "\n")
	return kept
}

// dropEmptyWildcards handles the probes whose every spec is a wildcard
// that matched nothing: when other probes have attach points, each is a
// warning (carried by the first attach point of the script) and the probe
// stays without programs; when none do, each is an error.
func (c *checker) dropEmptyWildcards() {
	if len(c.emptyWildcards) == 0 {
		return
	}
	for _, pi := range c.info.Probes {
		if len(pi.Attach) == 0 {
			continue
		}
		first := pi.Attach[0]
		warns := []string{}
		if first.Warning != "" {
			warns = append(warns, first.Warning)
		}
		for _, ap := range c.emptyWildcards {
			warns = append(warns, fmt.Sprintf("WARNING: %s; skipping %s", ap.Warning, ap.Spec.Raw))
		}
		first.Warning = strings.Join(warns, "\n")
		return
	}
	for _, ap := range c.emptyWildcards {
		c.errorf(ap.Spec, "%s", ap.Warning)
	}
}

// inNeededLib looks for function fn in the libraries bin links to.
func (c *checker) inNeededLib(bin *kernel.ELFBinary, fn string) (string, *kernel.ELFBinary) {
	for _, soname := range bin.Needed {
		paths, err := c.env.target().ResolveBinary(soname, c.env.PID)
		if err != nil {
			continue
		}
		dep, err := c.env.target().ELF(paths[0])
		if err != nil {
			continue
		}
		if _, ok := dep.Lookup(fn); ok {
			return paths[0], dep
		}
	}
	return "", nil
}

// isAddress reports whether a uprobe function part is a number (an address
// in the binary) rather than a symbol.
func isAddress(fn string) bool {
	return fn != "" && fn[0] >= '0' && fn[0] <= '9'
}

// parseCount parses a probe count: an integer (0x, 1_000 allowed) or an
// integral float such as 1e6.
func parseCount(s string) (uint64, error) {
	t := strings.ReplaceAll(s, "_", "")
	if n, err := strconv.ParseUint(t, 0, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f != float64(uint64(f)) || strings.ContainsAny(t, "xXpP") {
		return 0, fmt.Errorf("not a count: %q", s)
	}
	return uint64(f), nil
}

func (c *checker) tracepoints(s *ProbeSpec, cat, event string, syscallArgs bool) []*AttachPoint {
	var names [][2]string
	if strings.ContainsAny(cat+event, "*?[") {
		matches, err := c.env.target().MatchTracepoints(cat, event)
		if err != nil {
			c.errorf(s, "%v", err)
			return nil
		}
		if len(matches) == 0 {
			c.errorf(s, "no tracepoint matches %s:%s; list them with: gotrace -l 'tracepoint:%s:*'", cat, event, cat)
			return nil
		}
		for _, m := range matches {
			c2, e2, _ := strings.Cut(m, ":")
			names = append(names, [2]string{c2, e2})
		}
	} else {
		names = [][2]string{{cat, event}}
	}
	var aps []*AttachPoint
	for _, n := range names {
		f, err := c.env.target().TracepointFormat(n[0], n[1])
		if err != nil {
			if syscallArgs {
				c.errorf(s, "this kernel has no kprobes and no syscall tracepoint %s:%s to fall back to", n[0], n[1])
			} else {
				c.errorf(s, "%v", err)
			}
			return nil
		}
		aps = append(aps, &AttachPoint{Spec: s, Kind: "tracepoint", Category: n[0], Event: n[1],
			Format: f, SyscallArgs: syscallArgs, Name: "tracepoint:" + n[0] + ":" + n[1]})
	}
	return aps
}

// splitOffset splits "func+0x10" into its parts.
func splitOffset(s string) (string, uint64, error) {
	fn, offs, ok := strings.Cut(s, "+")
	if !ok {
		return s, 0, nil
	}
	off, err := strconv.ParseUint(offs, 0, 64)
	if err != nil {
		return "", 0, fmt.Errorf("bad offset %q in %s", offs, s)
	}
	return fn, off, nil
}

// usdts expands usdt:BINARY:[PROVIDER:]NAME against the binary's SDT notes.
// Provider and name may be wildcards; each matching note is one attach point.
func (c *checker) usdts(s *ProbeSpec) []*AttachPoint {
	if len(s.Parts) < 2 || len(s.Parts) > 3 {
		c.errorf(s, "usdt probe must look like usdt:/path/to/binary:provider:name")
		return nil
	}
	target, provider, name := s.Parts[0], "*", s.Parts[len(s.Parts)-1]
	if len(s.Parts) == 3 {
		provider = s.Parts[1]
	}
	paths, err := c.env.target().ResolveBinary(target, c.env.PID)
	if err != nil {
		c.errorf(s, "%v", err)
		return nil
	}
	var aps []*AttachPoint
	for _, path := range paths {
		probes, err := c.env.target().USDTProbes(path)
		if err != nil {
			c.errorf(s, "%v", err)
			return nil
		}
		for i := range probes {
			p := &probes[i]
			if !kernel.Glob(provider, p.Provider) || !kernel.Glob(name, p.Name) {
				continue
			}
			aps = append(aps, &AttachPoint{Spec: s, Kind: "usdt", Path: path, Func: p.Name,
				FileOffset: p.FileOffset, USDT: p,
				Name: "usdt:" + path + ":" + p.Provider + ":" + p.Name})
		}
	}
	if len(aps) == 0 {
		c.errorf(s, "no USDT probe %s:%s in %s; list them with: gotrace -l 'usdt:%s:*'", provider, name, target, target)
	}
	return aps
}

// USDTArg is where a USDT argument lives, as the probe's note says. Code
// generation reads it from the attach point through these names, so that
// it needs nothing from the package that reads the machine.
type USDTArg = kernel.USDTArg

const (
	USDTRegister  = kernel.USDTRegister
	USDTMemory    = kernel.USDTMemory
	USDTImmediate = kernel.USDTImmediate
)

// SyscallPrefix is what the architecture's syscall entry functions are
// called before sys_NAME (x86-64).
const SyscallPrefix = "__x64_"

// hasString reports whether sorted holds s.
func hasString(sorted []string, s string) bool {
	i := sort.SearchStrings(sorted, s)
	return i < len(sorted) && sorted[i] == s
}
