package target

import (
	"errors"

	"github.com/cilium/ebpf/btf"

	"github.com/gotrace/gotrace/kernel"
)

// None is a target that knows nothing: every question about the machine
// is an error. Compiling with it checks what a script can mean without a
// machine (BEGIN, END, interval, the language itself).
type None struct{}

var errNoTarget = errors.New("no target machine to compile for")

func (None) Release() string { return "none" }
func (None) TracepointFormat(cat, event string) (*kernel.TracepointFormat, error) {
	return nil, errNoTarget
}
func (None) MatchTracepoints(catGlob, eventGlob string) ([]string, error) { return nil, errNoTarget }
func (None) BTF() (*btf.Spec, error)                                      { return nil, errNoTarget }
func (None) Enumerator(name string) (int64, bool)                         { return 0, false }
func (None) KernelSymbol(name string) (uint64, bool, error)               { return 0, false, errNoTarget }
func (None) TraceableFunctions() ([]string, error)                        { return nil, errNoTarget }
func (None) ResolveBinary(target string, pid int) ([]string, error)       { return nil, errNoTarget }
func (None) ELF(path string) (*kernel.ELFBinary, error)                   { return nil, errNoTarget }
func (None) USDTProbes(path string) ([]kernel.USDTProbe, error)           { return nil, errNoTarget }
func (None) Has(Feature) bool                                             { return false }
