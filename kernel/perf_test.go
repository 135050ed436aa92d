package kernel

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// requireRoot skips as a normal user (perf events of every CPU and
// kallsyms addresses are root's).
func requireRoot(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
}

// waitCount reads a counting perf event until cond holds for its value, and
// fails the test when it has not within 10 s: the counter advances with
// time, whatever the load, so the test waits for it to advance rather than
// for a time.
func waitCount(t *testing.T, fd int, what string, cond func(uint64) bool) uint64 {
	t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		if v := readCount(t, fd); cond(v) {
			return v
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("after 10 s, %s", what)
		}
	}
}

// readCount reads a counting perf event's value (read_format 0: one u64).
func readCount(t *testing.T, fd int) uint64 {
	t.Helper()
	buf := make([]byte, 8)
	n, err := unix.Read(fd, buf)
	require.NoError(t, err)
	require.Equal(t, 8, n)
	return binary.NativeEndian.Uint64(buf)
}

func TestOpenCPUClock(t *testing.T) {
	requireRoot(t)
	cpus, err := OnlineCPUs()
	require.NoError(t, err)
	require.NotEmpty(t, cpus)
	for _, cpu := range cpus {
		fd, err := OpenCPUClock(cpu, 1000000, false)
		require.NoError(t, err, "cpu %d", cpu)
		// cpu-clock counts nanoseconds of CPU time on that CPU, idle or
		// not: it becomes positive, then keeps growing.
		first := waitCount(t, fd, fmt.Sprintf("cpu %d's cpu-clock still counts 0", cpu), func(v uint64) bool { return v > 0 })
		waitCount(t, fd, fmt.Sprintf("cpu %d's cpu-clock stopped at %d", cpu, first), func(v uint64) bool { return v > first })
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		require.NoError(t, err)
		assert.NotZero(t, flags&unix.FD_CLOEXEC, "close-on-exec")
		require.NoError(t, unix.Close(fd))
	}

	fd, err := OpenCPUClock(cpus[0], 99, true)
	require.NoError(t, err, "profile:hz:99")
	waitCount(t, fd, "the 99 Hz cpu-clock still counts 0", func(v uint64) bool { return v > 0 })
	require.NoError(t, unix.Close(fd))

	_, err = OpenCPUClock(cpus[0], 0, false)
	assert.Error(t, err)
	_, err = OpenCPUClock(100000, 1000000, false)
	assert.ErrorContains(t, err, "CPU 100000")
}

func TestOpenSoftwareEvent(t *testing.T) {
	requireRoot(t)
	for _, ev := range SoftwareEvents {
		for _, name := range []string{ev.Name, ev.Alias} {
			if name == "" {
				continue
			}
			fd, err := OpenSoftwareEvent(name, 0, 0)
			if !assert.NoError(t, err, name) {
				continue
			}
			require.NoError(t, unix.Close(fd))
		}
	}
	fd, err := OpenSoftwareEvent("page-faults", 0, 1)
	require.NoError(t, err)
	require.NoError(t, unix.Close(fd))

	_, err = OpenSoftwareEvent("nope", 0, 0)
	assert.EqualError(t, err, `software event "nope" does not exist; list them with: gotrace -l 'software:*'`)
}

func TestOpenHardwareEvent(t *testing.T) {
	requireRoot(t)
	_, err := OpenHardwareEvent("nope", 0, 0)
	assert.EqualError(t, err, `hardware event "nope" does not exist; list them with: gotrace -l 'hardware:*'`)

	fd, err := OpenHardwareEvent("cycles", 0, 0)
	if HaveHardwarePMU() {
		if err == nil {
			unix.Close(fd)
		}
		t.Logf("hardware PMU present; cycles: %v", err)
		return
	}
	assert.EqualError(t, err, "hardware event cpu-cycles cannot be opened: this machine has no hardware performance counters (no CPU PMU under /sys/bus/event_source/devices)")
}

func TestPerfEventTables(t *testing.T) {
	ev, ok := LookupSoftwareEvent("cpu")
	require.True(t, ok)
	assert.Equal(t, "cpu-clock", ev.Name)
	assert.Equal(t, uint64(unix.PERF_COUNT_SW_CPU_CLOCK), ev.Config)
	assert.Equal(t, uint64(1000000), ev.DefaultPeriod)
	ev, ok = LookupSoftwareEvent("faults")
	require.True(t, ok)
	assert.Equal(t, "page-faults", ev.Name)
	ev, ok = LookupHardwareEvent("branches")
	require.True(t, ok)
	assert.Equal(t, "branch-instructions", ev.Name)
	assert.Equal(t, uint32(unix.PERF_TYPE_HARDWARE), ev.Type)
	_, ok = LookupHardwareEvent("cpu-clock")
	assert.False(t, ok)
	_, ok = LookupSoftwareEvent("")
	assert.False(t, ok)
	assert.Len(t, SoftwareEvents, 11)
	assert.Len(t, HardwareEvents, 10)
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string][]int{
		"0":            {0},
		"0-1\n":        {0, 1},
		"0-3,5,7-8":    {0, 1, 2, 3, 5, 7, 8},
		" 2 , 4-5 \n ": {2, 4, 5},
	} {
		got, err := ParseCPUList(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "\n", "a", "1-", "3-1", "-1", "1,,2"} {
		_, err := ParseCPUList(bad)
		assert.Error(t, err, "%q", bad)
	}
	cpus, err := OnlineCPUs()
	require.NoError(t, err)
	assert.NotEmpty(t, cpus)
	assert.Equal(t, 0, cpus[0])
}
