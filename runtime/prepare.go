package runtime

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// Prepare starts, in the background, the part of a run that does not
// depend on the script: cilium/ebpf's probes of what the kernel supports
// (object names, BTF line info, bpf_probe_read_kernel, BPF_PROG_RUN). It
// makes them on first use and remembers the answers; each is a few system
// calls, a dozen in all, which would otherwise sit between compiling the
// script and attaching it. Started before the script is parsed, they run
// on another CPU meanwhile, and Load finds the answers ready.
//
// Prepare is optional and never fails: without it, or when the probes
// fail (no privileges), Load makes them itself as before.
func Prepare() {
	go func() {
		coll, err := ebpf.NewCollectionWithOptions(warmUpSpec(), ebpf.CollectionOptions{
			Programs: ebpf.ProgramOptions{LogDisabled: true},
		})
		if err != nil {
			return
		}
		defer coll.Close()
		_, _ = coll.Programs["gotrace_warmup"].Run(&ebpf.RunOptions{})
	}()
}

// warmUpSpec is the smallest collection that asks every question Load's
// collections ask: a named map, and a program with a helper call, a map
// reference and line info, of the type BEGIN and END run as.
func warmUpSpec() *ebpf.CollectionSpec {
	return &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			"gotrace_warmup": {Name: "gotrace_warmup", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1},
		},
		Programs: map[string]*ebpf.ProgramSpec{
			"gotrace_warmup": {
				Name: "gotrace_warmup",
				Type: ebpf.RawTracepoint,
				Instructions: asm.Instructions{
					asm.LoadMapPtr(asm.R1, 0).WithReference("gotrace_warmup").WithSource(asm.Comment("warm-up")),
					asm.FnKtimeGetNs.Call(),
					asm.Mov.Imm(asm.R0, 0),
					asm.Return(),
				},
				License: "GPL",
			},
		},
	}
}
