package runtime_test

// Kernel probe types end to end, with real triggers: kprobes (a function,
// +offset, wildcards, kprobe:sys_X with the syscall's own arguments),
// kretprobes with retval, fentry/fexit with typed args and retval, kstack
// in a kprobe and ustack in a uprobe. Each test is gated on the kernel
// feature it needs, and skips naming it; the development VM has neither
// kprobes nor fentry, so they run inside the kernel matrix:
//
//	go test -c -o /var/tmp/rt.test ./runtime
//	cd runtime && /work/wt-matrix/matrix/run -s 1 6.1 -- /var/tmp/rt.test -test.run TestKernelProbes -test.v
//
// The trigger is a child process (this test binary, re-executed) whose
// tracing thread has a unique comm and makes exactly N system calls; the
// scripts filter on that comm, and the child has exited before the run is
// stopped, so the counts are final.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// childEnv makes the test binary a trigger instead of a test run:
// "COMM OP N [ARG]" (see runChild).
const childEnv = "GOTRACE_KPROBE_CHILD"

// readSize is what each read of the trigger asks for, and gets (/dev/zero).
const readSize = 7

func init() {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(strings.Fields(spec)))
	}
}

// runChild is the trigger process: on one locked thread named comm it does
// exactly n system calls of one kind, and nothing else under that name.
//
//	read N        read(fd of /dev/zero, buf, 7)
//	kill N PID    kill(PID, 0)
//	getppid N     getppid()
func runChild(args []string) int {
	goruntime.LockOSThread()
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "child: want COMM OP N [ARG]")
		return 2
	}
	comm, op := args[0], args[1]
	n, err := strconv.Atoi(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	var fd int
	var pid int
	switch op {
	case "read":
		if fd, err = unix.Open("/dev/zero", unix.O_RDONLY, 0); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
	case "kill":
		if pid, err = strconv.Atoi(args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 2
		}
	}
	// Named last: everything before was done under the old name.
	name, _ := unix.BytePtrFromString(comm)
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(name)), 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "child: prctl:", err)
		return 1
	}
	buf := make([]byte, readSize)
	for i := 0; i < n; i++ {
		switch op {
		case "read":
			if got, err := unix.Read(fd, buf); err != nil || got != readSize {
				fmt.Fprintln(os.Stderr, "child: read:", got, err)
				return 1
			}
		case "kill":
			if err := unix.Kill(pid, 0); err != nil {
				fmt.Fprintln(os.Stderr, "child: kill:", err)
				return 1
			}
		case "getppid":
			unix.Getppid()
		default:
			fmt.Fprintln(os.Stderr, "child: unknown op", op)
			return 2
		}
	}
	return 0
}

var childSeq atomic.Int32

// newComm is a comm no other process has: "gtkp" and the test's pid and a
// sequence number, at most 15 bytes.
func newComm() string {
	s := fmt.Sprintf("gtkp%d_%d", os.Getpid()%100000, childSeq.Add(1))
	return s[:min(len(s), 15)]
}

// trigger runs the child to completion: op, n times, under comm. It runs
// on the tracer's goroutine, so it fails the test without stopping it.
func trigger(t *testing.T, comm, op string, n int, arg ...string) {
	t.Helper()
	exe, err := os.Executable()
	if !assert.NoError(t, err) {
		return
	}
	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(append([]string{comm, op, strconv.Itoa(n)}, arg...), " "))
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "trigger: %s", out)
}

func needFeature(t *testing.T, f target.Feature, name string) {
	t.Helper()
	requireKernel(t)
	if !testtarget.Live().Has(f) {
		t.Skip("kernel has no " + name)
	}
}

// kp runs script (COMM replaced by comm) with the trigger, and returns
// stdout; stderr must be empty.
func kp(t *testing.T, script, comm string, trig func()) string {
	t.Helper()
	out, errOut := run(t, strings.ReplaceAll(script, "COMM", comm), nil, trig)
	assert.Empty(t, errOut, "stderr")
	return out
}

// kpN is how many system calls each trigger makes.
const kpN = 5

