package runtime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// sarg0 and sarg1 are a function's first arguments passed on the stack:
// for stackargs(1, 2, 3, 4, 5, 6, 70, 80), 70 and 80. bpftrace 0.17 prints
// "SUCCESS 70 80" for the same probe on its own test program.
func TestE2EStackArguments(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is needed to build the stack-arguments program")
	}
	src, err := filepath.Abs("../testdata/probes/stackargs.c")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "stackargs")
	out, err := exec.Command(gcc, "-O0", "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	script := strings.ReplaceAll(`uprobe:BIN:stackargs { printf("SUCCESS %d %d\n", sarg0, sarg1); }`, "BIN", bin)
	got := runOpts(t, script, 0, func() { runTarget(t, bin) })
	require.Equal(t, "Attaching 1 probe...\nSUCCESS 70 80\n\n\n", got)
	_ = os.Remove(bin)
}
