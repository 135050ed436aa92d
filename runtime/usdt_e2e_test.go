package runtime_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/runtime/tracetest"
	"github.com/stretchr/testify/require"
)

// A USDT probe in a binary built by the test (its SDT note written the way
// <sys/sdt.h> writes it): arguments come from the registers the note names,
// with their sizes and signs; the output is what bpftrace printed for the
// same script and binary.
func TestE2EUSDT(t *testing.T) {
	requireKernel(t)
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is needed to build the USDT target")
	}
	bin := filepath.Join(t.TempDir(), "usdt_target")
	out, err := exec.Command(gcc, "-O1", "-o", bin, "../testdata/probes/usdt_target.c").CombinedOutput()
	require.NoError(t, err, "%s", out)

	listed, err := kernel.MatchProbes("usdt:" + bin + ":*")
	require.NoError(t, err)
	require.Equal(t, []string{"usdt:" + bin + ":gotrace:tick"}, listed)

	script := "usdt:" + bin + ":gotrace:tick { printf(\"%d %d %s\\n\", arg0, arg1, probe); @ = count(); }"
	stdout, stderr := tracetest.Run(t, script, func() {
		require.NoError(t, exec.Command(bin, "4").Run())
	}, tracetest.Options{})
	require.Empty(t, stderr)
	probe := "usdt:" + bin + ":gotrace:tick"
	require.Equal(t, "Attaching 1 probe...\n"+
		"0 1000 "+probe+"\n-1 1001 "+probe+"\n-2 1002 "+probe+"\n-3 1003 "+probe+"\n\n\n@: 4\n", stdout)
}