// kprobe on a function: exactly n calls of vfs_read by the child.
func TestKernelProbesKprobe(t *testing.T) {
	needFeature(t, target.Kprobes, "kprobes")
	c := newComm()
	out := kp(t, `kprobe:vfs_read /comm == "COMM"/ { @ = count(); @c[comm] = count(); @a = sum(arg2); }`, c,
		func() { trigger(t, c, "read", kpN) })
	assert.Equal(t, fmt.Sprintf("Attaching 1 probe...\n\n\n@: %d\n@a: %d\n@c[%s]: %d\n", kpN, kpN*readSize, c, kpN), out)
}

// kprobe:FUNC+OFFSET, at an instruction boundary found on this kernel.
func TestKernelProbesKprobeOffset(t *testing.T) {
	needFeature(t, target.Kprobes, "kprobes")
	off := kprobeOffset(t, "vfs_read")
	c := newComm()
	for _, o := range []uint64{0, off} {
		t.Run(fmt.Sprintf("+%d", o), func(t *testing.T) {
			out := kp(t, fmt.Sprintf(`kprobe:vfs_read+%d /comm == "COMM"/ { @[probe] = count(); }`, o), c,
				func() { trigger(t, c, "read", kpN) })
			assert.Equal(t, fmt.Sprintf("Attaching 1 probe...\n\n\n@[kprobe:vfs_read+%d]: %d\n", o, kpN), out)
		})
	}
}

// kprobeOffset finds the first offset in fn, past its first instruction,
// where the kernel accepts a kprobe (an instruction boundary): it tries
// them with the smallest kprobe program.
func kprobeOffset(t *testing.T, fn string) uint64 {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.Kprobe,
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
		License:      "GPL",
	})
	require.NoError(t, err)
	defer prog.Close()
	for off := uint64(1); off < 32; off++ {
		l, err := link.Kprobe(fn, prog, &link.KprobeOptions{Offset: off})
		if err == nil {
			l.Close()
			return off
		}
	}
	t.Fatalf("no offset in 1..31 of %s takes a kprobe", fn)
	return 0
}

// Wildcards: every match attached (one kprobe per function, or
// kprobe_multi), each with its own probe name.
func TestKernelProbesKprobeWildcard(t *testing.T) {
	needFeature(t, target.Kprobes, "kprobes")
	c := newComm()
	out := kp(t, `kprobe:vfs_rea* /comm == "COMM"/ { @[probe] = count(); }`, c,
		func() { trigger(t, c, "read", kpN) })
	require.True(t, strings.HasPrefix(out, "Attaching "), "%q", out)
	assert.NotEqual(t, "Attaching 1 probe...", firstLine(out), "vfs_rea* matches more than vfs_read")
	assert.Contains(t, out, fmt.Sprintf("\n@[kprobe:vfs_read]: %d\n", kpN))
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "@[") {
			assert.True(t, strings.HasPrefix(l, "@[kprobe:vfs_rea"), "%q", l)
		}
	}
}

// kretprobe with retval: each read returns readSize bytes.
func TestKernelProbesKretprobe(t *testing.T) {
	needFeature(t, target.Kprobes, "kprobes")
	c := newComm()
	out := kp(t, `kretprobe:vfs_read /comm == "COMM"/ { @[retval] = count(); @s = sum(retval); }`, c,
		func() { trigger(t, c, "read", kpN) })
	assert.Equal(t, fmt.Sprintf("Attaching 1 probe...\n\n\n@[%d]: %d\n@s: %d\n", readSize, kpN, kpN*readSize), out)
}

// fentry with typed args (both spellings), fexit with args and retval.
func TestKernelProbesFentryFexit(t *testing.T) {
	needFeature(t, target.Fentry, "fentry")
	c := newComm()
	out := kp(t, `fentry:vfs_read /comm == "COMM"/ { @in[args->count] = count(); @dot[args.count] = count(); }
fexit:vfs_read /comm == "COMM"/ { @out[args->count, retval] = count(); }`, c,
		func() { trigger(t, c, "read", kpN) })
	assert.Equal(t, fmt.Sprintf("Attaching 2 probes...\n\n\n@dot[%[1]d]: %[2]d\n@in[%[1]d]: %[2]d\n@out[%[1]d, %[1]d]: %[2]d\n",
		readSize, kpN), out)
}

