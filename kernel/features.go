package kernel

import (
	"github.com/cilium/ebpf/rlimit"
)

// RaiseMemlock lifts RLIMIT_MEMLOCK where the kernel charges BPF maps and
// programs to it (before Linux 5.11, where the default 64 KiB fits almost
// nothing), as bpftrace does. On later kernels, which charge the memory
// cgroup instead, it changes nothing. The error says why the limit could
// not be raised; loading then fails with EPERM, and the caller names the
// limit. It costs one system call on kernels before 5.11, none after.
func RaiseMemlock() error {
	return rlimit.RemoveMemlock()
}
