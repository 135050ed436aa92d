package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The gotrace binary detaches its probes before it exits and leaves the
// kernel's waits to a releaser (runtime/release.go): a child that holds no
// program or map, only perf events and links being closed, and that is
// gone soon after.
func TestCLIExitLeavesOnlyAReleaser(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "-e", `tracepoint:syscalls:sys_enter_getppid { @a = count(); }
tracepoint:syscalls:sys_enter_getpgid { @b = count(); } interval:ms:1 { exit(); }`)
	require.Equal(t, 0, r.status, r.stderr)
	require.Contains(t, r.stdout, "Attaching 3 probes...")

	var held []string
	require.Eventually(t, func() bool {
		pids := releasers()
		for _, pid := range pids {
			ents, _ := os.ReadDir("/proc/" + pid + "/fd")
			for _, e := range ents {
				target, _ := os.Readlink("/proc/" + pid + "/fd/" + e.Name())
				if target == "anon_inode:bpf-prog" || target == "anon_inode:bpf-map" {
					held = append(held, pid+": "+target)
				}
			}
		}
		return len(pids) == 0
	}, 10*time.Second, 5*time.Millisecond, "the releaser did not exit")
	require.Empty(t, held, "a releaser held programs or maps")
}

// releasers lists the processes running bin as a releaser: by its
// variable, or, once it is exiting (its memory, and so its environment, is
// gone while it closes what it holds), as a "gotrace" its parent left.
func releasers() []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if env, _ := os.ReadFile("/proc/" + e.Name() + "/environ"); strings.Contains(string(env), "GOTRACE_RELEASER=") {
			if exe, _ := os.Readlink("/proc/" + e.Name() + "/exe"); exe == bin {
				out = append(out, e.Name())
			}
			continue
		}
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		// pid (comm) state ppid ...; a zombie has closed everything.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasSuffix(string(stat[:i]), "(gotrace") {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 1 && f[0] != "Z" && f[1] == "1" {
				out = append(out, e.Name())
			}
		}
	}
	return out
}

// The releaser's variable alone (no socket from gotrace) changes nothing.
func TestReleaserVariableAloneIsIgnored(t *testing.T) {
	needBinary(t)
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "GOTRACE_RELEASER=1")
	out, err := cmd.Output()
	require.NoError(t, err)
	require.Equal(t, version+"\n", string(out))
}
