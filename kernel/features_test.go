package kernel

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProbeFeatures runs the probes on the running kernel and prints what
// they found (the matrix's log then says, per kernel); a second call gives
// the cached answer.
func TestProbeFeatures(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("probing kernel features needs root")
	}
	f := ProbeFeatures()
	t.Logf("%+v", f)
	require.Equal(t, f, ProbeFeatures())
}
