package target

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/kernel"
)

// A recorded target is a directory:
//
//	target.json       release, features, and how uprobe targets resolved
//	events            every tracepoint, "CAT:EVENT" a line
//	formats/CAT/EVENT the format files of the recorded tracepoints
//	vmlinux.btf       a subset of the kernel's BTF (raw BTF)
//	kallsyms          an excerpt of /proc/kallsyms
//	functions         an excerpt of available_filter_functions
//	elf/NAME          copies of the recorded ELF files
//
// What was not recorded is absent: a tracepoint whose format was not
// recorded is an error saying so, not a missing tracepoint.

// manifest is target.json.
type manifest struct {
	Release  string          `json:"release"`
	Features map[string]bool `json:"features"`
	// Binaries maps a uprobe target as written (and "PID:target" for -p
	// lookups) to the paths it resolved to.
	Binaries map[string][]string `json:"binaries,omitempty"`
	// ELF maps a path on the recorded machine to its copy under elf/.
	ELF map[string]string `json:"elf,omitempty"`
}

// Recorded is a target read from a directory written by Record.
type Recorded struct {
	dir  string
	man  manifest
	once struct {
		btf, syms, funcs, events sync.Once
	}
	btf      *btf.Spec
	btfErr   error
	syms     *kernel.KernelSymbols
	symsErr  error
	funcs    []string
	events   []string
	eventErr error
	mu       sync.Mutex
	elfs     map[string]*kernel.ELFBinary
	enumOnce sync.Once
	enums    map[string]int64
}

// LoadRecorded opens the recorded target in dir.
func LoadRecorded(dir string) (*Recorded, error) {
	data, err := os.ReadFile(filepath.Join(dir, "target.json"))
	if err != nil {
		return nil, fmt.Errorf("recorded target: %v", err)
	}
	r := &Recorded{dir: dir, elfs: map[string]*kernel.ELFBinary{}}
	if err := json.Unmarshal(data, &r.man); err != nil {
		return nil, fmt.Errorf("recorded target %s: %v", dir, err)
	}
	for name := range r.man.Features {
		if _, ok := featureByName(name); !ok {
			return nil, fmt.Errorf("recorded target %s: unknown feature %q", dir, name)
		}
	}
	return r, nil
}

func (r *Recorded) Release() string { return r.man.Release }

func (r *Recorded) readEvents() ([]string, error) {
	r.once.events.Do(func() {
		data, err := os.ReadFile(filepath.Join(r.dir, "events"))
		if err != nil {
			r.eventErr = err
			return
		}
		r.events = strings.Fields(string(data))
	})
	return r.events, r.eventErr
}

func (r *Recorded) TracepointFormat(cat, event string) (*kernel.TracepointFormat, error) {
	events, err := r.readEvents()
	if err != nil {
		return nil, err
	}
	key := cat + ":" + event
	i := sort.SearchStrings(events, key)
	if i == len(events) || events[i] != key {
		catExists := false
		j := sort.SearchStrings(events, cat+":")
		if j < len(events) && strings.HasPrefix(events[j], cat+":") {
			catExists = true
		}
		return nil, kernel.TracepointNotFound(cat, event, catExists)
	}
	data, err := os.ReadFile(filepath.Join(r.dir, "formats", cat, event))
	if err != nil {
		return nil, fmt.Errorf("the recorded target %s has no format for tracepoint %s (record it)", r.dir, key)
	}
	return kernel.ParseTracepointFormat(cat, event, string(data))
}

func (r *Recorded) MatchTracepoints(catGlob, eventGlob string) ([]string, error) {
	events, err := r.readEvents()
	if err != nil {
		return nil, err
	}
	return matchEvents(events, catGlob, eventGlob), nil
}

func (r *Recorded) BTF() (*btf.Spec, error) {
	r.once.btf.Do(func() {
		f, err := os.Open(filepath.Join(r.dir, "vmlinux.btf"))
		if err != nil {
			r.btfErr = fmt.Errorf("the recorded target has no BTF: %v", err)
			return
		}
		defer f.Close()
		r.btf, r.btfErr = btf.LoadSpecFromReader(f)
	})
	return r.btf, r.btfErr
}

func (r *Recorded) KernelSymbol(name string) (uint64, bool, error) {
	r.once.syms.Do(func() {
		data, err := os.ReadFile(filepath.Join(r.dir, "kallsyms"))
		if err != nil {
			r.symsErr = err
			return
		}
		r.syms, r.symsErr = kernel.ParseKallsyms(bytes.NewReader(data))
	})
	if r.symsErr != nil {
		return 0, false, r.symsErr
	}
	addr, ok := r.syms.Address(name)
	return addr, ok, nil
}

func (r *Recorded) TraceableFunctions() ([]string, error) {
	if !r.Has(Kprobes) {
		return nil, nil
	}
	r.once.funcs.Do(func() {
		data, err := os.ReadFile(filepath.Join(r.dir, "functions"))
		if err == nil {
			r.funcs = kernel.ParseFilterFunctions(data)
		}
	})
	return r.funcs, nil
}

func (r *Recorded) ResolveBinary(target string, pid int) ([]string, error) {
	key := target
	if pid > 0 {
		key = fmt.Sprintf("%d:%s", pid, target)
	}
	if paths, ok := r.man.Binaries[key]; ok {
		if len(paths) == 0 {
			return nil, fmt.Errorf("uprobe target file '%s' does not exist or is not executable", target)
		}
		return paths, nil
	}
	if _, ok := r.man.ELF[target]; ok {
		return []string{target}, nil
	}
	return nil, fmt.Errorf("uprobe target file '%s' does not exist or is not executable", target)
}

func (r *Recorded) ELF(path string) (*kernel.ELFBinary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.elfs[path]; ok {
		return b, nil
	}
	name, ok := r.man.ELF[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, os.ErrNotExist)
	}
	b, err := kernel.ReadELFBinary(filepath.Join(r.dir, "elf", name))
	if err != nil {
		return nil, err
	}
	b.Path = path
	r.elfs[path] = b
	return b, nil
}

func (r *Recorded) USDTProbes(path string) ([]kernel.USDTProbe, error) {
	name, ok := r.man.ELF[path]
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, os.ErrNotExist)
	}
	return kernel.USDTProbes(filepath.Join(r.dir, "elf", name))
}

func (r *Recorded) Has(f Feature) bool { return r.man.Features[f.String()] }

func (r *Recorded) Enumerator(name string) (int64, bool) {
	r.enumOnce.Do(func() {
		spec, _ := r.BTF()
		r.enums = enumerators(spec)
	})
	v, ok := r.enums[name]
	return v, ok
}
