#!/usr/bin/env bash
# Runs gotrace and bpftrace side by side on the same scripts and prints every
# figure of the performance goals as a Markdown table (see bench/README.md).
#
#   bench/run.sh                      # the full run, about 3 minutes
#   bench/run.sh -runs 5 -rounds 3    # quicker, noisier
#   bench/run.sh -out /tmp/b          # keep instruction dumps + results.json there
#   bench/run.sh -bpftrace none       # gotrace alone
#
# Needs root (it loads BPF programs), gcc for the workload, bpftool for the
# instruction counts; without bpftrace it prints gotrace's numbers alone.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: run as root: tracing loads BPF programs" >&2
	exit 1
fi
# Tracepoints need tracefs, which this kernel does not mount at boot.
if ! grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts; then
	mount -t tracefs tracefs /sys/kernel/tracing
fi
# bpftrace asks for it; newer kernels account BPF memory to the cgroup and
# do not need it, so a refusal (in a container) is not fatal.
ulimit -l unlimited 2>/dev/null || true

exec go run ./bench/cmd/compare "$@"
