package kernel

import (
	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// The probes below ask the running kernel whether it can do something, by
// loading (and where needed running) the smallest program that needs it.
// They are not cached here: the compiler's target keeps the answers.

// HaveFentry reports whether the kernel loads fentry programs
// (BPF_PROG_TYPE_TRACING with BPF_TRACE_FENTRY) for a kernel function.
func HaveFentry() bool {
	RaiseMemlock()
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type:         ebpf.Tracing,
		AttachType:   ebpf.AttachTraceFEntry,
		AttachTo:     "vfs_read",
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return false
	}
	prog.Close()
	return true
}

// HaveRawTracepointTestRun reports whether BPF_PROG_TEST_RUN runs raw
// tracepoint programs (how BEGIN and END run).
func HaveRawTracepointTestRun() bool {
	RaiseMemlock()
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type:         ebpf.RawTracepoint,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 7), asm.Return()},
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return false
	}
	defer prog.Close()
	ret, err := prog.Run(&ebpf.RunOptions{Context: make([]byte, 8)})
	return err == nil && ret == 7
}

// HaveZeroPaddedComm reports whether bpf_get_current_comm zeroes the bytes
// of its buffer after the name's NUL. Debian's 6.1 does not: there they
// are whatever the stack held, and a comm used as a map key must be zeroed
// first. The probe fills 32 bytes of stack with 0xff, has the helper write
// all 32, and returns whether bytes 16 to 31 (after any comm's NUL) were
// zeroed: asking for 32 bytes keeps the answer independent of the name.
func HaveZeroPaddedComm() bool {
	RaiseMemlock()
	insns := asm.Instructions{asm.Mov.Imm(asm.R1, -1)}
	for off := int16(-32); off < 0; off += 8 {
		insns = append(insns, asm.StoreMem(asm.RFP, off, asm.R1, asm.DWord))
	}
	insns = append(insns,
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, -32),
		asm.Mov.Imm(asm.R2, 32),
		asm.FnGetCurrentComm.Call(),
		asm.LoadMem(asm.R0, asm.RFP, -16, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, -8, asm.DWord),
		asm.Or.Reg(asm.R0, asm.R1),
		asm.JEq.Imm(asm.R0, 0, "padded"),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("padded"),
		asm.Return(),
	)
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type: ebpf.RawTracepoint, License: "GPL", Instructions: insns,
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return false
	}
	defer prog.Close()
	ret, err := prog.Run(&ebpf.RunOptions{Context: make([]byte, 8)})
	return err == nil && ret == 1
}

// HaveSignExtendLoad reports whether the verifier accepts BPF_MEMSX loads
// (Linux 6.6). Before, it rejects them with "BPF_LDX uses reserved fields".
func HaveSignExtendLoad() bool {
	RaiseMemlock()
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type:    ebpf.RawTracepoint,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R1, -1),
			asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
			asm.LoadMemSX(asm.R0, asm.RFP, -8, asm.Word),
			asm.Return(),
		},
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return false
	}
	prog.Close()
	return true
}
