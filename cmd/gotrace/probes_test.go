package main

// The command line's process options: -c runs a command once the probes
// are attached and ends with it, -p traces one process and ends with it,
// -l lists uprobes of a binary or of a process. The traced program is
// testdata/probes/target.c, built with gcc.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildTarget compiles testdata/probes/target.c into a short temporary
// directory, or skips without gcc.
func buildTarget(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is needed to build the uprobe target")
	}
	src, err := filepath.Abs("../../testdata/probes/target.c")
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "gt")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "probetarget")
	out, err := exec.Command(gcc, "-O0", "-fno-builtin", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return bin
}

// -c: the probes are attached before the command runs (its very first
// calls are counted), the command's output comes after the header, and
// gotrace ends by itself when the command exits, printing the maps.
func TestCLICommand(t *testing.T) {
	needKernel(t)
	bin := buildTarget(t)
	r := gotrace(t, "", "-c", bin+" 4", "-e",
		"uprobe:"+bin+":target { @c = count(); @s = sum(arg1); } uretprobe:"+bin+":target { @r = sum(retval); } uprobe:libc:atol { @l = count(); }")
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Equal(t, "Attaching 3 probes...\n102\n\n\n@c: 4\n@l: 4\n@r: 102\n@s: 20\n", r.stdout)
}

// -c limits uprobes to the command: the same program run by someone else
// meanwhile is not counted. The command line is split like a shell's, and
// a command that execs another stays traced.
func TestCLICommandOnlyTracesCommand(t *testing.T) {
	needKernel(t)
	bin := buildTarget(t)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // another instance, over and over
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				exec.Command(bin, "1").Run()
			}
		}
	}()
	r := gotrace(t, "", "-c", `/bin/sh -c 'exec `+bin+` "3"'`, "-e", "uprobe:"+bin+":target { @ = count(); @c[comm] = count(); }")
	close(stop)
	<-done
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, "Attaching 1 probe...\n72\n\n\n@: 3\n@c[probetarget]: 3\n", r.stdout)
}

// -c errors: a command that does not exist; -c with -p.
func TestCLICommandErrors(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "-c", "no_such_command_xyz", "-e", "tracepoint:syscalls:sys_enter_getppid { }")
	assert.Equal(t, 1, r.status)
	assert.Equal(t, "ERROR: cannot run the command no_such_command_xyz: executable file not found in $PATH\n", r.stderr)
	assert.Empty(t, r.stdout)

	r = gotrace(t, "", "-c", "/bin/true", "-p", "1", "-e", "BEGIN { }")
	assert.Equal(t, 1, r.status)
	assert.Equal(t, "ERROR: USAGE: Cannot use both -c and -p.\n"+usage, r.stderr)

	r = gotrace(t, "", "-c", "'unterminated", "-e", "BEGIN { }")
	assert.Equal(t, 1, r.status)
	assert.Contains(t, r.stderr, "unterminated ' quote")

	// A script error leaves no command behind and runs nothing.
	dir := t.TempDir()
	r = gotrace(t, "", "-c", "touch "+filepath.Join(dir, "x"), "-e", "BEGIN { @x = pdi; }")
	assert.Equal(t, 1, r.status)
	_, err := os.Stat(filepath.Join(dir, "x"))
	assert.True(t, os.IsNotExist(err))
}

// -p PID: uprobes fire for that process only, and the run ends when it
// exits.
func TestCLIPid(t *testing.T) {
	needKernel(t)
	bin := buildTarget(t)
	traced := exec.Command(bin, "3", "wait")
	in, err := traced.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, traced.Start())
	t.Cleanup(func() { traced.Process.Kill() })
	pid := strconv.Itoa(traced.Process.Pid)

	s := start(t, "Attaching 2 probes...\n", "-p", pid, "-e",
		"uprobe:"+bin+":target { @[pid] = sum(arg0); } uprobe:libc:atol { @l = count(); }")
	require.NoError(t, exec.Command(bin, "5").Run()) // not traced
	in.Write([]byte("go"))
	require.NoError(t, traced.Wait())
	select {
	case err := <-s.done:
		require.NoError(t, err, "stderr: %s", s.errOut.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("gotrace did not end with process %s; stdout %q", pid, s.out.String())
	}
	assert.Equal(t, "Attaching 2 probes...\n\n\n@["+pid+"]: 6\n@l: 3\n", s.out.String())
	assert.Empty(t, s.errOut.String())
}

