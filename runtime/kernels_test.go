package runtime

// Tests of behaviour that differs between kernels (issue 18). They run on
// the development VM and, unchanged, inside each kernel of the matrix.

import (
	"bytes"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// requireTracepoints is the live tier's rule (testenv): skip as a normal
// user; as root, tracefs is mounted if need be, and a missing syscall
// tracepoint fails, since every kernel gotrace supports has them.
func requireTracepoints(t *testing.T) {
	t.Helper()
	testenv.RequireTracefs(t)
	require.True(t, kernel.TracepointExists("syscalls", "sys_enter_getppid"), "no tracepoint syscalls:sys_enter_getppid")
}

// compileFor compiles script for the running kernel, as gotrace does.
func compileFor(t *testing.T, script string) *codegen.Program {
	t.Helper()
	p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: script}, &lang.Env{Target: testtarget.Live()})
	require.NoError(t, err)
	return p
}

// getppidAs makes n getppid calls from a thread named comm (its own OS
// thread, which ends with it).
func getppidAs(t *testing.T, comm string, n int) {
	t.Helper()
	done := make(chan error)
	go func() {
		// The thread gets its name back before it is unlocked: it may be
		// the process's main thread, which Go never ends, and whose name
		// other tests read as the process's comm (/proc/self/comm).
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		var old [16]byte
		if err := unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0); err != nil {
			done <- err
			return
		}
		name := append([]byte(comm), 0)
		if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&name[0])), 0, 0, 0); err != nil {
			done <- err
			return
		}
		for i := 0; i < n; i++ {
			unix.Getppid()
		}
		done <- unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&old[0])), 0, 0, 0)
	}()
	require.NoError(t, <-done)
}

// TestCommKeysZeroPadded: a comm map key holds the name and zeroes, so one
// thread's events land under one key with the exact count. On kernels
// whose bpf_get_current_comm copies only up to the NUL (Debian's 6.1),
// the bytes after it were stack garbage, which split the key.
func TestCommKeysZeroPadded(t *testing.T) {
	requireTracepoints(t)
	comm := fmt.Sprintf("gtc%d", os.Getpid()%100000)
	p := compileFor(t, `tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); }`)
	l, err := Load(p, LoadOptions{})
	require.NoError(t, err)
	defer l.Close()
	a, err := Attach(l, AttachOptions{})
	require.NoError(t, err)
	const n = 200
	getppidAs(t, comm, n)
	a.Close()

	m := l.Coll.Maps[p.Maps[0].Kernel]
	var key []byte
	var vals []uint64
	keys, total := 0, uint64(0)
	iter := m.Iterate()
	for iter.Next(&key, &vals) {
		name, tail, _ := bytes.Cut(key, []byte{0})
		if string(name) != comm {
			continue
		}
		keys++
		require.Equal(t, make([]byte, len(tail)), tail, "the bytes after %q's NUL in its key", comm)
		for _, v := range vals {
			total += v
		}
	}
	require.NoError(t, iter.Err())
	require.Equal(t, 1, keys, "keys for %q", comm)
	require.Equal(t, uint64(n), total)
}

// TestMissingKprobeSkipped: a kprobe on a function this kernel cannot
// trace is skipped with a warning naming it and why, and the other probes
// run, as in bpftrace; with no probe left, attaching fails.
func TestMissingKprobeSkipped(t *testing.T) {
	requireTracepoints(t)
	if !kernel.HaveKprobes() {
		t.Skip("kernel has no kprobes")
	}
	const missing = "gotrace_no_such_function"
	p := compileFor(t, `kprobe:`+missing+` { @a = count(); }
tracepoint:syscalls:sys_enter_getppid { @b[comm] = count(); }`)
	l, err := Load(p, LoadOptions{})
	require.NoError(t, err)
	defer l.Close()
	var warnings []string
	a, err := Attach(l, AttachOptions{Warn: func(w string) { warnings = append(warnings, w) }})
	require.NoError(t, err)
	comm := fmt.Sprintf("gtk%d", os.Getpid()%100000)
	getppidAs(t, comm, 10)
	a.Close()
	require.Len(t, warnings, 1)
	require.Contains(t, warnings[0], "kprobe:"+missing)
	require.Contains(t, warnings[0], "available_filter_functions")
	require.Contains(t, warnings[0], "skipping")
	require.NotContains(t, warnings[0], "__x64_", "the syscall prefix is tried only for sys_* functions")

	key := make([]byte, 16)
	copy(key, comm)
	var vals []uint64
	require.NoError(t, l.Coll.Maps[p.Maps[1].Kernel].Lookup(key, &vals))
	total := uint64(0)
	for _, v := range vals {
		total += v
	}
	require.Equal(t, uint64(10), total)

	p = compileFor(t, `kprobe:`+missing+` { @a = count(); } kretprobe:`+missing+` { @b = count(); }`)
	l2, err := Load(p, LoadOptions{})
	require.NoError(t, err)
	defer l2.Close()
	_, err = Attach(l2, AttachOptions{})
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "no probe could be attached"), err.Error())
}

// TestSignedLoadFallback: a signed narrow field (openat's int dfd,
// AT_FDCWD = -100) reads as negative both with a sign-extending load and
// with the fallback for kernels before 6.6 (a plain load and two shifts).
func TestSignedLoadFallback(t *testing.T) {
	requireTracepoints(t)
	if !kernel.TracepointExists("syscalls", "sys_enter_openat") {
		t.Skip("no tracepoint syscalls:sys_enter_openat")
	}
	for _, sx := range []bool{false, testtarget.Live().Has(target.SignExtendLoad)} {
		tgt := testtarget.WithFeatures(testtarget.Live(), map[target.Feature]bool{target.SignExtendLoad: sx})
		t.Run(fmt.Sprintf("SignExtendLoad=%v", sx), func(t *testing.T) {
			done := make(chan error)
			go func() {
				goruntime.LockOSThread()
				defer goruntime.UnlockOSThread()
				tid := fmt.Sprint(unix.Gettid())
				p, err := codegen.CompileSource(&lang.Source{Name: "stdin",
					Text: `tracepoint:syscalls:sys_enter_openat /tid == $1/ { @min = min(args->dfd); @max = max(args->dfd); }`},
					&lang.Env{Target: tgt, Args: []string{tid}})
				if err != nil {
					done <- err
					return
				}
				l, err := Load(p, LoadOptions{})
				if err != nil {
					done <- err
					return
				}
				defer l.Close()
				a, err := Attach(l, AttachOptions{})
				if err != nil {
					done <- err
					return
				}
				fd, err := unix.Openat(unix.AT_FDCWD, "/dev/null", unix.O_RDONLY, 0)
				if err == nil {
					unix.Close(fd)
				}
				a.Close()
				maps, err := ReadMaps(l)
				if err != nil {
					done <- err
					return
				}
				for _, m := range maps {
					if len(m.Entries) != 1 || fmt.Sprint(m.Entries[0].Value) != "-100" {
						done <- fmt.Errorf("%s: %+v, want -100", m.Name, m.Entries)
						return
					}
				}
				done <- nil
			}()
			require.NoError(t, <-done)
		})
	}
}
