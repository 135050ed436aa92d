// Package target is everything the compiler knows about the machine it
// compiles for, behind one value.
//
// The checker and the code generator are pure functions of the script and
// a Target: they never open a file of the running system themselves. Two
// implementations exist. Live reads the machine it runs on (tracefs, BTF,
// /proc/kallsyms, ELF files, process maps, the kernel's BPF features) and
// keeps what it has read in its own fields. Recorded reads a snapshot
// written by Record (see record.go), so that tests compile scripts for a
// kernel the test machine does not run, unprivileged and on any kernel
// build.
package target

import (
	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/kernel"
)

// Target answers the compiler's questions about one machine.
type Target interface {
	// Release is the kernel release (uname -r) of the machine.
	Release() string

	// TracepointFormat is the record layout of tracepoint cat:event. A
	// tracepoint that does not exist is an error matching
	// kernel.ErrTracepointNotFound.
	TracepointFormat(cat, event string) (*kernel.TracepointFormat, error)
	// MatchTracepoints lists the tracepoints ("CAT:EVENT", sorted) whose
	// category and event match the globs.
	MatchTracepoints(catGlob, eventGlob string) ([]string, error)

	// BTF is the kernel's type information.
	BTF() (*btf.Spec, error)
	// Enumerator is the value of a kernel enumerator (TCP_ESTABLISHED)
	// from BTF.
	Enumerator(name string) (int64, bool)
	// KernelSymbol is the address of a kernel symbol (kallsyms). found is
	// false for a symbol the kernel does not have; err says the symbols
	// cannot be read at all.
	KernelSymbol(name string) (addr uint64, found bool, err error)
	// TraceableFunctions are the kernel functions kprobes can attach to,
	// sorted (available_filter_functions).
	TraceableFunctions() ([]string, error)

	// ResolveBinary finds the ELF files a uprobe target names: a path,
	// a wildcard, a program in PATH or a library's short name ("libc"),
	// looked up first in process pid's maps when pid > 0.
	ResolveBinary(target string, pid int) ([]string, error)
	// ELF is the symbol table and segments of the ELF file at path.
	ELF(path string) (*kernel.ELFBinary, error)
	// USDTProbes are the SDT notes of the ELF file at path.
	USDTProbes(path string) ([]kernel.USDTProbe, error)

	// Has reports whether the kernel has feature f.
	Has(f Feature) bool
}

// enumerators indexes every enumerator of spec by name.
func enumerators(spec *btf.Spec) map[string]int64 {
	m := map[string]int64{}
	if spec == nil {
		return m
	}
	for t, err := range spec.All() {
		if err != nil {
			break
		}
		if e, ok := t.(*btf.Enum); ok {
			for _, v := range e.Values {
				m[v.Name] = int64(v.Value)
			}
		}
	}
	return m
}