// kprobe:sys_kill: on a kprobe kernel, the syscall's entry function, with
// arg0 and arg1 the syscall's own arguments; without kprobes, the syscall
// tracepoint, with the same arguments and a warning.
func TestKernelProbesSyscallArgs(t *testing.T) {
	requireKernel(t)
	c := newComm()
	pid := os.Getpid()
	out, errOut := run(t, strings.ReplaceAll(`kprobe:sys_kill /comm == "COMM"/ { @[arg0, arg1] = count(); }
kretprobe:sys_getppid /comm == "COMM"/ { @ppid[retval] = count(); }`, "COMM", c), nil, func() {
		trigger(t, c, "kill", kpN, strconv.Itoa(pid))
		trigger(t, c, "getppid", kpN)
	})
	assert.Equal(t, fmt.Sprintf("Attaching 2 probes...\n\n\n@[%d, 0]: %d\n@ppid[%d]: %d\n", pid, kpN, pid, kpN), out)
	if testtarget.Live().Has(target.Kprobes) {
		assert.Empty(t, errOut, "a kprobe kernel attaches kprobe:sys_kill itself")
	} else {
		assert.Contains(t, errOut, "tracepoint:syscalls:sys_enter_kill")
	}
}

// The user's one-liner, as typed: on a kprobe kernel it attaches to the
// syscall's entry function (no warning), elsewhere it falls back to the
// syscall tracepoint (one warning); either way it prints "hi" per clone.
func TestKernelProbesSysCloneAsTyped(t *testing.T) {
	requireKernel(t)
	const runs = 3
	out, errOut := run(t, `kprobe:sys_clone < printf("hi") >`, nil, func() { spawn(t, runs) })
	require.True(t, strings.HasPrefix(out, "Attaching 1 probe...\n"), "stdout: %q", out)
	body := strings.TrimSpace(strings.TrimPrefix(out, "Attaching 1 probe...\n"))
	assert.GreaterOrEqual(t, strings.Count(body, "hi"), runs, "one clone per process spawned: %q", out)
	assert.Empty(t, strings.ReplaceAll(body, "hi", ""), "only the printf's output")
	if testtarget.Live().Has(target.Kprobes) {
		assert.Empty(t, errOut, "no fallback on a kprobe kernel")
	} else {
		assert.Contains(t, errOut, "tracepoint:syscalls:sys_enter_clone")
	}
}

// kstack in a kprobe, symbolized: vfs_read is on it, and so is its caller.
func TestKernelProbesKstack(t *testing.T) {
	needFeature(t, target.Kprobes, "kprobes")
	c := newComm()
	out := kp(t, `kprobe:vfs_read /comm == "COMM"/ { @[kstack] = count(); }`, c,
		func() { trigger(t, c, "read", kpN) })
	assert.Contains(t, out, "vfs_read", "%s", out)
	assert.Contains(t, out, "ksys_read", "%s", out)
	assert.Contains(t, out, fmt.Sprintf("]: %d\n", kpN), "one stack, n times: %s", out)
	assert.NotContains(t, out, "0x", "every frame symbolized: %s", out)
}

// ustack in a uprobe, symbolized: target called from main. The traced
// process stays until the stacks are printed (bpftrace too prints bare
// addresses for a process that is gone).
func TestKernelProbesUstack(t *testing.T) {
	requireKernel(t)
	bin := buildTarget(t)
	cmd := exec.Command(bin, "3", "hold")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	out := runOpts(t, strings.ReplaceAll(`uprobe:BIN:target { @[ustack] = count(); }`, "BIN", bin), 0, func() {
		// Not require: this runs on the tracer's goroutine.
		if !assert.NoError(t, cmd.Start()) {
			return
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		assert.NoError(t, err)
		assert.Equal(t, "72\n", line, "the sum of what target returned")
	})
	// At a function's first instruction the frame pointer is still the
	// caller's: kernels that do not fix that up (5.10) skip main, and
	// bpftrace prints the same there.
	assert.Regexp(t, `\n    target\+0\n    (main|__libc_start_call_main)\+\d+\n`, out)
	assert.Contains(t, out, "]: 3\n", "%s", out)
}
