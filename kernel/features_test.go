package kernel

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotrace/gotrace/internal/testenv"
)

// The feature probes answer the same twice, and say what they found (the
// matrix's log then says it per kernel).
func TestFeatureProbes(t *testing.T) {
	testenv.RequireBPF(t)
	for name, probe := range map[string]func() bool{
		"sign_extend_load": HaveSignExtendLoad, "zero_padded_comm": HaveZeroPaddedComm,
		"fentry": HaveFentry, "raw_tracepoint_test_run": HaveRawTracepointTestRun,
	} {
		got := probe()
		t.Logf("%s: %v", name, got)
		require.Equal(t, got, probe(), name)
	}
	require.True(t, HaveRawTracepointTestRun(), "every kernel gotrace supports (5.10 on) runs raw tracepoint programs")
}
