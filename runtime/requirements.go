package runtime

import (
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/target"
)

// requirements checks what every run needs of the kernel it was compiled
// for: the ring buffer that carries events (Linux 5.8), and
// BPF_PROG_TEST_RUN on raw tracepoint programs, which is how BEGIN and END
// run (5.10). Run asks when loading or BEGIN failed, so that a kernel
// without one gets one sentence naming it and the first version that has
// it, not a map-create or test-run error; a kernel with both pays nothing.
func requirements(p *codegen.Program) error {
	t := p.Info.Target
	if t == nil {
		return nil
	}
	if !t.Has(target.RingBuf) {
		return &target.MissingError{Feature: target.RingBuf, Release: t.Release(), What: "gotrace's event buffer"}
	}
	for _, pp := range p.Probes {
		if k := pp.Attach.Kind; (k == "BEGIN" || k == "END") && !t.Has(target.RawTracepointTestRun) {
			return &target.MissingError{Feature: target.RawTracepointTestRun, Release: t.Release(), What: pp.Attach.Name}
		}
	}
	return nil
}
