package kernel

import (
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/rlimit"
)

// Features are facts about the running kernel that change the code gotrace
// generates. Each is found by trying it (a tiny program through the
// verifier, or run once), never from the kernel's version.
type Features struct {
	// SignExtendLoad: the verifier accepts sign-extending loads
	// (BPF_LDX | BPF_MEMSX, "r0 = *(s8 *)(r10 - 8)"), new in Linux 6.6.
	// Without them a signed narrow load is a plain load and two shifts.
	SignExtendLoad bool
	// ZeroPaddedComm: bpf_get_current_comm zeroes its buffer after the
	// name's NUL. Kernels whose helper copies with strscpy and no padding
	// (Debian's 6.1) leave the bytes there as they were, so a comm written
	// to uninitialised stack carries garbage into map keys; without this,
	// gotrace zeroes the buffer first.
	ZeroPaddedComm bool
}

// AllFeatures is a kernel with every feature: what code generation assumes
// when it is not told otherwise.
var AllFeatures = Features{SignExtendLoad: true, ZeroPaddedComm: true}

var features struct {
	once sync.Once
	f    Features
}

// ProbeFeatures finds the running kernel's features, once; later calls
// return the same answer. A probe that fails for any reason (no
// privileges, an unknown program type) counts as the feature missing, so
// that gotrace falls back to code every kernel accepts.
func ProbeFeatures() Features {
	features.once.Do(func() {
		RaiseMemlock() // the probes' programs are charged to it before 5.11
		// One program answers both where sign-extending loads load
		// (every kernel from 6.6); elsewhere the comm probe runs alone.
		if padded, ok := probeZeroPaddedComm(true); ok {
			features.f = Features{SignExtendLoad: true, ZeroPaddedComm: padded}
			return
		}
		features.f.ZeroPaddedComm, _ = probeZeroPaddedComm(false)
	})
	return features.f
}

// RaiseMemlock lifts RLIMIT_MEMLOCK where the kernel charges BPF maps and
// programs to it (before Linux 5.11, where the default 64 KiB fits almost
// nothing), as bpftrace does. On later kernels, which charge the memory
// cgroup instead, it changes nothing. The error says why the limit could
// not be raised; loading then fails with EPERM, and the caller names the
// limit. It costs one system call on kernels before 5.11, none after.
func RaiseMemlock() error {
	return rlimit.RemoveMemlock()
}

// probeZeroPaddedComm runs, in gotrace's own context, a program that fills
// 32 bytes of stack with 0xff, has bpf_get_current_comm write all 32, and
// returns 0 when bytes 16 to 31 (after any comm's NUL) were zeroed. Asking
// for 32 bytes, not 16, keeps the answer independent of the name's length:
// a kernel that copies only up to the NUL (or up to the word holding it)
// never reaches byte 16. With signExtend, the program also makes a
// sign-extending load ("r1 = *(s8 *)(r10 - 32)"), so that it loads only
// where those exist. ok is whether the program loaded and ran.
func probeZeroPaddedComm(signExtend bool) (padded, ok bool) {
	insns := asm.Instructions{
		storeImm(-32, -1),
		storeImm(-24, -1),
		storeImm(-16, -1),
		storeImm(-8, -1),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, -32),
		asm.Mov.Imm(asm.R2, 32),
		asm.FnGetCurrentComm.Call(),
		asm.LoadMem(asm.R0, asm.RFP, -16, asm.DWord),
		asm.LoadMem(asm.R1, asm.RFP, -8, asm.DWord),
		asm.Or.Reg(asm.R0, asm.R1),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("out"),
	}
	if signExtend {
		insns = append(asm.Instructions{storeImm(-32, 0), asm.LoadMemSX(asm.R1, asm.RFP, -32, asm.Byte)}, insns...)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "gotrace_features",
		Type:         ebpf.RawTracepoint,
		Instructions: insns,
		License:      "GPL",
	})
	if err != nil {
		return false, false
	}
	defer prog.Close()
	ret, err := prog.Run(&ebpf.RunOptions{})
	return err == nil && ret == 0, err == nil
}

// storeImm is "*(u64 *)(r10 + off) = imm", sign-extended from 32 bits
// (cilium/ebpf's asm.StoreImm refuses DWord).
func storeImm(off int16, imm int64) asm.Instruction {
	return asm.Instruction{OpCode: asm.StoreImmOp(asm.DWord), Dst: asm.RFP, Offset: off, Constant: imm}
}
