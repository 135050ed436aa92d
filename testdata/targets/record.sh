#!/bin/sh
# Records the machine this runs on as a target for the hermetic tests:
#
#   testdata/targets/record.sh testdata/targets/NAME
#
# It builds the two test programs the recorded targets carry (the uprobe
# and USDT targets of testdata/probes) at a fixed path, then records what
# testdata/targets/request.json asks for. To record another kernel, run it
# inside the kernel matrix (matrix/README.md), with -t: the directory comes
# back as a base64 tar stream between two marker lines on standard output
# (the matrix merges the VM's stdout and stderr):
#
#   matrix/run 6.1 -- testdata/targets/record.sh -t |
#     sed -n '/^BEGIN-TARGET$/,/^END-TARGET$/p' | sed '1d;$d' |
#     base64 -d | tar -C testdata/targets/6.1 -xzf -
set -eu
cd "$(dirname "$0")/../.."
tar=
[ "${1:-}" = -t ] && { tar=1; shift; }
bin=/var/tmp/gotrace-record
mkdir -p "$bin"
gcc -O1 -o "$bin/target" testdata/probes/target.c
gcc -O1 -o "$bin/usdt_target" testdata/probes/usdt_target.c
go build -o "$bin/record" ./target/record
grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts || mount -t tracefs tracefs /sys/kernel/tracing
if [ -n "$tar" ]; then
	out=$(mktemp -d)
	"$bin/record" -request testdata/targets/request.json -o "$out/t"
	echo BEGIN-TARGET
	tar -C "$out/t" -czf - . | base64
	echo END-TARGET
else
	"$bin/record" -request testdata/targets/request.json -o "${1:?usage: record.sh [-t] DIR}"
fi
