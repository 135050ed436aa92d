package codegen_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
)

// The ring buffer is sized by what the programs send through it: 64 KiB
// when only BEGIN and END send a bounded number of events (exit() from any
// probe aside), the default megabyte otherwise or when Options say.
func TestRingbufSizedByEvents(t *testing.T) {
	const small, large = 64 << 10, 1 << 20
	comms := `printf("%s %s %s %s\n", comm, comm, comm, comm);` // an 80-byte record
	for _, c := range []struct {
		script string
		want   uint32
	}{
		{`BEGIN { exit(); }`, small},
		{`BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); } tracepoint:syscalls:sys_enter_getppid { @[comm] = count(); } END { print(@); }`, small},
		{`tracepoint:syscalls:sys_enter_getppid { @n = count(); if (@n > 5) { exit(); } }`, small},
		{`tracepoint:syscalls:sys_enter_getppid { printf("%d\n", pid); }`, large},
		{`tracepoint:syscalls:sys_enter_getppid { @x = count(); print(@x); }`, large},
		{`BEGIN { $i = 0; while ($i < 10) { printf("%d\n", $i); $i++; } }`, large},
		{`BEGIN { unroll(100) { ` + comms + ` } }`, small},
		{`BEGIN { unroll(100) { unroll(5) { ` + comms + ` } } }`, large}, // 40 KB: over half of 64
	} {
		src := &lang.Source{Name: "stdin", Text: c.script}
		p, err := codegen.CompileSource(src, &lang.Env{Target: testtarget.Recorded(t, "dev")})
		require.NoError(t, err, c.script)
		require.Equal(t, c.want, p.Spec.Maps[codegen.RingbufMap].MaxEntries, c.script)
	}
	p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: `BEGIN { exit(); }`}, &lang.Env{Target: testtarget.Recorded(t, "dev")}, codegen.Options{RingbufSize: 4096})
	require.NoError(t, err)
	require.Equal(t, uint32(4096), p.Spec.Maps[codegen.RingbufMap].MaxEntries, "an explicit size stays")
}
