package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The releaser holds the perf events it is handed, and only them, until
// the pipe gotrace keeps open closes (gotrace exited); then it exits, and
// the kernel tears the events down.
func TestReleaser(t *testing.T) {
	needKernel(t)
	var files []*os.File
	for i := 0; i < 2; i++ {
		fd, err := unix.PerfEventOpen(&unix.PerfEventAttr{
			Type: unix.PERF_TYPE_SOFTWARE, Config: unix.PERF_COUNT_SW_DUMMY, Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		}, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
		require.NoError(t, err)
		files = append(files, os.NewFile(uintptr(fd), "perf-event"))
	}
	proc, pipe, err := spawnReleaser(files)
	require.NoError(t, err)
	for _, f := range files {
		f.Close()
	}
	exited := make(chan error, 1)
	go func() { _, err := proc.Wait(); exited <- err }()

	fdDir := fmt.Sprintf("/proc/%d/fd", proc.Pid)
	held := func() []string {
		ents, _ := os.ReadDir(fdDir)
		var out []string
		for _, e := range ents {
			if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && e.Name() > "2" {
				out = append(out, e.Name()+" "+target)
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return len(held()) > 0 }, 5*time.Second, 5*time.Millisecond)
	var perf []string
	for _, h := range held() {
		if strings.HasSuffix(h, "anon_inode:[perf_event]") {
			perf = append(perf, h)
		}
	}
	require.Len(t, perf, 2, "the releaser holds the two perf events: %v", held())

	select {
	case err := <-exited:
		t.Fatalf("the releaser exited while gotrace still runs: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	pipe.Close()
	select {
	case err := <-exited:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		proc.Kill()
		t.Fatal("the releaser did not exit once its pipe closed")
	}
}

// The gotrace binary detaches everything before it exits; what it hands
// its releaser is perf events with no program on them, and the releaser
// is gone soon after.
func TestCLIExitLeavesOnlyAReleaser(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "-e", `tracepoint:syscalls:sys_enter_getppid { @a = count(); }
tracepoint:syscalls:sys_enter_getpgid { @b = count(); } interval:ms:1 { exit(); }`)
	require.Equal(t, 0, r.status, r.stderr)
	require.Contains(t, r.stdout, "Attaching 3 probes...")

	// Any releaser of this binary holds perf events and nothing of BPF,
	// and ends by itself.
	var bpfHeld []string
	require.Eventually(t, func() bool {
		pids := releasers()
		for _, pid := range pids {
			ents, _ := os.ReadDir("/proc/" + pid + "/fd")
			for _, e := range ents {
				if target, _ := os.Readlink("/proc/" + pid + "/fd/" + e.Name()); strings.Contains(target, "bpf") {
					bpfHeld = append(bpfHeld, pid+": "+target)
				}
			}
		}
		return len(pids) == 0
	}, 10*time.Second, 10*time.Millisecond, "the releaser did not exit")
	require.Empty(t, bpfHeld, "a releaser held BPF objects")
}

// releasers lists the processes running bin as a releaser.
func releasers() []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		if exe, _ := os.Readlink("/proc/" + e.Name() + "/exe"); exe != bin {
			continue
		}
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if strings.Contains(string(env), releaserEnv) {
			out = append(out, e.Name())
		}
	}
	return out
}