// -c and -p with kprobes: the kprobe fires for the command (or process)
// once as its only thread exits, and the run ends with it.
func TestCLICommandAndPidKprobe(t *testing.T) {
	needKernel(t)
	if !testtarget.Live().Has(target.Kprobes) {
		t.Skip("kernel has no kprobes")
	}
	bin := buildTarget(t)
	r := gotrace(t, "", "-c", bin+" 2", "-e", `kprobe:do_exit /comm == "probetarget"/ { @ = count(); }`)
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Equal(t, "Attaching 1 probe...\n45\n\n\n@: 1\n", r.stdout)

	traced := exec.Command(bin, "1", "wait")
	in, err := traced.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, traced.Start())
	t.Cleanup(func() { traced.Process.Kill() })
	pid := strconv.Itoa(traced.Process.Pid)
	s := start(t, "Attaching 1 probe...\n", "-p", pid, "-e", "kprobe:do_exit /pid == "+pid+"/ { @[pid] = count(); }")
	in.Write([]byte("go"))
	require.NoError(t, traced.Wait())
	select {
	case err := <-s.done:
		require.NoError(t, err, "stderr: %s", s.errOut.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("gotrace did not end with process %s; stdout %q", pid, s.out.String())
	}
	assert.Equal(t, "Attaching 1 probe...\n\n\n@["+pid+"]: 1\n", s.out.String())
	assert.Empty(t, s.errOut.String())
}

// -p PID with a library short name resolves it in the process's maps, and
// Ctrl-C still ends the run.
func TestCLIPidLibraryAndSignal(t *testing.T) {
	needKernel(t)
	sleep := exec.Command("sleep", "30")
	require.NoError(t, sleep.Start())
	t.Cleanup(func() { sleep.Process.Kill(); sleep.Wait() })
	pid := strconv.Itoa(sleep.Process.Pid)
	waitMapped(t, pid, "libc.so")
	s := start(t, "Attaching 1 probe...\n", "-p", pid, "-e", "uprobe:libc:malloc { @[pid] = count(); }")
	require.NoError(t, exec.Command("/bin/true").Run()) // mallocs, not traced
	assert.Equal(t, 0, s.stop(t, syscall.SIGINT), s.errOut.String())
	assert.True(t, strings.HasPrefix(s.out.String(), "Attaching 1 probe...\n\n\n"), s.out.String())
	assert.NotContains(t, s.out.String(), "@[", "sleep does not malloc, and nothing else is traced")
}

func waitMapped(t *testing.T, pid, lib string) {
	t.Helper()
	if !eventually(10*time.Second, func() bool {
		maps, _ := os.ReadFile("/proc/" + pid + "/maps")
		return strings.Contains(string(maps), lib)
	}) {
		t.Fatalf("process %s never mapped %s", pid, lib)
	}
}

func TestCLIPidErrors(t *testing.T) {
	needBinary(t)
	r := gotrace(t, "", "-p", "1073741824", "-e", "BEGIN { }")
	assert.Equal(t, 1, r.status)
	assert.Equal(t, "ERROR: pid '1073741824' out of valid pid range [1,4194304]\n", r.stderr)
	r = gotrace(t, "", "-p", "4194304", "-e", "BEGIN { }")
	assert.Equal(t, 1, r.status)
	assert.Equal(t, "ERROR: -p 4194304: process 4194304 does not exist\n", r.stderr)
}

