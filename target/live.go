package target

import (
	"errors"
	"os"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/kernel"
)

// Live is the machine gotrace runs on. It reads each fact the first time
// it is asked and keeps it: a script that names one tracepoint reads one
// format file, a script that never names a kernel type never loads BTF.
// It is safe for concurrent use.
type Live struct {
	mu       sync.Mutex
	release  string
	formats  map[string]formatResult
	events   []string
	eventErr error
	haveEvts bool
	btf      *btf.Spec
	btfErr   error
	haveBTF  bool
	ksyms    *kernel.KernelSymbols
	ksymErr  error
	haveSyms bool
	funcs    []string
	funcErr  error
	haveFns  bool
	elfs     map[string]elfResult
	usdts    map[string][]kernel.USDTProbe
	features [numFeatures]int8 // 0 unknown, 1 yes, -1 no
	enumOnce sync.Once
	enums    map[string]int64
}

type formatResult struct {
	f   *kernel.TracepointFormat
	err error
}

type elfResult struct {
	b   *kernel.ELFBinary
	err error
}

// NewLive returns the running machine as a Target.
func NewLive() *Live {
	return &Live{formats: map[string]formatResult{}, elfs: map[string]elfResult{}, usdts: map[string][]kernel.USDTProbe{}}
}

func (l *Live) Release() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.release == "" {
		var u unix.Utsname
		if err := unix.Uname(&u); err == nil {
			l.release = unix.ByteSliceToString(u.Release[:])
		}
	}
	return l.release
}

func (l *Live) TracepointFormat(cat, event string) (*kernel.TracepointFormat, error) {
	key := cat + ":" + event
	l.mu.Lock()
	r, ok := l.formats[key]
	l.mu.Unlock()
	if ok {
		return r.f, r.err
	}
	f, err := kernel.ReadTracepointFormat(cat, event)
	if err != nil && !errors.Is(err, kernel.ErrTracepointNotFound) {
		return nil, err // not a fact about the kernel: do not keep it
	}
	l.mu.Lock()
	l.formats[key] = formatResult{f, err}
	l.mu.Unlock()
	return f, err
}

func (l *Live) MatchTracepoints(catGlob, eventGlob string) ([]string, error) {
	l.mu.Lock()
	if !l.haveEvts {
		l.events, l.eventErr = kernel.ReadTracepoints()
		l.haveEvts = true
	}
	events, err := l.events, l.eventErr
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return matchEvents(events, catGlob, eventGlob), nil
}

func (l *Live) BTF() (*btf.Spec, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.haveBTF {
		l.btf, l.btfErr = btf.LoadKernelSpec()
		l.haveBTF = true
	}
	return l.btf, l.btfErr
}

func (l *Live) KernelSymbol(name string) (uint64, bool, error) {
	l.mu.Lock()
	if !l.haveSyms {
		l.ksyms, l.ksymErr = kernel.ReadKallsyms()
		l.haveSyms = true
	}
	ks, err := l.ksyms, l.ksymErr
	l.mu.Unlock()
	if err != nil {
		return 0, false, err
	}
	addr, ok := ks.Address(name)
	return addr, ok, nil
}

func (l *Live) TraceableFunctions() ([]string, error) {
	if !l.Has(Kprobes) {
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.haveFns {
		l.funcs, l.funcErr = kernel.ReadTraceableFunctions()
		l.haveFns = true
	}
	return l.funcs, l.funcErr
}

func (l *Live) ResolveBinary(target string, pid int) ([]string, error) {
	return kernel.ResolveUprobeTarget(target, pid)
}

func (l *Live) ELF(path string) (*kernel.ELFBinary, error) {
	l.mu.Lock()
	r, ok := l.elfs[path]
	l.mu.Unlock()
	if ok {
		return r.b, r.err
	}
	b, err := kernel.ReadELFBinary(path)
	l.mu.Lock()
	l.elfs[path] = elfResult{b, err}
	l.mu.Unlock()
	return b, err
}

func (l *Live) USDTProbes(path string) ([]kernel.USDTProbe, error) {
	l.mu.Lock()
	ps, ok := l.usdts[path]
	l.mu.Unlock()
	if ok {
		return ps, nil
	}
	ps, err := kernel.USDTProbes(path)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.usdts[path] = ps
	l.mu.Unlock()
	return ps, nil
}

func (l *Live) Has(f Feature) bool {
	if f < 0 || f >= numFeatures {
		return false
	}
	l.mu.Lock()
	v := l.features[f]
	l.mu.Unlock()
	if v == 0 {
		v = -1
		if probeFeature(f) {
			v = 1
		}
		l.mu.Lock()
		l.features[f] = v
		l.mu.Unlock()
	}
	return v > 0
}

// probeFeature asks the running kernel. Each probe is cilium/ebpf's
// features package where it has one: it loads the smallest program or map
// that needs the feature.
func probeFeature(f Feature) bool {
	helper := func(pt ebpf.ProgramType, fn asm.BuiltinFunc) bool {
		return features.HaveProgramHelper(pt, fn) == nil
	}
	switch f {
	case Kprobes:
		return kernel.HaveKprobes()
	case Uprobes:
		return kernel.HaveUprobes()
	case HardwarePMU:
		return kernel.HaveHardwarePMU()
	case KprobeMulti:
		return kernel.HaveKprobes() && features.HaveBPFLinkKprobeMulti() == nil
	case UprobeMulti:
		return features.HaveBPFLinkUprobeMulti() == nil
	case Fentry:
		return kernel.HaveFentry()
	case RingBuf:
		return features.HaveMapType(ebpf.RingBuf) == nil
	case RawTracepointTestRun:
		return kernel.HaveRawTracepointTestRun()
	case GetCurrentTaskBTF:
		return helper(ebpf.TracePoint, asm.FnGetCurrentTaskBtf)
	case GetFuncIP:
		return helper(ebpf.Kprobe, asm.FnGetFuncIp)
	case Snprintf:
		return helper(ebpf.TracePoint, asm.FnSnprintf)
	case Loop:
		return helper(ebpf.TracePoint, asm.FnLoop)
	case GetAttachCookie:
		return helper(ebpf.Kprobe, asm.FnGetAttachCookie)
	case SignExtendLoad:
		return kernel.HaveSignExtendLoad()
	case ZeroPaddedComm:
		return kernel.HaveZeroPaddedComm()
	}
	return false
}

// exists is a stat that says only yes or no.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (l *Live) Enumerator(name string) (int64, bool) {
	l.enumOnce.Do(func() {
		spec, _ := l.BTF()
		l.enums = enumerators(spec)
	})
	v, ok := l.enums[name]
	return v, ok
}
