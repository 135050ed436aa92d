package kernel

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PerfEvent describes a software or hardware perf event by its bpftrace name.
type PerfEvent struct {
	Name  string // "cpu-clock"
	Alias string // "cpu", or ""
	// Type is unix.PERF_TYPE_SOFTWARE or unix.PERF_TYPE_HARDWARE.
	Type   uint32
	Config uint64
	// DefaultPeriod is bpftrace's sample period when the probe gives none
	// (software:cpu-clock: samples every 1000000 events).
	DefaultPeriod uint64
}

// SoftwareEvents are the software:NAME events bpftrace knows, sorted by name.
var SoftwareEvents = []PerfEvent{
	{"alignment-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_ALIGNMENT_FAULTS, 1},
	{"bpf-output", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_BPF_OUTPUT, 1},
	{"context-switches", "cs", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CONTEXT_SWITCHES, 1000},
	{"cpu-clock", "cpu", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, 1000000},
	{"cpu-migrations", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_MIGRATIONS, 1},
	{"dummy", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_DUMMY, 1},
	{"emulation-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_EMULATION_FAULTS, 1},
	{"major-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ, 1},
	{"minor-faults", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MIN, 100},
	{"page-faults", "faults", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS, 100},
	{"task-clock", "", unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_TASK_CLOCK, 1},
}

// HardwareEvents are the hardware:NAME events bpftrace knows, sorted by name.
var HardwareEvents = []PerfEvent{
	{"backend-stalls", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_STALLED_CYCLES_BACKEND, 1000000},
	{"branch-instructions", "branches", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_INSTRUCTIONS, 100000},
	{"branch-misses", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BRANCH_MISSES, 100000},
	{"bus-cycles", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_BUS_CYCLES, 100000},
	{"cache-misses", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CACHE_MISSES, 1000000},
	{"cache-references", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CACHE_REFERENCES, 1000000},
	{"cpu-cycles", "cycles", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES, 1000000},
	{"frontend-stalls", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, 1000000},
	{"instructions", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_INSTRUCTIONS, 1000000},
	{"ref-cycles", "", unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_REF_CPU_CYCLES, 1000000},
}

func lookupEvent(events []PerfEvent, name string) (PerfEvent, bool) {
	for _, ev := range events {
		if ev.Name == name || (ev.Alias != "" && ev.Alias == name) {
			return ev, true
		}
	}
	return PerfEvent{}, false
}

// LookupSoftwareEvent finds a software event by name or alias ("cpu-clock",
// "cpu", "faults", ...).
func LookupSoftwareEvent(name string) (PerfEvent, bool) { return lookupEvent(SoftwareEvents, name) }

// LookupHardwareEvent finds a hardware event by name or alias ("cycles",
// "branches", ...).
func LookupHardwareEvent(name string) (PerfEvent, bool) { return lookupEvent(HardwareEvents, name) }

// openPerf opens one perf event counting on cpu for all processes.
func openPerf(typ uint32, config uint64, cpu int, period uint64, freq bool) (int, error) {
	attr := unix.PerfEventAttr{
		Type:   typ,
		Config: config,
		Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample: period,
	}
	if freq {
		attr.Bits |= unix.PerfBitFreq
	}
	for {
		fd, err := unix.PerfEventOpen(&attr, -1, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return fd, err
	}
}

// OpenCPUClock opens a cpu-clock software perf event (PERF_TYPE_SOFTWARE,
// PERF_COUNT_SW_CPU_CLOCK) on one CPU for all processes, as profile: and
// interval: probes use. With freq false, period is the sample period in
// nanoseconds (profile:ms:10 → 10000000); with freq true it is a frequency
// in Hz (profile:hz:99 → 99). The event is enabled and counting; the
// returned descriptor is close-on-exec and belongs to the caller.
func OpenCPUClock(cpu int, period uint64, freq bool) (fd int, err error) {
	if period == 0 {
		return -1, errors.New("cpu-clock perf event: the period must not be 0")
	}
	fd, err = openPerf(unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_CLOCK, cpu, period, freq)
	if err != nil {
		return -1, perfOpenError("software event cpu-clock", cpu, err)
	}
	return fd, nil
}

// OpenSoftwareEvent opens the software event called name (or its alias) on
// one CPU for all processes, sampling every period events (the event's
// DefaultPeriod when period is 0).
func OpenSoftwareEvent(name string, cpu int, period uint64) (fd int, err error) {
	ev, ok := LookupSoftwareEvent(name)
	if !ok {
		return -1, fmt.Errorf("software event %q does not exist; list them with: gotrace -l 'software:*'", name)
	}
	if period == 0 {
		period = ev.DefaultPeriod
	}
	fd, err = openPerf(ev.Type, ev.Config, cpu, period, false)
	if err != nil {
		return -1, perfOpenError("software event "+ev.Name, cpu, err)
	}
	return fd, nil
}

// OpenHardwareEvent opens the hardware event called name (or its alias) on
// one CPU for all processes, sampling every period events (the event's
// DefaultPeriod when period is 0). On a machine without a hardware PMU (most
// VMs) it fails with an error saying so.
func OpenHardwareEvent(name string, cpu int, period uint64) (fd int, err error) {
	ev, ok := LookupHardwareEvent(name)
	if !ok {
		return -1, fmt.Errorf("hardware event %q does not exist; list them with: gotrace -l 'hardware:*'", name)
	}
	if period == 0 {
		period = ev.DefaultPeriod
	}
	fd, err = openPerf(ev.Type, ev.Config, cpu, period, false)
	if err != nil {
		if !HaveHardwarePMU() {
			return -1, fmt.Errorf("hardware event %s cannot be opened: this machine has no hardware performance counters (no CPU PMU under /sys/bus/event_source/devices)", ev.Name)
		}
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) {
			return -1, fmt.Errorf("hardware event %s is not supported by this CPU's performance counters: %v", ev.Name, err)
		}
		return -1, perfOpenError("hardware event "+ev.Name, cpu, err)
	}
	return fd, nil
}

// HaveHardwarePMU reports whether the CPU's hardware performance counters
// are exposed (a "cpu", "cpu_core" or "cpu_atom" PMU, or armv8 PMUs).
func HaveHardwarePMU() bool {
	entries, err := os.ReadDir("/sys/bus/event_source/devices")
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		if n == "cpu" || strings.HasPrefix(n, "cpu_") || strings.HasPrefix(n, "armv8") || strings.HasPrefix(n, "armv7") {
			return true
		}
	}
	return false
}

func perfOpenError(what string, cpu int, err error) error {
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Errorf("cannot open perf %s on CPU %d: permission denied (run as root, or lower /proc/sys/kernel/perf_event_paranoid)", what, cpu)
	case errors.Is(err, unix.ENODEV), errors.Is(err, unix.EINVAL) && !cpuOnline(cpu):
		return fmt.Errorf("cannot open perf %s on CPU %d: the CPU is not online", what, cpu)
	case errors.Is(err, unix.EMFILE):
		return fmt.Errorf("cannot open perf %s on CPU %d: too many open files", what, cpu)
	}
	return fmt.Errorf("cannot open perf %s on CPU %d: %v", what, cpu, err)
}

func cpuOnline(cpu int) bool {
	cpus, err := OnlineCPUs()
	if err != nil {
		return true
	}
	for _, c := range cpus {
		if c == cpu {
			return true
		}
	}
	return false
}

var onlineCPUs struct {
	once sync.Once
	cpus []int
	err  error
}

// OnlineCPUs returns the online CPUs, parsed from
// /sys/devices/system/cpu/online ("0-3,5,7-8"). The result is cached.
func OnlineCPUs() ([]int, error) {
	onlineCPUs.once.Do(func() {
		data, err := os.ReadFile("/sys/devices/system/cpu/online")
		if err != nil {
			onlineCPUs.err = fmt.Errorf("cannot read the list of online CPUs: %v", err)
			return
		}
		onlineCPUs.cpus, onlineCPUs.err = ParseCPUList(string(data))
	})
	return onlineCPUs.cpus, onlineCPUs.err
}

// ParseCPUList parses a kernel CPU list such as "0-3,5,7-8\n".
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	var cpus []int
	if s == "" {
		return nil, errors.New("empty CPU list")
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			b, err = strconv.Atoi(hi)
			if err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}
