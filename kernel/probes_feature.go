package kernel

import (
	"runtime"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"golang.org/x/sys/unix"
)

// The probes below ask the running kernel whether it can do something, by
// loading (and where needed running) the smallest program that needs it.
// They are not cached here: the compiler's target keeps the answers.

// HaveFentry reports whether the kernel loads fentry programs
// (BPF_PROG_TYPE_TRACING with BPF_TRACE_FENTRY) for a kernel function.
func HaveFentry() bool {
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
// of its buffer after the name's NUL. Linux 6.1 does not: there the bytes
// after the name are whatever the stack held, and a comm used as a map key
// must be zeroed first. The probe fills a 16-byte buffer with 0xff, names
// this thread "gt", lets the helper write the name, and returns whether
// the buffer's tail is zero.
func HaveZeroPaddedComm() bool {
	insns := asm.Instructions{
		asm.Mov.Imm(asm.R1, -1),
		asm.StoreMem(asm.RFP, -16, asm.R1, asm.DWord),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, -16),
		asm.Mov.Imm(asm.R2, 16),
		asm.FnGetCurrentComm.Call(),
		asm.Mov.Imm(asm.R0, 0),
		// bytes 3..7 (after "gt\0") and 8..15 must be zero
		asm.LoadMem(asm.R1, asm.RFP, -16, asm.DWord),
		asm.RSh.Imm(asm.R1, 24),
		asm.JNE.Imm(asm.R1, 0, "out"),
		asm.LoadMem(asm.R1, asm.RFP, -8, asm.DWord),
		asm.JNE.Imm(asm.R1, 0, "out"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("out"),
	}
	prog, err := ebpf.NewProgramWithOptions(&ebpf.ProgramSpec{
		Type: ebpf.RawTracepoint, License: "GPL", Instructions: insns,
	}, ebpf.ProgramOptions{LogDisabled: true})
	if err != nil {
		return false
	}
	defer prog.Close()

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old [16]byte
	if err := unix.Prctl(unix.PR_GET_NAME, uintptr(unsafePointer(&old[0])), 0, 0, 0); err != nil {
		return false
	}
	name := [16]byte{'g', 't'}
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafePointer(&name[0])), 0, 0, 0); err != nil {
		return false
	}
	defer unix.Prctl(unix.PR_SET_NAME, uintptr(unsafePointer(&old[0])), 0, 0, 0)
	ret, err := prog.Run(&ebpf.RunOptions{Context: make([]byte, 8)})
	return err == nil && ret == 1
}

// HaveSignExtendLoad reports whether the verifier accepts BPF_MEMSX loads
// (Linux 6.6). Before, it rejects them with "BPF_LDX uses reserved fields".
func HaveSignExtendLoad() bool {
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
