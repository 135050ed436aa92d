// Package fuzzseed collects the scripts the fuzz targets of lang and
// codegen start from: every script file in the project, every case of the
// chunked error files, and a few snippets that reach corners the files do
// not.
package fuzzseed

import (
	"os"
	"path/filepath"
	"strings"
)

// files are script files, relative to the module root.
var files = []string{
	"lang/testdata/parse/*.bt",
	"testdata/codegen/*.gt",
	"testdata/e2e/*.bt",
	"testdata/conformance/*.bt",
	"testdata/fuzz/bpftrace/*.bt",
	"examples/*.gt",
}

// chunked are files of many small scripts separated by "---" lines.
var chunked = []string{"lang/testdata/errors/*.gt"}

var snippets = []string{
	``,
	`// only a comment`,
	"#!/usr/bin/env bpftrace\n#include <linux/sched.h>\nBEGIN { exit(); }",
	`BEGIN { printf("%s|%d|%u|%x|%p|%c|%5s|%-5d|%lu|%lld\n", "abc", -1, -1, 255, 4096, 66, "ab", 7, 123, -9); exit(); }`,
	`BEGIN < $x = 1; @m[$x, "k"] = (2, "v"); print(@m); >`,
	`kprobe:sys_clone < printf("clone by %s\n", comm) >`,
	`kretprobe:sys_read /retval > 0/ { @b = hist(retval); }`,
	`kprobe:vfs_read { @[func] = count(); @a[arg0, arg1] = sum(arg2); }`,
	`tracepoint:syscalls:sys_enter_openat /pid == 1/ { @[comm, str(args->filename)] = count(); }`,
	`tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = lhist(args->ret, 0, 1000, 100); }`,
	`t:sched:sched_switch { @s = stats(cpu); @a = avg(pid); @mn = min(tid); @mx = max(uid); @su = sum(gid); }`,
	`t:syscalls:sys_enter_* { @[probe] = count(); }`,
	`BEGIN { @ = 1; @x = count(); @y[1] = 2; } interval:ms:100 { print(@); clear(@); zero(@x); delete(@y[1]); exit(); }`,
	`profile:hz:99 { @[cpu] = count(); }`,
	`uprobe:/bin/true:main { @[probe] = count(); } uretprobe:/bin/true:main { @r = retval; }`,
	`rawtracepoint:sched_switch { @ = arg0; }`,
	`BEGIN { $i = 0; while ($i < 10) { $i++; if ($i == 3) { continue; } if ($i > 7) { break; } } unroll(3) { $i += 1; } exit(); }`,
	`BEGIN { $a = (uint32)-1; $b = (int8)300; $c = 1 ? 2 : 3; $d = !~-$a; $t = (1, "x", 2); printf("%d %s\n", $t.0, $t.1); }`,
	`BEGIN { @s["a"] = "x"; @n = -5; $x = @s["a"] == "x"; $y = sizeof(struct task_struct); }`,
	`BEGIN { printf("%d %d %d %s\n", elapsed, nsecs, $1, str($2)); printf("%d\n", $#); }`,
	`BEGIN { $p = curtask->pid; $q = ((struct task_struct *)curtask)->real_parent->pid; }`,
	`BEGIN { $s = "012345678901234567890123456789012345678901234567890123456789012"; printf("%s\n", $s); }`,
	`BEGIN { $s = "0123456789012345678901234567890123456789012345678901234567890123"; }`,
	`BEGIN { $x = 0x7fffffffffffffff + 1_000 * 010 / 3 % 7 << 2 >> 1 & 3 | 4 ^ 5; $x <<= 1; $x %= 3; $x ^= 2; }`,
	"BEGIN { \"\\x41\\n\\t\\\\\\\"\"; }",
	`BEGIN { @x[1] = 1; @x[1]++; @x[2]--; @y = @x[1] + 1; }`,
	`END { printf("%d %d %d %d %s %s\n", pid, tid, uid, gid, comm, probe); @c = rand; @g = cgroup; @u = username; @k = curtask; }`,
	`tracepoint:syscalls:sys_enter_write { $b = args->count; @[str(args->buf, 8)] = count(); }`,
}

// Scripts returns every seed script. root is the module root, relative to
// the calling test's package directory (e.g. "..").
func Scripts(root string) ([]string, error) {
	var out []string
	read := func(globs []string, split bool) error {
		for _, g := range globs {
			names, err := filepath.Glob(filepath.Join(root, g))
			if err != nil {
				return err
			}
			for _, name := range names {
				b, err := os.ReadFile(name)
				if err != nil {
					return err
				}
				if split {
					out = append(out, strings.Split(string(b), "\n---\n")...)
				} else {
					out = append(out, string(b))
				}
			}
		}
		return nil
	}
	if err := read(files, false); err != nil {
		return nil, err
	}
	if err := read(chunked, true); err != nil {
		return nil, err
	}
	return append(out, snippets...), nil
}
