package main

import (
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/runtime"
	"golang.org/x/sys/unix"
)

// infoSection is one block of --info: a title and its lines.
type infoSection struct {
	title string
	lines []infoLine
}

// infoLine is "name: value"; a feature line's value is yes or no.
type infoLine struct{ name, value string }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

// helper reports whether the kernel lets kprobe programs call h.
func helper(h asm.BuiltinFunc) bool {
	return features.HaveProgramHelper(ebpf.Kprobe, h) == nil
}

// info is --info: what the kernel offers and gotrace uses, laid out as
// bpftrace 0.17 lays out its own (bpftrace's runtime tests read these
// lines to skip what is missing). A line says yes only when the kernel has
// the feature and gotrace implements what needs it: gotrace has no DWARF
// reader, no iterator probes, no path() or skboutput() and no
// kprobe_multi links, so those say no whatever the kernel offers.
func info() []infoSection {
	var uts unix.Utsname
	unix.Uname(&uts)
	osLine := "Linux " + unix.ByteSliceToString(uts.Release[:]) + " " + unix.ByteSliceToString(uts.Version[:])
	arch := unix.ByteSliceToString(uts.Machine[:])
	if arch == "" {
		arch = goruntime.GOARCH
	}

	_, btfErr := os.Stat("/sys/kernel/btf/vmlinux")
	_, refCtrErr := os.Stat("/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset")
	fentry := runtime.HaveFentry() == nil

	mapType := func(t ebpf.MapType) string { return yes(features.HaveMapType(t) == nil) }
	progType := func(t ebpf.ProgramType) bool { return features.HaveProgramType(t) == nil }

	return []infoSection{
		{"System", []infoLine{
			{"OS", osLine},
			{"Arch", arch},
		}},
		{"Build", []infoLine{
			{"version", strings.TrimPrefix(version, "gotrace ")},
			{"LLVM", "none (gotrace writes the BPF instructions itself)"},
			{"unsafe uprobe", "no"},
			{"bfd", "no"},
			{"libdw (DWARF support)", "no"},
			// bpftrace's name for finding a library by its short name
			// (uprobe:libc:malloc), which gotrace does through ld.so.cache.
			{"bcc library path resolution", "yes"},
		}},
		{"Kernel helpers", []infoLine{
			{"probe_read", yes(helper(asm.FnProbeRead))},
			{"probe_read_str", yes(helper(asm.FnProbeReadStr))},
			{"probe_read_user", yes(helper(asm.FnProbeReadUser))},
			{"probe_read_user_str", yes(helper(asm.FnProbeReadUserStr))},
			{"probe_read_kernel", yes(helper(asm.FnProbeReadKernel))},
			{"probe_read_kernel_str", yes(helper(asm.FnProbeReadKernelStr))},
			{"get_current_cgroup_id", yes(helper(asm.FnGetCurrentCgroupId))},
			{"send_signal", yes(helper(asm.FnSendSignal))},
			{"override_return", "no"}, // no override()
			{"get_boot_ns", "no"},     // no boot-time clock
			{"dpath", "no"},           // no path()
			{"skboutput", "no"},       // no skboutput()
		}},
		{"Kernel features", []infoLine{
			{"Instruction limit", instructionLimit()},
			{"Loop support", yes(features.HaveBoundedLoops() == nil)},
			{"btf", yes(btfErr == nil)},
			{"map batch", "no"}, // maps are read entry by entry
			{"uprobe refcount (depends on Build:bcc bpf_attach_uprobe refcount)", yes(refCtrErr == nil)},
		}},
		{"Map types", []infoLine{
			{"hash", mapType(ebpf.Hash)},
			{"percpu hash", mapType(ebpf.PerCPUHash)},
			{"array", mapType(ebpf.Array)},
			{"percpu array", mapType(ebpf.PerCPUArray)},
			{"stack_trace", mapType(ebpf.StackTrace)},
			{"perf_event_array", mapType(ebpf.PerfEventArray)},
			{"ringbuf", mapType(ebpf.RingBuf)},
		}},
		{"Probe types", []infoLine{
			{"kprobe", yes(kernel.HaveKprobes() && progType(ebpf.Kprobe))},
			{"tracepoint", yes(progType(ebpf.TracePoint))},
			{"perf_event", yes(progType(ebpf.PerfEvent))},
			{"kfunc", yes(fentry && btfErr == nil)},
			{"iter:task", "no"},
			{"iter:task_file", "no"},
			{"kprobe_multi", "no"},
			{"raw_tp_special", yes(progType(ebpf.RawTracepoint))},
			{"uprobe", yes(kernel.HaveUprobes() && progType(ebpf.Kprobe))},
		}},
	}
}

// instructionLimit is the verifier's limit on processed instructions:
// a million since Linux 5.2 (which added bounded loops and large programs).
func instructionLimit() string {
	if features.HaveLargeInstructions() == nil {
		return "1000000"
	}
	return "4096"
}

// printInfo prints --info, on stderr as bpftrace does.
func printInfo(w io.Writer) {
	var b strings.Builder
	for i, s := range info() {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(s.title + "\n")
		for _, l := range s.lines {
			fmt.Fprintf(&b, "  %s: %s\n", l.name, l.value)
		}
	}
	io.WriteString(w, b.String())
}
