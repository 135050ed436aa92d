package codegen_test

import (
	"testing"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestPerfEventMapsPreallocated: kernels before 6.1 refuse a perf_event
// program (interval, profile) that uses a hash map created with
// BPF_F_NO_PREALLOC, so the maps those programs use are preallocated;
// the others still are not.
func TestPerfEventMapsPreallocated(t *testing.T) {
	p, err := codegen.CompileSource(&lang.Source{Name: "stdin",
		Text: `BEGIN { @other[1] = 1; } interval:ms:100 { @ticks = count(); @k[cpu] = sum(1); }`}, &lang.Env{Target: testtarget.Recorded(t, "dev")})
	require.NoError(t, err)
	flags := map[string]uint32{}
	for _, md := range p.Maps {
		flags[md.Name] = p.Spec.Maps[md.Kernel].Flags & unix.BPF_F_NO_PREALLOC
	}
	require.Equal(t, map[string]uint32{"@other": unix.BPF_F_NO_PREALLOC, "@ticks": 0, "@k": 0}, flags)
}
