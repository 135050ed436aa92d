package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
	"github.com/gotrace/gotrace/runtime/tracetest"
)

// Updates refused because a map is full are counted and reported at exit,
// never lost silently.
func TestMapFullReportsDroppedUpdates(t *testing.T) {
	testenv.RequireBPF(t)
	p := compileOnly(t, `BEGIN { $i = 0; while ($i < 25) { @x[$i] = $i; @c[$i] = count(); $i++; } exit(); }`, codegen.Options{MapKeys: 10})
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, runtime.Run(ctx, p, runtime.Options{Out: output.NewText(&out), Stderr: &errOut}))
	require.Equal(t, "WARNING: 15 updates of map @c were dropped because it was full; raise BPFTRACE_MAP_KEYS_MAX (now 10)\n"+
		"WARNING: 15 updates of map @x were dropped because it was full; raise BPFTRACE_MAP_KEYS_MAX (now 10)\n", errOut.String())
	require.Contains(t, out.String(), "@x[9]: 9\n")
	require.NotContains(t, out.String(), "@x[10]")
}

// Outside loops a refused insert takes a branch of its own; count(),
// hist() and lhist() share their in-place add with the drop counter, and
// every other kind counts it separately. Each is checked here.
func TestMapFullDropsOutsideLoops(t *testing.T) {
	testenv.RequireBPF(t)
	p := compileOnly(t, `BEGIN { $i = 0; unroll(7) { @c[$i] = count(); @s[$i] = sum(5); @m[$i] = max($i);
	  @h[$i] = hist($i); @l[$i] = lhist($i, 0, 10, 1); @x[$i] = $i; $i++; } exit(); }`, codegen.Options{MapKeys: 4})
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, runtime.Run(ctx, p, runtime.Options{Out: output.NewText(&out), Stderr: &errOut}))
	for _, m := range []string{"c", "h", "l", "m", "s", "x"} {
		require.Contains(t, errOut.String(), fmt.Sprintf("WARNING: 3 updates of map @%s were dropped because it was full", m))
	}
	require.Contains(t, out.String(), "@c[3]: 1\n")
	require.Contains(t, out.String(), "@s[3]: 5\n")
	require.NotContains(t, out.String(), "@c[4]")
	require.NotContains(t, out.String(), "@s[4]")
}

// When the ring buffer is full, events are counted as lost and reported,
// and an exit() whose event was dropped still ends the run.
func TestFullRingBufferLostAndExit(t *testing.T) {
	script := `BEGIN { unroll(100) { printf("%s\n", "0123456789012345678901234567890123456789"); } exit(); }`
	out, _ := tracetest.Run(t, script, nil, tracetest.Options{Compile: codegen.Options{RingbufSize: 4096}, Timeout: 10 * time.Second})
	lines := strings.Count(out, "0123456789012345678901234567890123456789\n")
	require.Less(t, lines, 100, "a 4 KiB ring buffer cannot hold 100 events")
	var lost int
	_, err := fmt.Sscanf(out[strings.Index(out, "Lost "):], "Lost %d events\n", &lost)
	require.NoError(t, err, "lost events are reported: %q", out)
	// Every printf either printed or counted as lost; the exit event may
	// be lost too (the reader drains concurrently), and the run ended.
	require.Contains(t, []int{100, 101}, lines+lost, "printed %d, lost %d", lines, lost)
}
