package runtime_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
	"github.com/stretchr/testify/require"
)

// Updates refused because a map is full are counted and reported at exit,
// never lost silently.
func TestMapFullReportsDroppedUpdates(t *testing.T) {
	t.Setenv("BPFTRACE_MAP_KEYS", "10")
	p := compileOnly(t, `BEGIN { $i = 0; while ($i < 25) { @x[$i] = $i; @c[$i] = count(); $i++; } exit(); }`)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, runtime.Run(ctx, p, runtime.Options{Out: output.NewText(&out), Stderr: &errOut}))
	require.Equal(t, "WARNING: 15 updates of map @c were dropped because it was full; raise BPFTRACE_MAP_KEYS (now 10)\n"+
		"WARNING: 15 updates of map @x were dropped because it was full; raise BPFTRACE_MAP_KEYS (now 10)\n", errOut.String())
	require.Contains(t, out.String(), "@x[9]: 9\n")
	require.NotContains(t, out.String(), "@x[10]")
}
