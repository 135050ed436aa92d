package runtime

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/releaser"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"golang.org/x/sys/unix"
)

// Attached holds everything attaching created, so it can all be undone.
type Attached struct {
	links       []link.Link
	tracepoints []tracepointLink
	fds         []int      // perf events gotrace opened itself (interval, profile, ...)
	events      []*os.File // perf events left open by Detach
}

// tracepointLink is a tracepoint probe's link, with its program.
type tracepointLink struct {
	link.Link
	prog *ebpf.Program
}

// Close detaches every probe and releases what attaching created.
func (a *Attached) Close() {
	a.Detach(nil)
	a.Release()
}

// Detach stops every probe: when it returns, the kernel starts none of
// gotrace's programs any more.
//
// The kernel makes detaching wait (see release.go): ~30 ms to unlink a
// program from a tracepoint, ~27 ms more to close each perf event, one at
// a time. With a releaser, Detach hands it the tracepoints' links and
// every perf event, and only waits until the kernel has taken the
// programs off the tracepoints. Without one, it closes every link at once
// on its own goroutine (their waits overlap) and leaves the perf events,
// disabled and program-less, for Release.
func (a *Attached) Detach(r *Releaser) {
	closers := make([]func(), 0, len(a.links)+len(a.tracepoints))
	for _, l := range a.links {
		closers = append(closers, func() { l.Close() })
	}
	tps := a.tracepoints
	a.links, a.tracepoints = nil, nil
	if r != nil && len(tps) > 0 && handTracepoints(r, tps) == nil {
		tps = nil
	}
	var mu sync.Mutex
	for _, l := range tps {
		closers = append(closers, func() {
			// A second descriptor keeps the event open once the link
			// (and its own descriptor) is closed.
			if pe, ok := l.Link.(link.PerfEvent); ok {
				if f, err := pe.PerfEvent(); err == nil {
					mu.Lock()
					a.events = append(a.events, f)
					mu.Unlock()
				}
			}
			l.Close()
		})
	}
	parallel(closers, 64)
	for _, fd := range a.fds {
		a.events = append(a.events, os.NewFile(uintptr(fd), "perf-event"))
	}
	a.fds = nil
	for _, f := range a.events {
		_ = unix.IoctlSetInt(int(f.Fd()), unix.PERF_EVENT_IOC_DISABLE, 0)
	}
	if r != nil && len(a.events) > 0 {
		fds := make([]int, len(a.events))
		for i, f := range a.events {
			fds[i] = int(f.Fd())
		}
		if r.send(releaser.Hold, fds) == nil {
			for _, f := range a.events {
				f.Close() // the releaser holds them now
			}
			a.events = nil
		}
	}
}

// handTracepoints gives the releaser the tracepoint links and their perf
// events, and waits until the kernel has taken the programs off the
// tracepoints. On error, before anything was handed over, the links are
// untouched.
func handTracepoints(r *Releaser, tps []tracepointLink) error {
	if err := r.Start(); err != nil {
		return err
	}
	linkFDs := make([]int, 0, len(tps))
	events := make([]*os.File, 0, len(tps))
	ids := map[uint32]bool{}
	undo := func() {
		for _, fd := range linkFDs {
			unix.Close(fd)
		}
		for _, f := range events {
			f.Close()
		}
	}
	for _, tp := range tps {
		raw, ok := tp.Link.(interface{ FD() int })
		pe, ok2 := tp.Link.(link.PerfEvent)
		info, err := tp.prog.Info()
		if !ok || !ok2 || err != nil {
			undo()
			return errors.New("not a perf event link")
		}
		id, _ := info.ID()
		ids[uint32(id)] = true
		fd, err := unix.FcntlInt(uintptr(raw.FD()), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			undo()
			return err
		}
		linkFDs = append(linkFDs, fd)
		f, err := pe.PerfEvent()
		if err != nil {
			undo()
			return err
		}
		events = append(events, f)
	}
	eventFDs := make([]int, len(events))
	for i, f := range events {
		eventFDs[i] = int(f.Fd())
	}
	if err := r.send(releaser.Hold, eventFDs); err != nil {
		undo()
		return err
	}
	// From here on the releaser holds the events. gotrace's own
	// descriptors go first, so that none of them is the last.
	for _, tp := range tps {
		tp.Close()
	}
	if err := r.send(releaser.CloseNow, linkFDs); err != nil {
		// The releaser is gone: close the links here, waiting.
		parallel(closeAll(linkFDs), 64)
	} else {
		for _, fd := range linkFDs {
			unix.Close(fd)
		}
		_ = waitUnlinked(eventFDs, ids)
	}
	for _, f := range events {
		f.Close()
	}
	return nil
}

