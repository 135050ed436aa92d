package target

import "fmt"

// Feature is a kernel capability gotrace uses and cannot assume. Each has
// one entry in the features table: its name, the first kernel version that
// has it, and (in live.go) how to probe for it.
type Feature int

const (
	Kprobes Feature = iota
	Uprobes
	KprobeMulti
	UprobeMulti
	Fentry
	RingBuf
	// RawTracepointTestRun: BPF_PROG_TEST_RUN on raw tracepoint programs,
	// which is how BEGIN and END run.
	RawTracepointTestRun
	GetCurrentTaskBTF
	GetFuncIP
	Snprintf
	Loop
	GetAttachCookie
	// SignExtendLoad: BPF_MEMSX loads (the verifier rejects them before).
	SignExtendLoad
	// ZeroPaddedComm: bpf_get_current_comm zeroes the buffer after the
	// name's NUL. Where it does not, comm keys are zeroed first.
	ZeroPaddedComm
	HardwarePMU
	numFeatures
)

// featureInfo is the one table of features.
var featureInfo = [numFeatures]struct {
	name  string // as recorded targets and error messages spell it
	since string // first mainline kernel version that has it ("": it depends on the configuration, the hardware, or the helper as built)
}{
	Kprobes:              {"kprobes", ""},
	Uprobes:              {"uprobes", ""},
	KprobeMulti:          {"kprobe_multi", "5.18"},
	UprobeMulti:          {"uprobe_multi", "6.6"},
	Fentry:               {"fentry", "5.5"},
	RingBuf:              {"ringbuf", "5.8"},
	RawTracepointTestRun: {"raw_tracepoint_test_run", "5.10"},
	GetCurrentTaskBTF:    {"get_current_task_btf", "5.11"},
	GetFuncIP:            {"get_func_ip", "5.15"},
	Snprintf:             {"snprintf", "5.13"},
	Loop:                 {"loop", "5.17"},
	GetAttachCookie:      {"get_attach_cookie", "5.15"},
	SignExtendLoad:       {"sign_extend_load", "6.6"},
	ZeroPaddedComm:       {"zero_padded_comm", ""},
	HardwarePMU:          {"hardware_pmu", ""},
}

// Features lists every feature, in table order.
func Features() []Feature {
	fs := make([]Feature, numFeatures)
	for i := range fs {
		fs[i] = Feature(i)
	}
	return fs
}

func (f Feature) String() string {
	if f < 0 || f >= numFeatures {
		return fmt.Sprintf("feature(%d)", int(f))
	}
	return featureInfo[f].name
}

// Since is the first kernel version with the feature, or "" when it
// depends on the kernel's configuration or the hardware, not its version.
func (f Feature) Since() string {
	if f < 0 || f >= numFeatures {
		return ""
	}
	return featureInfo[f].since
}

// featureByName finds a feature by its recorded name.
func featureByName(name string) (Feature, bool) {
	for i, fi := range featureInfo {
		if fi.name == name {
			return Feature(i), true
		}
	}
	return 0, false
}

// MissingError is the one sentence for a feature the kernel lacks.
type MissingError struct {
	Feature Feature
	Release string // the kernel's release
	What    string // what needed it ("kprobe:vfs_read", "kstack")
}

func (e *MissingError) Error() string {
	msg := fmt.Sprintf("this kernel (%s) has no %s", e.Release, e.Feature)
	if e.What != "" {
		msg = fmt.Sprintf("%s needs %s, which this kernel (%s) does not have", e.What, e.Feature, e.Release)
	}
	if s := e.Feature.Since(); s != "" {
		msg += fmt.Sprintf(" (it came in Linux %s)", s)
	}
	return msg
}
