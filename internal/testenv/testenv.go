// Package testenv decides whether a live test (one that loads BPF
// programs, attaches probes or reads tracefs) can run here, and what it
// does when it cannot.
//
// The rule, cilium/ebpf's testutils rule:
//
//   - As a normal user every live test skips, saying in one line what is
//     missing (root).
//   - As root a live test never skips silently. A kernel feature that is
//     missing fails the test when the running kernel is new enough to have
//     it (SkipUnlessFeature); a feature that depends on the kernel's
//     configuration skips only when the configuration says it is off, and
//     fails when the configuration says it is on (SkipUnlessConfig).
//
// Feature-gated tests key on the feature, not on the machine: the same test
// binaries run on other kernels (the kernel matrix under QEMU), where
// kprobes or fentry are there.
//
// GOTRACE_TEST_IGNORE_VERSION=TestA,TestB/sub turns those failures back into
// skips for the named tests, for kernels that backport or patch out a
// feature (as cilium/ebpf's EBPF_TEST_IGNORE_VERSION does).
package testenv

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// IsRoot reports whether the tests run as root (effective uid 0).
func IsRoot() bool { return os.Geteuid() == 0 }

// RequireRoot skips t unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if !IsRoot() {
		t.Skipf("live test: needs root to use bpf() and tracefs (running as uid %d)", os.Geteuid())
	}
}

var bpfOnce struct {
	sync.Once
	err error
}

// RequireBPF skips t unless it runs as root, then fails it if the kernel
// cannot create a BPF map: every kernel gotrace supports can.
func RequireBPF(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	bpfOnce.Do(func() {
		m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
		if err == nil {
			m.Close()
		}
		bpfOnce.err = err
	})
	if bpfOnce.err != nil {
		t.Fatalf("live test: running as root, but bpf() cannot create a map on kernel %s: %v", Release(), bpfOnce.err)
	}
}

// TracefsDirs are where tracefs is looked for, in order.
var TracefsDirs = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// Tracefs returns the tracefs directory with event formats in it, or "".
func Tracefs() string {
	for _, d := range TracefsDirs {
		if _, err := os.Stat(d + "/events/syscalls"); err == nil {
			return d
		}
		if _, err := os.Stat(d + "/events/sched"); err == nil {
			return d
		}
	}
	return ""
}

// RequireTracefs is RequireBPF, then makes sure tracefs is mounted: as
// root, gotrace mounts it itself when it is not, and so does this (at
// /sys/kernel/tracing). It fails t when that is impossible, and returns
// the tracefs directory.
func RequireTracefs(t testing.TB) string {
	t.Helper()
	RequireBPF(t)
	if d := Tracefs(); d != "" {
		return d
	}
	if err := unix.Mount("tracefs", TracefsDirs[0], "tracefs", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		t.Fatalf("live test: tracefs is not mounted, and mounting it at %s failed: %v", TracefsDirs[0], err)
	}
	d := Tracefs()
	if d == "" {
		t.Fatalf("live test: tracefs is not mounted, and mounting it at %s did not make its events appear", TracefsDirs[0])
	}
	return d
}

// SkipUnlessFeature skips t when the kernel lacks the feature name (have
// is false) and the kernel is older than minVersion ("5.8"), the first
// release that has it. On a kernel at least that new the missing feature
// fails the test. As a normal user it skips first (RequireRoot): features
// are probed as root.
func SkipUnlessFeature(t testing.TB, name, minVersion string, have bool) {
	t.Helper()
	RequireRoot(t)
	if have {
		return
	}
	v, err := Version()
	if err != nil {
		t.Fatalf("live test: %s is missing, and the kernel version is unknown: %v", name, err)
	}
	featureRule(t, name, minVersion, v)
}