// -l lists the uprobes of a binary, of a library by short name, and of a
// running process.
func TestCLIListUprobes(t *testing.T) {
	needKernel(t)
	bin := buildTarget(t)
	r := gotrace(t, "", "-l", "uprobe:"+bin+":*")
	assert.Equal(t, 0, r.status, r.stderr)
	for _, fn := range []string{"_start", "main", "target"} {
		assert.Contains(t, r.stdout, "uprobe:"+bin+":"+fn+"\n")
	}
	r = gotrace(t, "", "-l", "u:"+bin+":tar*")
	assert.Equal(t, "uprobe:"+bin+":target\n", r.stdout)

	r = gotrace(t, "", "-l", "uprobe:libc:atol")
	assert.Regexp(t, `^uprobe:/\S*/libc\.so\.6:atol\n$`, r.stdout)

	traced := exec.Command(bin, "1", "wait")
	in, err := traced.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, traced.Start())
	defer func() { in.Close(); traced.Wait() }()
	pid := strconv.Itoa(traced.Process.Pid)
	waitMapped(t, pid, "libc.so")
	r = gotrace(t, "", "-p", pid, "-l", "*:target")
	assert.Equal(t, "uprobe:"+bin+":target\n", r.stdout)
	r = gotrace(t, "", "-p", pid, "-l")
	assert.Contains(t, r.stdout, "uprobe:"+bin+":main\n")
	assert.Regexp(t, `\nuprobe:/\S*/libc\.so\.6:malloc\n`, r.stdout)

	r = gotrace(t, "", "-l", "uprobe:/no/such:*")
	assert.Equal(t, 1, r.status)
	assert.Equal(t, "ERROR: uprobe target file '/no/such' does not exist or is not executable\n", r.stderr)
}

// Probe types that cannot attach here: --dry-run loads them (or says in one
// line why it cannot), running says in one line what the kernel lacks.
func TestCLIUnattachable(t *testing.T) {
	needKernel(t)
	if _, err := os.Stat("/sys/kernel/tracing/kprobe_events"); err == nil {
		t.Skip("this kernel has kprobes")
	}
	for _, tc := range []struct {
		script  string
		dryRun  bool // --dry-run succeeds
		pattern string
	}{
		{"kprobe:vfs_* { @[func] = count(); }", true, `^ERROR: cannot attach kprobe:vfs_\*: this kernel has no kprobes \(CONFIG_KPROBES is off\)`},
		{"kprobe:vfs_read+16 { @ = count(); }", true, `^ERROR: cannot attach kprobe:vfs_read\+16: this kernel has no kprobes`},
		{"hardware:cycles:1e6 { @ = count(); }", true, `^ERROR: cannot attach hardware:cycles:1e6: this machine has no hardware performance counters`},
		{"fentry:vfs_read { @ = count(); }", false, `^ERROR: cannot load fentry:vfs_read: fentry probes need BPF trampolines, which this kernel refuses \(fentry/fexit programs cannot load`},
		{"usdt:/bin/sh:p:n { @ = count(); }", false, `^stdin:1:1-17: ERROR: no USDT probe p:n in /bin/sh`},
	} {
		r := gotrace(t, "", "--dry-run", "-e", tc.script)
		if tc.dryRun {
			assert.Equal(t, 0, r.status, "%s: %s", tc.script, r.stderr)
			assert.Empty(t, r.stderr)
		} else {
			assert.Equal(t, 1, r.status, tc.script)
			assert.Regexp(t, tc.pattern, r.stderr)
		}
		r = gotrace(t, "", "-e", tc.script)
		assert.Equal(t, 1, r.status, tc.script)
		assert.Empty(t, r.stdout, tc.script)
		assert.Regexp(t, tc.pattern, r.stderr)
		if !strings.HasPrefix(tc.pattern, "^stdin") {
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
		}
	}
}

// cpid is the process id of the -c command: its uprobe fires with pid ==
// cpid, and the command's exit is seen by pid too. Without -c, cpid is an
// error in bpftrace's words.
func TestCLICpid(t *testing.T) {
	needKernel(t)
	bin := buildTarget(t)
	r := gotrace(t, "", "-c", bin+" 2", "-e",
		"uprobe:"+bin+":target { @same[pid == cpid] = count(); } BEGIN { @set = cpid > 0; }")
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, "Attaching 2 probes...\n45\n\n\n@same[1]: 2\n@set: 1\n", r.stdout)

	r = gotrace(t, "", "-e", `BEGIN { printf("%d\n", cpid); exit(); }`)
	assert.Equal(t, 1, r.status)
	assert.Contains(t, r.stderr, "stdin:1:24-28: ERROR: cpid cannot be used without child command")
}
