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
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"golang.org/x/sys/unix"
)

// Loaded is a program whose maps and BPF programs exist in the kernel.
type Loaded struct {
	Prog *codegen.Program
	Coll *ebpf.Collection
	// NoUserSymbols prints user addresses (usym, ustack) as numbers
	// (BPFTRACE_NO_USER_SYMBOLS).
	NoUserSymbols bool
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
	// LineInfo gives the kernel each instruction's script text as BTF
	// line info, which `bpftool prog dump xlated` shows (-v). It costs
	// cilium/ebpf's BTF feature probes and a BTF load, seven system
	// calls and ~0.4 ms of start-up, so it is off otherwise: gotrace maps
	// verifier errors back to the script from its own notes.
	LineInfo bool
	// CommandPID is the -c command's process id, which cpid reads.
	CommandPID int
}

// Load creates the maps and loads every program through the verifier.
func Load(p *codegen.Program, opts LoadOptions) (*Loaded, error) {
	start := monotonicNow()
	spec := p.Spec.Copy()
	for _, ps := range spec.Programs {
		patchConstant(ps.Instructions, codegen.StartTimeVar, int64(start))
		patchConstant(ps.Instructions, codegen.CommandPIDVar, int64(opts.CommandPID))
		if !opts.LineInfo {
			for i := range ps.Instructions {
				ps.Instructions[i] = ps.Instructions[i].WithSource(nil)
			}
		}
	}
	// Before 5.11 the kernel charges maps and programs to RLIMIT_MEMLOCK.
	memlockErr := kernel.RaiseMemlock()
	// Programs load without a verifier log; only a rejected program is
	// loaded again with one (see verifierLog).
	coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
		Programs: ebpf.ProgramOptions{LogDisabled: true},
	})
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			return nil, permissionError(err, unix.Geteuid(), memlockLimit(), memlockErr)
		}
		return nil, explainLoadError(p, spec, err, opts.VerifierLog)
	}
	return &Loaded{Prog: p, Coll: coll}, nil
}

// patchConstant fills in a constant only known at load time: the start
// time elapsed subtracts, the -c command's pid.
func patchConstant(insns asm.Instructions, name string, v int64) {
	for i := range insns {
		if insns[i].Reference() == name {
			insns[i].Constant = v
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
	// Which program? cilium/ebpf names it in the wrapped error.
	var pp *codegen.ProbeProgram
	for _, cand := range p.Probes {
		if strings.Contains(err.Error(), "program "+cand.Name+":") {
			pp = cand
		}
	}
	if pp == nil {
		return fmt.Errorf("loading BPF programs: %w", err)
	}
	log, logErr := verifierLog(spec, pp.Name)
	if logErr != nil || len(log) == 0 {
		return fmt.Errorf("the kernel's BPF verifier rejected the program for %s: %v", pp.Attach.Name, err)
	}
	notes := notesByOffset(pp.Spec.Instructions)
	at, reason := -1, ""
	for i, line := range log {
		if m := insnLine.FindStringSubmatch(line); m != nil {
			at, _ = strconv.Atoi(m[1])
			reason = ""
			if i+1 < len(log) && !insnLine.MatchString(log[i+1]) && !isStateLine(log[i+1]) {
				reason = log[i+1]
			}
		}
	}
	if reason == "" {
		// The reason is the last line that is not bookkeeping.
		for i := len(log) - 1; i >= 0; i-- {
			if !isStateLine(log[i]) && !insnLine.MatchString(log[i]) {
				reason = log[i]
				break
			}
		}
	}
	if strings.TrimSpace(reason) == "" {
		// The reload's log holds no reason: use the kernel's error.
		var errno unix.Errno
		switch {
		case errors.Is(err, unix.E2BIG):
			reason = "BPF program is too large (the verifier gave up: bound the loop or split the probe)"
		case errors.As(err, &errno) && (errno == unix.EACCES || errno == unix.EINVAL):
			reason = errno.Error()
		default:
			return fmt.Errorf("loading the program for %s: %w", pp.Attach.Name, err)
		}
	}
	msg := "the kernel's BPF verifier rejected the program: " + strings.TrimSpace(reason)
	var out error = fmt.Errorf("%s (in %s)", msg, pp.Attach.Name)
	if note := notes.at(at); note != nil {
		out = &lang.Error{Src: note.Src, Span: note.Span, Msg: msg}
	} else if pp.Attach.Spec != nil {
		// No instruction to point at: point at the probe.
		out = &lang.Error{Src: p.Info.Src, Span: pp.Attach.Spec.Span, Msg: msg}
	}
	if !full {
		return out
	}
	var b strings.Builder
	b.WriteString("verifier log for " + pp.Attach.Name + " (script lines after //):\n")
	for _, line := range log {
		if m := insnLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if note := notes.at(n); note != nil {
				line += "\t// " + note.String()
			}
		}
		b.WriteString(line + "\n")
	}
	return &verboseError{err: out, log: strings.TrimRight(b.String(), "\n")}
}

// permissionError explains a load refused with EPERM. For an unprivileged
// user it is privileges: cilium/ebpf's own wording ("MEMLOCK may be too
// low") points the wrong way. For root, a map create refused while
// RLIMIT_MEMLOCK is finite is the limit: kernels before 5.11 charge BPF
// memory to it, and gotrace could not raise it (memlockErr says why).
func permissionError(err error, euid int, limit uint64, memlockErr error) error {
	if euid != 0 {
		return errors.New("gotrace needs root (or the CAP_BPF and CAP_PERFMON capabilities) to load BPF programs: run it with sudo")
	}
	if limit != unix.RLIM_INFINITY {
		why := ""
		if memlockErr != nil {
			why = fmt.Sprintf(", and raising it failed (%v)", memlockErr)
		}
		what := "a BPF map or program"
		if strings.Contains(err.Error(), "map create") {
			what = "a BPF map"
		}
		return fmt.Errorf("the kernel refused to create %s (%v): this kernel charges BPF memory to the locked-memory limit RLIMIT_MEMLOCK, which is %s%s; raise it (ulimit -l unlimited) and run gotrace again",
			what, unwrapCause(err), memlockText(limit), why)
	}
	return fmt.Errorf("loading BPF programs was refused (%v) although gotrace runs as root with RLIMIT_MEMLOCK unlimited: the process may lack CAP_BPF and CAP_SYS_ADMIN (in a container), or the kernel's lockdown or a security module forbids BPF", unwrapCause(err))
}

// unwrapCause cuts cilium/ebpf's hint off its error text.
func unwrapCause(err error) string {
	s := err.Error()
	if i := strings.Index(s, " (MEMLOCK may be too low"); i >= 0 {
		s = s[:i]
	}
	return s
}

// memlockLimit is the current soft RLIMIT_MEMLOCK.
func memlockLimit() uint64 {
	var r unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &r) != nil {
		return unix.RLIM_INFINITY
	}
	return r.Cur
}

