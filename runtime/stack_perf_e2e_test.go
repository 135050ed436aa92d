package runtime_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// kstack(perf) prints each frame as perf does, "ADDRESS symbol+offset"
// after a tab (bpftrace 0.17: "\tffffffff8133cae3 native_set_pmd+3"), and
// kstack without a mode prints the symbol alone.
func TestE2EKstackPerfMode(t *testing.T) {
	pid := os.Getpid()
	script := `tracepoint:syscalls:sys_enter_getppid /pid == PID/ { @p[kstack(perf, 3)] = count(); @b[kstack(3)] = count(); }`
	script = strings.ReplaceAll(script, "PID", strconv.Itoa(pid))
	out := runOpts(t, script, 0, func() {
		for i := 0; i < 3; i++ {
			syscall.Getppid()
		}
	})
	perf := regexp.MustCompile(`(?m)^@p\[\n(\t[0-9a-f]{16} [\w.]+\+\d+\n){1,3}\]: 3$`)
	plain := regexp.MustCompile(`(?m)^@b\[\n(    [\w.]+\+\d+\n){1,3}\]: 3$`)
	require.Regexp(t, perf, out)
	require.Regexp(t, plain, out)
}
