#!/bin/sh
# Runs bpftrace's tools under a tracer, each for a few seconds with the
# workload, and prints every output between markers on standard output (a
# matrix VM's writes vanish at power-off). Run inside a kernel of the
# matrix, from this directory:
#
#   capture.sh dry GOTRACE [TOOL...]     gotrace --dry-run on each tool
#   capture.sh run TRACER [TOOL...]      run each tool with the workload
#
# TRACER is bpftrace or a gotrace binary. Without TOOLs: /usr/sbin/*.bt.
# Runs go in batches of $JOBS tools (default 4) sharing one workload: a
# tool's output does not depend on what else traces the same events.
mode=$1 tracer=$2
shift 2
tools=$*
[ -n "$tools" ] || tools=$(ls /usr/sbin/*.bt)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)

batch() {
	pids=
	for tool in "$@"; do
		name=$(basename "$tool" .bt)
		"$tracer" "$tool" >"$tmp/$name.out" 2>"$tmp/$name.err" &
		echo $! >"$tmp/$name.pid"
	done
	for tool in "$@"; do
		name=$(basename "$tool" .bt)
		pid=$(cat "$tmp/$name.pid")
		i=0
		while [ $i -lt 900 ] && ! grep -q '^Attaching' "$tmp/$name.out" && kill -0 "$pid" 2>/dev/null; do
			sleep 0.2
			i=$((i + 1))
		done
	done
	sleep 1
	"$here/workload.sh" 4
	sleep 1
	for tool in "$@"; do
		kill -INT "$(cat "$tmp/$(basename "$tool" .bt).pid")" 2>/dev/null
	done
	for tool in "$@"; do
		name=$(basename "$tool" .bt)
		pid=$(cat "$tmp/$name.pid")
		i=0
		while [ $i -lt 300 ] && kill -0 "$pid" 2>/dev/null; do
			sleep 0.2
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		echo "=== RUN $name $?"
		cat "$tmp/$name.out"
		echo "=== STDERR $name"
		cat "$tmp/$name.err"
		echo "=== END $name"
	done
}

set --
for tool in $tools; do
	case $tool in */*) ;; *) tool=/usr/sbin/$tool.bt ;; esac
	name=$(basename "$tool" .bt)
	if [ "$mode" = dry ]; then
		"$tracer" --dry-run "$tool" >"$tmp/out" 2>&1
		echo "=== DRY $name $?"
		grep -m1 ERROR "$tmp/out"
		continue
	fi
	set -- "$@" "$tool"
	if [ $# -ge "${JOBS:-4}" ]; then
		batch "$@"
		set --
	fi
done
[ $# -eq 0 ] || batch "$@"
rm -rf "$tmp"
