// Package kernel answers questions about the running kernel that gotrace
// needs: where tracefs is, what tracepoints exist and what their records look
// like, which perf events can be opened, and kernel symbol addresses.
//
// Everything is loaded lazily on first use and cached; importing the package
// does no work.
package kernel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Well-known tracefs locations, in the order they are tried.
const (
	tracefsPath      = "/sys/kernel/tracing"
	debugTracefsPath = "/sys/kernel/debug/tracing"
)

var tracefs struct {
	mu  sync.Mutex
	dir string // set once found; errors are not cached so a later mount is seen
}

// TracefsDir returns the directory where tracefs is mounted. It looks at
// /sys/kernel/tracing, then /sys/kernel/debug/tracing. When neither holds a
// mounted tracefs and the process runs as root, it mounts tracefs at
// /sys/kernel/tracing and returns that.
func TracefsDir() (string, error) {
	tracefs.mu.Lock()
	defer tracefs.mu.Unlock()
	if tracefs.dir != "" {
		return tracefs.dir, nil
	}
	for _, dir := range []string{tracefsPath, debugTracefsPath} {
		if isTracefs(dir) {
			tracefs.dir = dir
			return dir, nil
		}
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("tracefs is not mounted (looked at %s and %s) and only root can mount it: run gotrace as root, or mount it with: mount -t tracefs tracefs %s",
			tracefsPath, debugTracefsPath, tracefsPath)
	}
	if err := unix.Mount("tracefs", tracefsPath, "tracefs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return "", fmt.Errorf("tracefs is not mounted and mounting it at %s failed: %v", tracefsPath, err)
	}
	if !isTracefs(tracefsPath) {
		return "", fmt.Errorf("tracefs is not mounted and mounting it at %s did not make it appear", tracefsPath)
	}
	tracefs.dir = tracefsPath
	return tracefsPath, nil
}

// isTracefs reports whether dir is a mounted tracefs (or a debugfs-provided
// tracing directory with the usual contents).
func isTracefs(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	if uint64(st.Type) == unix.TRACEFS_MAGIC {
		return true
	}
	// Old kernels expose tracing through debugfs without a separate
	// tracefs mount; accept a directory that has the tracing files.
	_, err := os.Stat(filepath.Join(dir, "available_events"))
	return err == nil && uint64(st.Type) != unix.SYSFS_MAGIC
}

// tracefsFile returns the path of name inside tracefs.
func tracefsFile(name ...string) (string, error) {
	dir, err := TracefsDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{dir}, name...)...), nil
}

var haveKprobes struct {
	once sync.Once
	ok   bool
}

// HaveKprobes reports whether the kernel supports kprobes: tracefs has
// kprobe_events, or the kprobe PMU exists under /sys/bus/event_source.
func HaveKprobes() bool {
	haveKprobes.once.Do(func() {
		if _, err := os.Stat("/sys/bus/event_source/devices/kprobe"); err == nil {
			haveKprobes.ok = true
			return
		}
		if p, err := tracefsFile("kprobe_events"); err == nil {
			if _, err := os.Stat(p); err == nil {
				haveKprobes.ok = true
			}
		}
	})
	return haveKprobes.ok
}

// HaveUprobes reports whether the kernel supports uprobes (uprobe_events in
// tracefs, or the uprobe PMU).
func HaveUprobes() bool {
	if _, err := os.Stat("/sys/bus/event_source/devices/uprobe"); err == nil {
		return true
	}
	if p, err := tracefsFile("uprobe_events"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}
