package codegen_test

import (
	"testing"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Maps a perf_event program (profile, interval, ...) uses are preallocated:
// 5.10's verifier refuses it any other. The others allocate as keys come.
func TestPerfEventMapsPreallocated(t *testing.T) {
	p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: `
profile:hz:99 { @stacks[kstack] = count(); }
tracepoint:syscalls:sys_enter_read { @reads[comm] = count(); }`},
		&lang.Env{Target: testtarget.Recorded(t, "dev")})
	require.NoError(t, err)
	flags := map[string]uint32{}
	for _, md := range p.Maps {
		flags[md.Name] = p.Spec.Maps[md.Kernel].Flags
	}
	assert.Zero(t, flags["@stacks"]&unix.BPF_F_NO_PREALLOC, "@stacks is used by a perf_event program")
	assert.NotZero(t, flags["@reads"]&unix.BPF_F_NO_PREALLOC, "@reads is not")
}
