package runtime_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/runtime/tracetest"
	"github.com/stretchr/testify/require"
)

// buildStackargs compiles testdata/probes/stackargs.c, or skips without gcc.
func buildStackargs(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is needed to build the stack-arguments program")
	}
	src, err := filepath.Abs("../testdata/probes/stackargs.c")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "stackargs")
	out, err := exec.Command(gcc, "-O0", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return bin
}

// sarg0 and sarg1 are a function's first arguments passed on the stack:
// for stackargs(1, 2, 3, 4, 5, 6, 70, 80), 70 and 80. bpftrace 0.17 prints
// "SUCCESS 70 80" for the same probe on its own test program.
func TestE2EStackArguments(t *testing.T) {
	bin := buildStackargs(t)
	script := strings.ReplaceAll(`uprobe:BIN:stackargs { printf("SUCCESS %d %d\n", sarg0, sarg1); }`, "BIN", bin)
	got := runOpts(t, script, 0, func() { runTarget(t, bin) })
	require.Equal(t, "Attaching 1 probe...\nSUCCESS 70 80\n\n\n", got)
}

// BPFTRACE_NO_USER_SYMBOLS=1 prints user addresses where symbols would be,
// as bpftrace 0.17 does ("0x55c32358f129|" and the stack's addresses).
func TestE2ENoUserSymbols(t *testing.T) {
	bin := buildStackargs(t)
	requireKernel(t)
	script := strings.ReplaceAll(`uprobe:BIN:stackargs { printf("%s|%s\n", usym(reg("ip")), ustack(1)); }`, "BIN", bin)
	p, err := compile(t, script, nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		noSyms bool
		want   string
	}{
		{false, `(?s)^Attaching 1 probe\.\.\.\nstackargs\|\n        stackargs\+0\n\n`},
		{true, `(?s)^Attaching 1 probe\.\.\.\n0x[0-9a-f]+\|\n        0x[0-9a-f]+\n\n`},
	} {
		// The program waits on its standard input until the event is
		// printed: the symbols of a process that has exited are gone.
		cmd := exec.Command(bin, "wait")
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		got, _ := tracetest.RunProgram(t, p, func() { require.NoError(t, cmd.Start()) },
			tracetest.Options{NoUserSymbols: tc.noSyms, Until: func(out string) bool { return strings.Count(out, "\n") >= 3 }})
		stdin.Close()
		require.NoError(t, cmd.Wait())
		require.Regexp(t, tc.want, got)
	}
}
