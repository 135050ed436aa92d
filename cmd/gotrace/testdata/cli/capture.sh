#!/bin/sh
# Captures, from bpftrace 0.17.0 on the development VM, the outputs that
# cmd/gotrace's command-line tests compare gotrace's with. Run as root from
# this directory: sh capture.sh. bpftrace's harmless RLIMIT_MEMLOCK line is
# dropped (gotrace raises the limit itself). Files: NAME.out is stdout,
# NAME.err is stderr, NAME.both is both through one pipe (2>&1).
set -u
cd "$(dirname "$0")"
B=${BPFTRACE:-bpftrace}
drop() { grep -v 'RLIMIT_MEMLOCK' || true; }

# -q: no "Attaching N probes..." line, in either format.
$B -q -e 'BEGIN { printf("hi\n"); @x = 1; exit(); }' 2>/dev/null > quiet.out
$B -q -f json -e 'BEGIN { printf("hi\n"); @x = 1; exit(); }' 2>/dev/null > quiet-json.out

# The attach marker, with and without -q, and with -c.
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 $B -e 'BEGIN { printf("hi\n"); exit(); }' 2>&1 | drop > notify.both
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 $B -q -e 'BEGIN { printf("hi\n"); exit(); }' 2>&1 | drop > notify-quiet.both
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 $B -c '/bin/echo from the command' -e 'BEGIN { printf("hi\n"); }' 2>&1 | drop > notify-command.both

# -B: the same output in every mode; a bad mode is refused.
for m in line full none; do
	$B -B $m -e 'BEGIN { printf("a\n"); printf("b\n"); @x = 1; exit(); }' 2>/dev/null > buffering-$m.out
done
$B -B bad -e 'BEGIN { exit(); }' 2>&1 | drop > buffering-bad.both

# -V and --version print the version on stdout.
$B -V > version.out 2>/dev/null

# --help and -h: the usage on stderr, status 0; a bad flag: usage, status 1.
$B --help 2> help.err > help.out; echo $? > help.status
$B -idonotexist 2> badflag.err > badflag.out; echo $? >> badflag.status

# -p and -c, -o, -f mistakes.
$B -p a1111 file.bt 2>&1 | drop > pid-nan.both
$B -p 5000000 file.bt 2>&1 | drop > pid-range.both
$B -f jsonx -e 'BEGIN { exit(); }' 2>&1 | drop > format-bad.both
$B non_existent_file.bt 2>&1 | drop > nofile.both
$B -q 2>&1 | drop > noprogram.both

# --info (compared by layout: section titles and line names).
$B --info 2> info.err > /dev/null

# SIGUSR1 prints every map and the run goes on; SIGINT ends it.
__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 $B -e 'BEGIN { @a = 1; @b[1] = 2; @c = hist(5); @d = count(); }' > usr1.out 2> usr1.err &
pid=$!
until grep -q __BPFTRACE_NOTIFY_PROBES_ATTACHED usr1.err; do sleep 0.1; done
kill -USR1 $pid
until grep -q '@d: 1' usr1.out; do sleep 0.1; done
kill -INT $pid
wait $pid
rm usr1.err

