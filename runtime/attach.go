package runtime

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"golang.org/x/sys/unix"
)

// Attached holds everything attaching created, so it can all be undone.
type Attached struct {
	links []link.Link
	fds   []int // perf event descriptors
}

// Close detaches every probe.
func (a *Attached) Close() {
	for _, l := range a.links {
		l.Close()
	}
	a.links = nil
	for _, fd := range a.fds {
		unix.Close(fd)
	}
	a.fds = nil
}

// AttachOptions tune attaching.
type AttachOptions struct {
	PID int // uprobes: only this process
}

// Preflight reports, before anything is loaded or printed, an attach point
// this kernel cannot serve, in one sentence.
func Preflight(p *codegen.Program) error {
	for _, pp := range p.Probes {
		ap := pp.Attach
		switch ap.Kind {
		case "kprobe", "kretprobe":
			if !kernel.HaveKprobes() {
				return fmt.Errorf("cannot attach %s: this kernel has no kprobes (CONFIG_KPROBES is off); gotrace compiled and verified it (see --dry-run), but only kprobe:sys_* can fall back to syscall tracepoints here", ap.Name)
			}
		case "uprobe", "uretprobe":
			if _, err := os.Stat(ap.Path); err != nil {
				return fmt.Errorf("cannot attach %s: %v", ap.Name, err)
			}
		}
	}
	return nil
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
		a.links = append(a.links, lk)
	case "rawtracepoint":
		lk, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: ap.Func, Program: prog})
		if err != nil {
			return fail(err)
		}
		a.links = append(a.links, lk)
	case "kprobe", "kretprobe":
		if !kernel.HaveKprobes() {
			return fmt.Errorf("cannot attach %s: this kernel has no kprobes (CONFIG_KPROBES is off); the program was compiled and verified, use a tracepoint instead (gotrace -l 'tracepoint:*')", ap.Name)
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
	case "uprobe", "uretprobe":
		ex, err := link.OpenExecutable(ap.Path)
		if err != nil {
			return fail(err)
		}
		uo := &link.UprobeOptions{PID: opts.PID}
		if ap.Func == "" || ap.Func[0] == '0' {
			fmt.Sscan(ap.Func, &uo.Address)
		} else {
			uo.Offset = ap.Offset
		}
		var lk link.Link
		if ap.Kind == "uprobe" {
			lk, err = ex.Uprobe(ap.Func, prog, uo)
		} else {
			lk, err = ex.Uretprobe(ap.Func, prog, uo)
		}
		if err != nil {
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
	default:
		return fail(errors.New("this probe type cannot be attached yet"))
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

var _ = os.Stderr
var _ = lang.KindInt