func memlockText(n uint64) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}

// verboseError is a verifier rejection with the annotated log (-v).
type verboseError struct {
	err error
	log string
}

func (e *verboseError) Error() string { return e.err.Error() + "\n\n" + e.log }
func (e *verboseError) Unwrap() error { return e.err }

// isStateLine reports verifier log lines that are not the reason for a
// rejection: source lines, register states, statistics.
func isStateLine(line string) bool {
	line = strings.TrimSpace(line)
	return line == "" || strings.HasPrefix(line, ";") || strings.HasPrefix(line, "processed ") ||
		strings.HasPrefix(line, "verification time") || strings.HasPrefix(line, "stack depth") ||
		strings.HasPrefix(line, "from ") || strings.HasPrefix(line, "R") && strings.Contains(line, "=") && !strings.Contains(line, " ")
}

// verifierLog loads one program again, alone, with a verifier log, and
// returns the log's lines. It uses the bpf() syscall directly with a fixed
// 16 MiB buffer: the kernel then keeps the tail of a long log (which holds
// the reason), where cilium/ebpf would regrow its buffer to the log's full
// size and run the verifier again, which for a program rejected after a
// million instructions means gigabytes and minutes.
func verifierLog(spec *ebpf.CollectionSpec, name string) ([]string, error) {
	ps := spec.Programs[name]
	insns := make(asm.Instructions, len(ps.Instructions))
	copy(insns, ps.Instructions)
	maps := map[string]*ebpf.Map{}
	defer func() {
		for _, m := range maps {
			m.Close()
		}
	}()
	for i := range insns {
		ref := insns[i].Reference()
		ms, ok := spec.Maps[ref]
		if !ok || !insns[i].IsLoadFromMap() {
			continue
		}
		m := maps[ref]
		if m == nil {
			var err error
			if m, err = ebpf.NewMap(ms); err != nil {
				return nil, err
			}
			maps[ref] = m
		}
		if err := insns[i].AssociateMap(m); err != nil {
			return nil, err
		}
	}
	var code bytes.Buffer
	if err := insns.Marshal(&code, binary.LittleEndian); err != nil {
		return nil, err
	}
	license := []byte(ps.License + "\x00")
	logBuf := make([]byte, 16<<20)
	attr := progLoadAttr{
		progType: uint32(ps.Type),
		insnCnt:  uint32(code.Len() / 8),
		insns:    uint64(uintptr(unsafe.Pointer(&code.Bytes()[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
		logLevel: 1,
		logSize:  uint32(len(logBuf)),
		logBuf:   uint64(uintptr(unsafe.Pointer(&logBuf[0]))),
	}
	fd, _, errno := unix.Syscall(unix.SYS_BPF, 5 /* BPF_PROG_LOAD */, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr))
	runtimeKeepAlive(code.Bytes(), license, logBuf)
	if errno == 0 {
		unix.Close(int(fd))
	}
	end := bytes.IndexByte(logBuf, 0)
	if end < 0 {
		end = len(logBuf)
	}
	text := strings.TrimRight(string(logBuf[:end]), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}

// progLoadAttr is the head of union bpf_attr for BPF_PROG_LOAD.
type progLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
}

// noteIndex maps raw instruction offsets to the source note in force there.
type noteIndex struct {
	offsets []int
	notes   []codegen.SourceNote
}

func notesByOffset(insns asm.Instructions) *noteIndex {
	ix := &noteIndex{}
	iter := insns.Iterate()
	for iter.Next() {
		if n, ok := iter.Ins.Source().(codegen.SourceNote); ok {
			ix.offsets = append(ix.offsets, int(iter.Offset))
			ix.notes = append(ix.notes, n)
		}
	}
	return ix
}

// at returns the note governing raw offset off: the nearest at or before it.
func (ix *noteIndex) at(off int) *codegen.SourceNote {
	i := sort.SearchInts(ix.offsets, off+1) - 1
	if off < 0 || i < 0 {
		return nil
	}
	return &ix.notes[i]
}

func runtimeKeepAlive(v ...any) { goruntime.KeepAlive(v) }