// featureRule is SkipUnlessFeature's decision for a missing feature on a
// kernel of version v.
func featureRule(t testing.TB, name, minVersion string, v [3]int) {
	t.Helper()
	min, err := parseVersion(minVersion)
	if err != nil {
		t.Fatalf("testenv: bad minimum version %q for %s: %v", minVersion, name, err)
	}
	if less(v, min) {
		t.Skipf("live test: needs %s (Linux %s or newer); this kernel is %s", name, minVersion, Release())
	}
	if ignored(t.Name()) {
		t.Skipf("live test: needs %s, missing on kernel %s although it is newer than %s (ignored by GOTRACE_TEST_IGNORE_VERSION)", name, Release(), minVersion)
	}
	t.Fatalf("live test: %s is missing although kernel %s is newer than %s, which has it", name, Release(), minVersion)
}

// SkipUnlessConfig skips t when the kernel lacks the feature name (have is
// false) because it was built without option (CONFIG_KPROBES). When the
// kernel's configuration says the option is on, or cannot be read, the
// missing feature fails the test.
func SkipUnlessConfig(t testing.TB, name, option string, have bool) {
	t.Helper()
	RequireRoot(t)
	if have {
		return
	}
	val, err := Config(option)
	configRule(t, name, option, val, err)
}

// configRule is SkipUnlessConfig's decision for a missing feature when the
// kernel configuration says val (or could not be read: err).
func configRule(t testing.TB, name, option, val string, err error) {
	t.Helper()
	switch {
	case err != nil:
		t.Fatalf("live test: %s is missing, and the kernel configuration cannot say whether %s is on: %v", name, option, err)
	case val == "" || val == "n":
		t.Skipf("live test: needs %s; kernel %s is built without %s", name, Release(), option)
	case ignored(t.Name()):
		t.Skipf("live test: needs %s, missing on kernel %s although %s=%s (ignored by GOTRACE_TEST_IGNORE_VERSION)", name, Release(), option, val)
	default:
		t.Fatalf("live test: %s is missing although kernel %s is built with %s=%s", name, Release(), option, val)
	}
}

func ignored(name string) bool {
	for _, n := range strings.Split(os.Getenv("GOTRACE_TEST_IGNORE_VERSION"), ",") {
		if n = strings.TrimSpace(n); n != "" && (n == name || strings.HasPrefix(name, n+"/")) {
			return true
		}
	}
	return false
}

// Release is the running kernel's release string (uname -r).
func Release() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// Version is the running kernel's version: major, minor, patch.
func Version() ([3]int, error) { return parseVersion(Release()) }

// parseVersion reads "6.18.44-fc-v1252", "5.10" or "6.1.0-28-amd64".
func parseVersion(s string) ([3]int, error) {
	var v [3]int
	rest := s
	for i := 0; i < 3; i++ {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 {
			if i < 2 {
				return v, fmt.Errorf("cannot read a kernel version from %q", s)
			}
			break
		}
		v[i], _ = strconv.Atoi(rest[:j])
		rest = rest[j:]
		if !strings.HasPrefix(rest, ".") {
			if i < 1 {
				return v, fmt.Errorf("cannot read a kernel version from %q", s)
			}
			break
		}
		rest = rest[1:]
	}
	return v, nil
}

func less(a, b [3]int) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

var configOnce struct {
	sync.Once
	vals map[string]string
	err  error
}

// Config returns the value of a kernel configuration option ("y", "m", a
// number or string), or "" when the kernel was built without it, from
// /proc/config.gz or /boot/config-$(uname -r).
func Config(option string) (string, error) {
	configOnce.Do(func() {
		configOnce.vals, configOnce.err = readConfig()
	})
	if configOnce.err != nil {
		return "", configOnce.err
	}
	return configOnce.vals[option], nil
}

func readConfig() (map[string]string, error) {
	var r io.Reader
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("/proc/config.gz: %w", err)
		}
		r = z
	} else if f, err2 := os.Open("/boot/config-" + Release()); err2 == nil {
		defer f.Close()
		r = f
	} else {
		return nil, errors.New("neither /proc/config.gz nor /boot/config-" + Release() + " is readable")
	}
	vals := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.HasPrefix(k, "CONFIG_") {
			vals[k] = strings.Trim(v, `"`)
		}
	}
	return vals, sc.Err()
}
