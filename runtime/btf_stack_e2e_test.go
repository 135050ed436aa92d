package runtime_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gotrace/gotrace/runtime/tracetest"
	"github.com/stretchr/testify/require"
)

// runTrigger runs script, calls trigger once the probes are attached, and
// ends the run when the trigger returns (or the script exits).
func runTrigger(t *testing.T, script string, trigger func()) string {
	t.Helper()
	out, errOut := tracetest.Run(t, script, trigger, tracetest.Options{})
	return out + errOut
}

// Field chains on curtask read the kernel's task_struct through BTF: the
// thread group id and comm of this process, its parent's pid.
func TestE2EBTFFieldChains(t *testing.T) {
	comm, err := os.ReadFile("/proc/self/comm")
	require.NoError(t, err)
	script := fmt.Sprintf(`tracepoint:syscalls:sys_enter_getppid /pid == %d/ {
  printf("%%d %%s %%d %%d\n", curtask->tgid, curtask->comm, curtask->real_parent->tgid,
         ((struct task_struct *)curtask)->pid == tid);
  printf("%%d\n", sizeof(struct task_struct) > 0);
  exit();
}`, os.Getpid())
	out := runTrigger(t, script, func() { syscall.Getppid() })
	want := fmt.Sprintf("Attaching 1 probe...\n%d %s %d 1\n1\n", os.Getpid(), strings.TrimSpace(string(comm)), os.Getppid())
	require.Equal(t, want, strings.TrimRight(out, "\n")+"\n")
}

// kstack as a map key under profile prints symbolized frames the way
// bpftrace does: "@[", one "    function+offset" line per frame, "]: N".
func TestE2EKernelStacksSymbolized(t *testing.T) {
	stack := regexp.MustCompile(`(?m)^@\[\n(    [A-Za-z_][\w.]*\+\d+\n)+\]: \d+$`)
	// Keep a CPU busy in the kernel so samples land in kernel code, until
	// one has: the run waits for the sample, not for a time.
	var stop atomic.Bool
	defer stop.Store(true)
	out, errOut := tracetest.Run(t, `profile:hz:999 { @[kstack] = count(); }`, func() {
		go func() {
			for !stop.Load() {
				syscall.Getppid()
			}
		}()
	}, tracetest.Options{UntilMaps: stack.MatchString})
	require.Empty(t, errOut)
	require.Regexp(t, stack, out)
}
