// Package runtime loads a compiled gotrace program into the kernel, attaches
// its probes, turns ring-buffer events into printed lines while it runs, and
// prints the maps when the run ends.
//
// A run goes: Load (maps and programs created in one pass, verifier errors
// mapped back to the script) → Attach (every probe, or nothing: a failure
// detaches what was attached) → BEGIN programs run → events until Ctrl-C,
// SIGTERM, exit() or the end of the traced command → END programs → maps
// printed → everything closed.
package runtime

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang"
	"golang.org/x/sys/unix"
)

// Loaded is a program whose maps and BPF programs exist in the kernel.
type Loaded struct {
	Prog *codegen.Program
	Coll *ebpf.Collection
}

// Close releases every map and program.
func (l *Loaded) Close() {
	if l.Coll != nil {
		l.Coll.Close()
	}
}

// LoadOptions tune loading.
type LoadOptions struct {
	// VerifierLog asks for the full verifier log on failure (-v).
	VerifierLog bool
}

// Load creates the maps and loads every program through the verifier.
func Load(p *codegen.Program, opts LoadOptions) (*Loaded, error) {
	start := monotonicNow()
	spec := p.Spec.Copy()
	for _, ps := range spec.Programs {
		patchStartTime(ps.Instructions, start)
	}
	// A program is first loaded without a log; only when the verifier
	// rejects it is it loaded again with one. Start that log large: a
	// rejection after many instructions (an unbounded loop) writes a long
	// log, and the kernel keeps its tail, which holds the reason.
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogSizeStart: 4 << 20},
	})
	if err != nil {
		return nil, explainLoadError(p, spec, err, opts.VerifierLog)
	}
	return &Loaded{Prog: p, Coll: coll}, nil
}

// patchStartTime fills in the start-time constant that elapsed subtracts.
func patchStartTime(insns asm.Instructions, ns uint64) {
	for i := range insns {
		if insns[i].Reference() == codegen.StartTimeVar {
			insns[i].Constant = int64(ns)
			insns[i] = insns[i].WithReference("")
		}
	}
}

func monotonicNow() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

var insnLine = regexp.MustCompile(`^(\d+): \(`)

// explainLoadError turns a load failure into a message for the user. For
// verifier rejections it finds the instruction the verifier stopped at and
// reports it against the script span that produced it.
func explainLoadError(p *codegen.Program, spec *ebpf.CollectionSpec, err error, full bool) error {
	if errors.Is(err, unix.EPERM) && !strings.Contains(err.Error(), "verifier") {
		return fmt.Errorf("loading BPF programs was refused (%v): run gotrace as root or with CAP_BPF and CAP_PERFMON", err)
	}
	var ve *ebpf.VerifierError
	if !errors.As(err, &ve) {
		return fmt.Errorf("loading BPF programs: %w", err)
	}
	// Which program? cilium/ebpf names it in the wrapped error.
	var pp *codegen.ProbeProgram
	for _, cand := range p.Probes {
		if strings.Contains(err.Error(), "program "+cand.Name+":") {
			pp = cand
		}
	}
	at, reason := -1, ""
	for i, line := range ve.Log {
		if m := insnLine.FindStringSubmatch(line); m != nil {
			at, _ = strconv.Atoi(m[1])
			reason = ""
			for _, next := range ve.Log[i+1:] {
				if next == "" || insnLine.MatchString(next) || strings.HasPrefix(next, "processed ") ||
					strings.HasPrefix(next, ";") || strings.HasPrefix(next, "verification time") {
					continue
				}
				reason = next
				break
			}
		}
	}
	if reason == "" && len(ve.Log) > 0 {
		reason = ve.Log[len(ve.Log)-1]
	}
	msg := "the kernel's BPF verifier rejected the program: " + strings.TrimSpace(reason)
	var out error = errors.New(msg)
	if pp != nil && at >= 0 {
		if note := noteAt(pp.Spec.Instructions, at); note != nil {
			out = &lang.Error{Src: note.Src, Span: note.Span, Msg: msg}
		}
	}
	if full {
		var b strings.Builder
		b.WriteString(out.Error())
		b.WriteString("\n\nverifier log")
		if pp != nil {
			b.WriteString(" for " + pp.Attach.Name)
		}
		b.WriteString(":\n")
		for _, line := range ve.Log {
			if m := insnLine.FindStringSubmatch(line); m != nil && pp != nil {
				n, _ := strconv.Atoi(m[1])
				if note := noteAt(pp.Spec.Instructions, n); note != nil {
					line += "\t// " + note.String()
				}
			}
			b.WriteString(line + "\n")
		}
		return errors.New(strings.TrimRight(b.String(), "\n"))
	}
	return out
}

// noteAt finds the source note governing the instruction at raw offset off:
// the nearest note at or before it.
func noteAt(insns asm.Instructions, off int) *codegen.SourceNote {
	var found *codegen.SourceNote
	iter := insns.Iterate()
	for iter.Next() {
		if int(iter.Offset) > off {
			break
		}
		if n, ok := iter.Ins.Source().(codegen.SourceNote); ok {
			found = &n
		}
	}
	return found
}

var _ = time.Now
