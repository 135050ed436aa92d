package runtime

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"golang.org/x/sys/unix"
)

// Attached holds everything attaching created, so it can all be undone.
type Attached struct {
	links []link.Link
	// tracepoints are the links of tracepoint probes, whose perf events
	// Detach keeps open for Release.
	tracepoints []link.Link
	fds         []int      // perf events gotrace opened itself (interval, profile, ...)
	events      []*os.File // perf events left open by Detach
}

// Close detaches every probe and releases what attaching created.
func (a *Attached) Close() {
	a.Detach()
	a.Release(nil)
}

// Detach stops every probe: when it returns, no program runs any more.
//
// The kernel makes detaching wait. Unlinking a program from a tracepoint's
// perf event waits for an RCU tasks-trace grace period (~30 ms here), but
// those waits overlap, so every link is closed at once, each on its own
// goroutine. Closing the perf event itself then waits for two more grace
// periods, and those do not overlap (the kernel holds its event mutex
// across them): 361 tracepoints would take ten seconds. So Detach leaves
// the perf events open (and disabled), with no program on them, for
// Release.
func (a *Attached) Detach() {
	closers := make([]func(), 0, len(a.links)+len(a.tracepoints))
	for _, l := range a.links {
		closers = append(closers, func() { l.Close() })
	}
	var mu sync.Mutex
	for _, l := range a.tracepoints {
		closers = append(closers, func() {
			// A second descriptor keeps the event open once the link
			// (and its own descriptor) is closed.
			if pe, ok := l.(link.PerfEvent); ok {
				if f, err := pe.PerfEvent(); err == nil {
					mu.Lock()
					a.events = append(a.events, f)
					mu.Unlock()
				}
			}
			l.Close()
		})
	}
	a.links, a.tracepoints = nil, nil
	parallel(closers, 64)
	for _, fd := range a.fds {
		a.events = append(a.events, os.NewFile(uintptr(fd), "perf-event"))
	}
	a.fds = nil
	for _, f := range a.events {
		_ = unix.IoctlSetInt(int(f.Fd()), unix.PERF_EVENT_IOC_DISABLE, 0)
	}
}

// Release closes the perf events Detach left open. With later, it hands
// them to later instead (see cmd/gotrace: a child process closes them, so
// that gotrace's exit does not wait for the kernel).
func (a *Attached) Release(later func([]*os.File)) {
	events := a.events
	a.events = nil
	if len(events) == 0 {
		return
	}
	if later != nil {
		later(events)
		return
	}
	closers := make([]func(), len(events))
	for i, f := range events {
		closers[i] = func() { f.Close() }
	}
	run(closers)
}

// run runs fns, in parallel when there are many: the kernel's waits on
// closing perf events partly overlap even so, and 361 syscall tracepoints
// take 8 s instead of 20.
func run(fns []func()) {
	if len(fns) < 32 {
		for _, f := range fns {
			f()
		}
		return
	}
	parallel(fns, 64)
}

// parallel runs fns on up to n goroutines and waits for all of them.
func parallel(fns []func(), n int) {
	if len(fns) <= 1 {
		for _, f := range fns {
			f()
		}
		return
	}
	work := make(chan func())
	var wg sync.WaitGroup
	for i := 0; i < min(n, len(fns)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				f()
			}
		}()
	}
	for _, f := range fns {
		work <- f
	}
	close(work)
	wg.Wait()
}

// AttachOptions tune attaching.
type AttachOptions struct {
	PID int // uprobes: only this process
}

