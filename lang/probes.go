package lang

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gotrace/gotrace/kernel"
)

// AttachPoint is one concrete place a probe attaches: a ProbeSpec after
// wildcard expansion and kernel fallbacks. Each gets its own BPF program.
type AttachPoint struct {
	Spec *ProbeSpec
	Kind string // canonical probe kind actually attached
	Name string // full name, as the probe builtin prints it

	Category, Event string // tracepoint
	Func            string // kprobe/uprobe function, rawtracepoint event
	Path            string // uprobe binary
	Offset          uint64 // kprobe/uprobe +offset
	Unit            string // interval/profile: "s", "ms", "us", "hz"
	Period          uint64 // interval/profile/software/hardware count

	// Format is the tracepoint's record layout (tracepoints only).
	Format *kernel.TracepointFormat
	// SyscallArgs is set when a kprobe:sys_X was turned into a syscall
	// tracepoint: arg0..arg5 then read the tracepoint's argument slots.
	SyscallArgs bool
	// Warning is printed once on stderr (e.g. the kprobe fallback).
	Warning string
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
		if !want(1, s.Kind+":function[+offset]") {
			return nil
		}
		fn, off, err := splitOffset(s.Parts[0])
		if err != nil {
			return bad("%v", err)
		}
		if !c.env.haveKprobes() {
			if name, ok := strings.CutPrefix(fn, "sys_"); ok && off == 0 {
				event := "sys_enter_" + name
				if s.Kind == "kretprobe" {
					event = "sys_exit_" + name
				}
				aps := c.tracepoints(s, "syscalls", event, true)
				for _, ap := range aps {
					ap.Warning = fmt.Sprintf("WARNING: this kernel has no kprobes; %s:%s attaches to tracepoint:syscalls:%s instead", s.Kind, fn, ap.Event)
				}
				return aps
			}
		}
		name := s.Kind + ":" + fn
		return []*AttachPoint{{Spec: s, Kind: s.Kind, Func: fn, Offset: off, Name: name}}

	case "interval", "profile":
		if !want(2, s.Kind+":unit:count (units: s, ms, us, hz)") {
			return nil
		}
		n, err := strconv.ParseUint(s.Parts[1], 0, 64)
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

	case "rawtracepoint":
		if len(s.Parts) < 1 || len(s.Parts) > 2 {
			return bad("rawtracepoint probe must look like rawtracepoint:event")
		}
		ev := s.Parts[len(s.Parts)-1]
		return []*AttachPoint{{Spec: s, Kind: s.Kind, Func: ev, Name: "rawtracepoint:" + ev}}

	case "uprobe", "uretprobe":
		if !want(2, s.Kind+":/path/to/binary:function") {
			return nil
		}
		fn, off, err := splitOffset(s.Parts[1])
		if err != nil {
			return bad("%v", err)
		}
		return []*AttachPoint{{Spec: s, Kind: s.Kind, Path: s.Parts[0], Func: fn, Offset: off,
			Name: s.Kind + ":" + s.Parts[0] + ":" + s.Parts[1]}}
	}
	return bad("%s probes are not supported yet", s.Kind)
}

func (c *checker) tracepoints(s *ProbeSpec, cat, event string, syscallArgs bool) []*AttachPoint {
	var names [][2]string
	if strings.ContainsAny(cat+event, "*?[") {
		matches, err := c.env.matchTracepoints(cat, event)
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
		f, err := c.env.tracepointFormat(n[0], n[1])
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