# -l forms, on listtarget.c built in a temporary directory. In the -p
# listings, bpftrace's /proc/PID/root prefix and the directory become DIR
# (gotrace names the file by its path as the process sees it; both lead
# to the same file), and bpftrace lists the uprobes of the executable
# alone where gotrace lists those of every file the process maps, so only
# the executable's lines are kept.
here=$(pwd)
dir=$(mktemp -d)
gcc -O0 -o "$dir/listtarget" listtarget.c
cd "$dir"
$B -l 'uprobe:./listtarget:*' 2>/dev/null > "$here/list-uprobe.out"
$B -l 'uprobe:./listtar*:list*' 2>/dev/null > "$here/list-uprobe-wildfile.out"
$B -l '*:./listtarget:*' 2>/dev/null > "$here/list-wildtype.out"
$B -l 'usdt:./listtarget:*' 2>/dev/null > "$here/list-usdt.out"
$B -l 'usdt:./listtar*:listprov:*' 2>/dev/null > "$here/list-usdt-wildfile.out"
$B -l 'sys_enter_getpp*' 2>/dev/null | grep '^tracepoint:' > "$here/list-notype.out"
$B -l '*:sys_enter_getpp*' 2>/dev/null | grep '^tracepoint:' > "$here/list-wildtype-tracepoint.out"
# Errors about probes, in bpftrace's words (gotrace adds the position and
# a hint after them).
$B -e 'uprobe:./listtarget:10 { exit(); }' 2>&1 | drop > "$here/error-uprobe-address.both"
$B -e 'uprobe:./listtarget:listfunc_one+100000 { exit(); }' 2>&1 | drop > "$here/error-uprobe-offset.both"
$B -e 't:syscalls:nonsense { exit(); }' 2>&1 | drop > "$here/error-tracepoint.both"
$B -e 'BEGIN { cat("/does/not/exist/file"); exit(); }' 2>&1 | drop > "$here/error-cat.both"
sleep 60 | ./listtarget wait &
pid=$(pgrep -n listtarget)
norm() { sed -e "s|/proc/$pid/root||" -e "s|$dir|DIR|" | grep ':DIR/listtarget:' || true; }
$B -l -p $pid 2>/dev/null | norm > "$here/list-pid.out"
$B -l 'usdt:*' -p $pid 2>/dev/null | norm > "$here/list-pid-usdt.out"
$B -l 'usdt:*:listprov2:*' -p $pid 2>/dev/null | norm > "$here/list-pid-usdt-provider.out"
$B -l 'uprobe:*' -p $pid 2>/dev/null | norm > "$here/list-pid-uprobe.out"
kill $pid
cd "$here"
rm -r "$dir"

# A -l pattern with a character no probe has.
$B -l '\n' 2>&1 | drop > list-invalid.both

# BPFTRACE_CAT_BYTES_MAX limits cat(); bad BPFTRACE_* values are refused.
printf '0123456789\n' > /tmp/gotrace-cat-capture
BPFTRACE_CAT_BYTES_MAX=3 $B -e 'BEGIN { cat("/tmp/gotrace-cat-capture"); exit(); }' 2>/dev/null > cat-max.out
rm /tmp/gotrace-cat-capture
for v in BPFTRACE_STRLEN BPFTRACE_CAT_BYTES_MAX BPFTRACE_MAP_KEYS_MAX; do
	env $v=abc $B -e 'BEGIN { exit(); }' 2>&1 | drop > env-bad-$v.both
done
BPFTRACE_STRLEN=300 $B -e 'BEGIN { exit(); }' 2>&1 | drop > env-strlen-300.both

# Checker errors in bpftrace's words.
$B -e 'BEGIN { unroll(0) { @x = 1; } exit(); }' 2>&1 | drop > error-unroll-min.both
$B -e 'BEGIN { unroll(101) { @x = 1; } exit(); }' 2>&1 | drop > error-unroll-max.both
$B -e 'BEGIN { print(kaddr("asdfzzzzzzz")) }' 2>&1 | drop > error-kaddr.both

# Headers: a missing one is an error; -I adds a directory to search.
$B -e "$(printf '#include <lol/no.h>\nBEGIN { exit(); }')" 2>&1 | drop > include-missing.both
$B --include nope.h -e 'BEGIN { exit(); }' 2>&1 | drop > include-flag-missing.both
mkdir -p /tmp/gotrace-include-capture && echo '#define X 1' > /tmp/gotrace-include-capture/gotrace_test.h
$B -I /tmp/gotrace-include-capture --include gotrace_test.h -e 'BEGIN { exit(); }' 2>&1 | drop > include-flag.both
rm -r /tmp/gotrace-include-capture

# A kretprobe bpftrace refuses (it says so once it tries to attach).
timeout 10 $B -e 'kretprobe:_raw_spin_lock { exit(); }' 2>&1 | drop | grep ERROR > error-banned.both

# Nothing after exit() is printed (the interval fires again before the
# run ends), END's output is.
printf '0123456789\n' > /tmp/gotrace-cat-capture
BPFTRACE_CAT_BYTES_MAX=1 $B -e 'i:ms:1 { cat("/tmp/gotrace-cat-capture"); exit(); } END { printf("end\n"); }' 2>/dev/null > exit-stops-output.out
rm /tmp/gotrace-cat-capture
