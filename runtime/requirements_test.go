package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
)

// A kernel without the ring buffer, or without test runs of raw tracepoint
// programs, stops the run with one sentence naming the feature and the
// Linux version that brought it.
func TestRequirementsNameTheMissingFeature(t *testing.T) {
	compile := func(tgt target.Target, script string) *codegen.Program {
		p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: script}, &lang.Env{Target: tgt})
		require.NoError(t, err)
		return p
	}
	dev := testtarget.Recorded(t, "dev")
	require.NoError(t, requirements(compile(dev, `BEGIN { exit(); }`)))

	noRingbuf := testtarget.WithFeatures(dev, map[target.Feature]bool{target.RingBuf: false})
	require.EqualError(t, requirements(compile(noRingbuf, `interval:s:1 { exit(); }`)),
		"gotrace's event buffer needs ringbuf, which this kernel (6.18.44-fc-v1252) does not have (it came in Linux 5.8)")

	noTestRun := testtarget.WithFeatures(dev, map[target.Feature]bool{target.RawTracepointTestRun: false})
	require.NoError(t, requirements(compile(noTestRun, `interval:s:1 { exit(); }`)))
	require.EqualError(t, requirements(compile(noTestRun, `BEGIN { exit(); }`)),
		"BEGIN needs raw_tracepoint_test_run, which this kernel (6.18.44-fc-v1252) does not have (it came in Linux 5.10)")
}
