package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// User frames in perf's format, as bpftrace 0.17 prints them for
// ustack(perf): the address, the symbol and its file, or [unknown].
func TestPerfUserFrame(t *testing.T) {
	require.Equal(t, "56047e52151e tb_gen_code+222 (/usr/bin/qemu-system-x86_64)",
		perfUserFrame(0x56047e52151e, "tb_gen_code", 222, "/usr/bin/qemu-system-x86_64", true))
	require.Equal(t, "7f30547f4e30 0x7f30547f4e30 ([unknown])", perfUserFrame(0x7f30547f4e30, "", 0, "", false))
}