func closeAll(fds []int) []func() {
	fns := make([]func(), len(fds))
	for i, fd := range fds {
		fns[i] = func() { unix.Close(fd) }
	}
	return fns
}

// Release closes the perf events Detach left open. Closing them waits for
// the kernel, so many are closed by several goroutines at once; the waits
// partly overlap, and 361 syscall tracepoints take 8 s instead of 20.
func (a *Attached) Release() {
	events := a.events
	a.events = nil
	closers := make([]func(), len(events))
	for i, f := range events {
		closers[i] = func() { f.Close() }
	}
	if len(closers) < 32 {
		for _, f := range closers {
			f()
		}
		return
	}
	parallel(closers, 64)
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
	// Warn, when set, is given one line for each probe skipped.
	Warn func(string)
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
//
// As in bpftrace, a kprobe or kretprobe that cannot attach (a function
// missing from this kernel, or not traceable) is skipped: opts.Warn is
// told which and why, and the others run. Attach fails only when it
// skipped every probe of the script: biolatency, none of whose kprobes
// exist on 6.1, still runs its BEGIN and END, as in bpftrace.
func Attach(l *Loaded, opts AttachOptions) (*Attached, error) {
	a := &Attached{}
	attached := 0
	var skipped error
	for _, pp := range attachOrder(l.Prog.Probes) {
		prog := l.Coll.Programs[pp.Name]
		if err := a.attachOne(pp, prog, opts); err != nil {
			if skippable(pp.Attach) {
				if skipped == nil {
					skipped = err
				}
				if opts.Warn != nil {
					opts.Warn(fmt.Sprintf("WARNING: %v; skipping it", err))
				}
				continue
			}
			a.Close()
			return nil, err
		}
		attached++
	}
	if skipped != nil && attached == 0 {
		a.Close()
		return nil, fmt.Errorf("no probe could be attached: %w", skipped)
	}
	return a, nil
}

// attachOrder is the order to attach probes in: as declared, except that
// uprobes go last and in reverse, because the kernel runs the uprobes of
// one address last attached first, and scripts expect them to fire in
// the order they are written, as bpftrace's do.
func attachOrder(pps []*codegen.ProbeProgram) []*codegen.ProbeProgram {
	out := make([]*codegen.ProbeProgram, 0, len(pps))
	var uprobes []*codegen.ProbeProgram
	for _, pp := range pps {
		switch pp.Attach.Kind {
		case "uprobe", "uretprobe", "usdt":
			uprobes = append(uprobes, pp)
		default:
			out = append(out, pp)
		}
	}
	for i := len(uprobes) - 1; i >= 0; i-- {
		out = append(out, uprobes[i])
	}
	return out
}

// skippable reports attach points whose failure skips them rather than
// ending the run: kprobes, on a kernel that has kprobes.
func skippable(ap *lang.AttachPoint) bool {
	return (ap.Kind == "kprobe" || ap.Kind == "kretprobe") && kernel.HaveKprobes() && !ap.Wildcard
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
		a.tracepoints = append(a.tracepoints, tracepointLink{lk, prog})
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
			// cilium/ebpf retries a function it cannot find with the
			// architecture's syscall prefix (__x64_), and reports that
			// retry's failure: right for sys_*, whose entry is
			// __x64_sys_*, but for any other function it hides the
			// reason, which is that the function is not traceable.
			if !strings.HasPrefix(ap.Func, "sys_") && !kernel.IsTraceableFunction(ap.Func) {
				return fail(fmt.Errorf("the kernel has no traceable function %s (not in available_filter_functions: absent from this kernel, inlined, or in a module that is not loaded)", ap.Func))
			}
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
	if err == nil {
		a.links = append(a.links, lk)
		return nil
	}
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, ebpf.ErrNotSupported) {
		return err
	}
	// Kernels before 5.15 have no BPF links for perf events (5.10:
	// "create link: invalid argument"): the program goes on the event
	// itself, and leaves with it when Detach disables it and Release
	// closes it.
	if ierr := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); ierr != nil {
		return fmt.Errorf("%w (and PERF_EVENT_IOC_SET_BPF: %v)", err, ierr)
	}
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
