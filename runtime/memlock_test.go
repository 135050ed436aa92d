package runtime

import (
	"fmt"
	"testing"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestLoadUnderLowMemlock loads a program with several maps while
// RLIMIT_MEMLOCK is 64 KiB, the default of the kernels (before 5.11) that
// charge BPF memory to it: Load raises the limit, as bpftrace does, so on
// those kernels the maps are created rather than refused with EPERM.
func TestLoadUnderLowMemlock(t *testing.T) {
	testenv.RequireBPF(t)
	var old unix.Rlimit
	require.NoError(t, unix.Getrlimit(unix.RLIMIT_MEMLOCK, &old))
	low := unix.Rlimit{Cur: 64 << 10, Max: old.Max}
	if low.Max < low.Cur {
		low.Cur = low.Max
	}
	require.NoError(t, unix.Setrlimit(unix.RLIMIT_MEMLOCK, &low))
	defer func() {
		// Load may have raised both limits; put back what there was.
		require.NoError(t, unix.Setrlimit(unix.RLIMIT_MEMLOCK, &old))
	}()
	script := `tracepoint:syscalls:sys_enter_getppid { @a[comm] = count(); @b[tid] = sum(1); @c = hist(2); @d[pid, comm] = 1; }`
	p, err := codegen.CompileSource(&lang.Source{Name: "memlock", Text: script}, &lang.Env{Target: testtarget.Live()})
	require.NoError(t, err)
	l, err := Load(p, LoadOptions{})
	require.NoError(t, err)
	l.Close()
}

// TestPermissionErrorNamesMemlock: when root's map create is refused while
// RLIMIT_MEMLOCK is finite, the error names the limit, not privileges.
func TestPermissionErrorNamesMemlock(t *testing.T) {
	refused := fmt.Errorf("map events: map create: %w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM)

	err := permissionError(refused, 0, 64<<10, fmt.Errorf("failed to set memlock rlimit: %w", unix.EPERM))
	require.Contains(t, err.Error(), "RLIMIT_MEMLOCK, which is 64 KiB")
	require.Contains(t, err.Error(), "ulimit -l unlimited")
	require.Contains(t, err.Error(), "failed to set memlock rlimit")
	require.NotContains(t, err.Error(), "consider rlimit.RemoveMemlock")
	require.NotContains(t, err.Error(), "CAP_")

	err = permissionError(refused, 1000, 64<<10, nil)
	require.Contains(t, err.Error(), "needs root")

	err = permissionError(refused, 0, unix.RLIM_INFINITY, nil)
	require.NotContains(t, err.Error(), "MEMLOCK may be")
	require.Contains(t, err.Error(), "CAP_BPF")
}
