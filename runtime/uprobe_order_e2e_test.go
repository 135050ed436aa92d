package runtime_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Several uprobes (and uretprobes) on one function fire in the order the
// script declares them, as in bpftrace 0.17; the kernel runs the last
// attached first, so gotrace printed them backwards.
func TestE2EUprobesFireInDeclarationOrder(t *testing.T) {
	bin := buildTarget(t)
	script := strings.ReplaceAll(`uprobe:BIN:target { printf("first\n"); }
uprobe:BIN:target { printf("second\n"); }
uretprobe:BIN:target { printf("ret first\n"); }
uretprobe:BIN:target { printf("ret second\n"); }`, "BIN", bin)
	out := runOpts(t, script, 0, func() { runTarget(t, bin, "2") })
	require.Equal(t, "Attaching 4 probes...\nfirst\nsecond\nret first\nret second\nfirst\nsecond\nret first\nret second\n\n\n", out)
}