// Preflight reports, before anything is loaded or printed, an attach point
// this kernel cannot serve, in one sentence.
func Preflight(p *codegen.Program) error {
	if err := Unloadable(p); err != nil {
		return err
	}
	for _, pp := range p.Probes {
		ap := pp.Attach
		switch ap.Kind {
		case "kprobe", "kretprobe":
			if !kernel.HaveKprobes() {
				return noKprobes(ap)
			}
		case "uprobe", "uretprobe", "usdt":
			if _, err := os.Stat(ap.Path); err != nil {
				return fmt.Errorf("cannot attach %s: %v", ap.Name, err)
			}
			if !kernel.HaveUprobes() {
				return fmt.Errorf("cannot attach %s: this kernel has no uprobes (CONFIG_UPROBE_EVENTS is off)", ap.Name)
			}
		case "hardware":
			if !kernel.HaveHardwarePMU() {
				return fmt.Errorf("cannot attach %s: this machine has no hardware performance counters (no CPU PMU under /sys/bus/event_source/devices), so hardware events cannot be counted; software:cpu-clock or profile: probes work instead", ap.Name)
			}
		}
	}
	return nil
}

// Unloadable reports a probe whose program this kernel refuses to load at
// all (so --dry-run fails on it as well), in one sentence.
func Unloadable(p *codegen.Program) error {
	for _, pp := range p.Probes {
		ap := pp.Attach
		switch ap.Kind {
		case "fentry", "fexit":
			if err := haveFentry(); err != nil {
				return fmt.Errorf("cannot load %s: %s probes need BPF trampolines, which this kernel refuses (fentry/fexit programs cannot load: %v)", ap.Name, ap.Kind, err)
			}
		}
	}
	return nil
}

func noKprobes(ap *lang.AttachPoint) error {
	if ap.Wildcard {
		return fmt.Errorf("cannot attach %s: this kernel has no kprobes (CONFIG_KPROBES is off), so there are no kernel functions to match the wildcard against; gotrace compiled and verified the program (see --dry-run), but only kprobe:sys_* can fall back to syscall tracepoints here", ap.Name)
	}
	return fmt.Errorf("cannot attach %s: this kernel has no kprobes (CONFIG_KPROBES is off); gotrace compiled and verified it (see --dry-run), but only kprobe:sys_* can fall back to syscall tracepoints here", ap.Name)
}

var fentrySupport struct {
	once sync.Once
	err  error
}

// haveFentry reports whether the kernel loads fentry programs: it loads
// the smallest one, attached to vfs_read, once.
func haveFentry() error {
	fentrySupport.once.Do(func() {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name:         "gotrace_fentry",
			Type:         ebpf.Tracing,
			AttachType:   ebpf.AttachTraceFEntry,
			AttachTo:     "vfs_read",
			Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
			License:      "GPL",
		})
		if err != nil {
			switch {
			case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
				fentrySupport.err = errors.New("the kernel answers EPERM")
			case errors.Is(err, ebpf.ErrNotSupported):
				fentrySupport.err = errors.New("not supported")
			default:
				fentrySupport.err = err
			}
			return
		}
		prog.Close()
	})
	return fentrySupport.err
}

