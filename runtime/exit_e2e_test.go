package runtime_test

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// exit() takes effect in the kernel at once: the probe that fires again
// before user space has detached it counts nothing more (bpftrace prints
// @c: 1 here; gotrace counted every call the trigger made).
func TestE2EExitStopsCountingAtOnce(t *testing.T) {
	script := strings.ReplaceAll(`tracepoint:syscalls:sys_enter_getppid /pid == PID/ { @c = count(); exit(); }`,
		"PID", strconv.Itoa(os.Getpid()))
	out := runOpts(t, script, 0, func() {
		for i := 0; i < 20; i++ {
			syscall.Getppid()
		}
	})
	require.Equal(t, "Attaching 1 probe...\n\n\n@c: 1\n", out)
}