// Attach attaches every probe program. On error nothing stays attached.
func Attach(l *Loaded, opts AttachOptions) (*Attached, error) {
	a := &Attached{}
	for _, pp := range l.Prog.Probes {
		prog := l.Coll.Programs[pp.Name]
		if err := a.attachOne(pp, prog, opts); err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

func (a *Attached) attachOne(pp *codegen.ProbeProgram, prog *ebpf.Program, opts AttachOptions) error {
	ap := pp.Attach
	fail := func(err error) error {
		return fmt.Errorf("cannot attach %s: %w", ap.Name, err)
	}
	switch ap.Kind {
	case "BEGIN", "END":
		// Not attached: the runtime runs them with BPF_PROG_TEST_RUN.
	case "tracepoint":
		lk, err := link.Tracepoint(ap.Category, ap.Event, prog, nil)
		if err != nil {
			return fail(err)
		}
		a.tracepoints = append(a.tracepoints, lk)
	case "rawtracepoint":
		lk, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: ap.Func, Program: prog})
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return fail(fmt.Errorf("the kernel has no tracepoint called %s (list them with: gotrace -l 'tracepoint:*:%s*')", ap.Func, ap.Func))
			}
			return fail(err)
		}
		a.links = append(a.links, lk)
	case "kprobe", "kretprobe":
		if !kernel.HaveKprobes() || ap.Wildcard {
			return noKprobes(ap)
		}
		var lk link.Link
		var err error
		if ap.Kind == "kprobe" {
			lk, err = link.Kprobe(ap.Func, prog, &link.KprobeOptions{Offset: ap.Offset})
		} else {
			lk, err = link.Kretprobe(ap.Func, prog, nil)
		}
		if err != nil {
			return fail(err)
		}
		a.links = append(a.links, lk)
	case "uprobe", "uretprobe", "usdt":
		ex, err := link.OpenExecutable(ap.Path)
		if err != nil {
			return fail(err)
		}
		// The checker resolved the symbol (or address) to a file offset;
		// the library attaches there without looking symbols up again.
		uo := &link.UprobeOptions{Address: ap.FileOffset, PID: opts.PID}
		if ap.USDT != nil {
			// The kernel raises the probe's semaphore while attached.
			uo.RefCtrOffset = ap.USDT.RefCtrOffset
		}
		var lk link.Link
		if ap.Kind != "uretprobe" {
			lk, err = ex.Uprobe("", prog, uo)
		} else {
			lk, err = ex.Uretprobe("", prog, uo)
		}
		if err != nil {
			if opts.PID > 0 && errors.Is(err, unix.ESRCH) {
				return fail(fmt.Errorf("process %d does not exist", opts.PID))
			}
			return fail(err)
		}
		a.links = append(a.links, lk)
	case "interval", "profile":
		cpus := []int{0}
		if ap.Kind == "profile" {
			var err error
			if cpus, err = kernel.OnlineCPUs(); err != nil {
				return fail(err)
			}
		}
		for _, cpu := range cpus {
			fd, err := kernel.OpenCPUClock(cpu, ap.Period, ap.Unit == "hz")
			if err != nil {
				return fail(err)
			}
			a.fds = append(a.fds, fd)
			if err := a.perfLink(fd, prog); err != nil {
				return fail(err)
			}
		}
	case "software", "hardware":
		cpus, err := kernel.OnlineCPUs()
		if err != nil {
			return fail(err)
		}
		open := kernel.OpenSoftwareEvent
		if ap.Kind == "hardware" {
			open = kernel.OpenHardwareEvent
		}
		for _, cpu := range cpus {
			fd, err := open(ap.PerfEvent, cpu, ap.Period)
			if err != nil {
				return fail(err)
			}
			a.fds = append(a.fds, fd)
			if err := a.perfLink(fd, prog); err != nil {
				return fail(err)
			}
		}
	case "fentry", "fexit":
		if err := haveFentry(); err != nil {
			return fail(fmt.Errorf("%s probes need BPF trampolines, which this kernel refuses (fentry/fexit programs cannot load: %v)", ap.Kind, err))
		}
		lk, err := link.AttachTracing(link.TracingOptions{Program: prog})
		if err != nil {
			return fail(err)
		}
		a.links = append(a.links, lk)
	default:
		return fail(fmt.Errorf("%s probes cannot be attached yet", ap.Kind))
	}
	return nil
}

// perfLink attaches prog to an open perf event.
func (a *Attached) perfLink(fd int, prog *ebpf.Program) error {
	lk, err := link.AttachRawLink(link.RawLinkOptions{Target: fd, Program: prog, Attach: ebpf.AttachPerfEvent})
	if err != nil {
		return err
	}
	a.links = append(a.links, lk)
	return nil
}

// Warnings returns the one-line warnings attach points carry (fallbacks),
// each once.
func Warnings(p *codegen.Program) []string {
	seen := map[string]bool{}
	var out []string
	for _, pp := range p.Probes {
		if w := pp.Attach.Warning; w != "" && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
