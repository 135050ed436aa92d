package lang_test

// Fuzz targets for the front end.
//
//	go test ./lang -run='^$' -fuzz=FuzzParse -fuzztime=4m
//	go test ./lang -run='^$' -fuzz=FuzzCheck -fuzztime=4m
//
// Plain `go test` runs only the seeds (the script files of the project, a
// few bpftrace tools copied to testdata/fuzz/bpftrace, the snippets below
// and any crasher kept under testdata/fuzz/FuzzXxx), which takes well
// under a second.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/lang"
)

// fuzzSeedGlobs are the script files used as seeds, relative to lang/.
var fuzzSeedGlobs = []string{
	"testdata/parse/*.bt",
	"../testdata/codegen/*.gt",
	"../testdata/e2e/*.bt",
	"../testdata/fuzz/bpftrace/*.bt",
	"../examples/*.gt",
}

// fuzzChunkGlobs are files of many small scripts separated by "---" lines
// (the checker's error cases): each script is a seed.
var fuzzChunkGlobs = []string{"testdata/errors/*.gt"}

// fuzzSnippets are small scripts that reach corners the files do not.
var fuzzSnippets = []string{
	``,
	`// only a comment`,
	"#!/usr/bin/env bpftrace\n#include <linux/sched.h>\nBEGIN { exit(); }",
	`BEGIN { printf("%s|%d|%u|%x|%p|%c|%5s|%-5d|%lu|%lld\n", "abc", -1, -1, 255, 4096, 66, "ab", 7, 123, -9); exit(); }`,
	`BEGIN < $x = 1; @m[$x, "k"] = (2, "v"); print(@m); >`,
	`kprobe:sys_clone < printf("clone by %s\n", comm) >`,
	`kretprobe:sys_read /retval > 0/ { @b = hist(retval); }`,
	`tracepoint:syscalls:sys_enter_openat /pid == 1/ { @[comm, str(args->filename)] = count(); }`,
	`tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = lhist(args->ret, 0, 1000, 100); }`,
	`t:sched:sched_switch { @s = stats(cpu); @a = avg(pid); @mn = min(tid); @mx = max(uid); @su = sum(gid); }`,
	`BEGIN { @ = 1; @x = count(); @y[1] = 2; } interval:ms:100 { print(@); clear(@); zero(@x); delete(@y[1]); exit(); }`,
	`profile:hz:99 { @[cpu] = count(); }`,
	`uprobe:/bin/true:main { @[probe] = count(); } uretprobe:/bin/true:main { @r = retval; }`,
	`rawtracepoint:sched_switch { @ = arg0; }`,
	`BEGIN { $i = 0; while ($i < 10) { $i++; if ($i == 3) { continue; } if ($i > 7) { break; } } unroll(3) { $i += 1; } exit(); }`,
	`BEGIN { $a = (uint32)-1; $b = (int8)300; $c = 1 ? 2 : 3; $d = !~-$a; $t = (1, "x", 2); printf("%d %s\n", $t.0, $t.1); }`,
	`BEGIN { @s["a"] = "x"; @n = -5; $x = @s["a"] == "x"; $y = sizeof(struct task_struct); }`,
	`BEGIN { printf("%d %d %d %s\n", elapsed, nsecs, $1, str($2)); printf("%d\n", $#); }`,
	`BEGIN { $p = curtask->pid; $q = ((struct task_struct *)curtask)->real_parent->pid; }`,
	`t:syscalls:sys_enter_* { @[probe] = count(); }`,
	`BEGIN { $s = "0123456789012345678901234567890123456789012345678901234567890123"; }`,
	`BEGIN { $s = "01234567890123456789012345678901234567890123456789012345678901234"; }`,
	`BEGIN { $x = 0x7fffffffffffffff + 1_000 * 010 / 3 % 7 << 2 >> 1 & 3 | 4 ^ 5; $x <<= 1; $x %= 3; $x ^= 2; }`,
	"BEGIN { \"\\x41\\n\\t\\\\\\\"\"; }",
	`BEGIN { @x[1] = 1; @x[1]++; @x[2]--; @y = @x[1] + 1; }`,
}

func fuzzAddSeeds(f *testing.F) {
	for _, g := range fuzzSeedGlobs {
		files, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(b))
		}
	}
	for _, g := range fuzzChunkGlobs {
		files, err := filepath.Glob(g)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			for _, s := range strings.Split(string(b), "\n---\n") {
				f.Add(s)
			}
		}
	}
	for _, s := range fuzzSnippets {
		f.Add(s)
	}
}

// fuzzSlow bounds the time one small input may take: the front end is
// linear or close to it, so a few kilobytes taking seconds is a finding.
const fuzzSlow = 5 * time.Second

// fuzzCheckErr checks what a failing Parse or Check returned: an ErrorList
// (or a single *Error) of positioned errors inside the text, never an
// internal error.
func fuzzCheckErr(t *testing.T, stage, text string, err error) {
	t.Helper()
	var list lang.ErrorList
	var one *lang.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = lang.ErrorList{one}
	default:
		t.Fatalf("%s returned %T, not a *lang.Error/ErrorList: %v", stage, err, err)
	}
	if len(list) == 0 {
		t.Fatalf("%s returned an empty ErrorList", stage)
	}
	for _, e := range list {
		if e == nil {
			t.Fatalf("%s returned a nil *Error in its list", stage)
		}
		msg := e.Error()
		if strings.Contains(msg, "internal parser error") || strings.Contains(msg, "internal error") {
			t.Fatalf("%s failed internally on %q:\n%s", stage, text, msg)
		}
		if !strings.Contains(msg, "ERROR: ") {
			t.Fatalf("%s error lacks ERROR: %q", stage, msg)
		}
		sp := e.Span
		if sp.Start.Line < 1 || sp.Start.Col < 1 {
			t.Fatalf("%s error has no position: %q (span %+v)", stage, msg, sp)
		}
		if sp.Start.Offset < 0 || sp.Start.Offset > len(text)+1 || sp.End.Offset > len(text)+1 {
			t.Fatalf("%s error span %+v is outside the %d-byte text: %q", stage, sp, len(text), msg)
		}
		if n := strings.Count(text, "\n") + 1; sp.Start.Line > n {
			t.Fatalf("%s error on line %d of a %d-line text: %q", stage, sp.Start.Line, n, msg)
		}
	}
}

// fuzzTimed runs f and reports it when it is slow twice in a row (once may
// be the machine stalling the fuzzer's worker, twice is the input).
func fuzzTimed(t *testing.T, what, text string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if d := time.Since(start); d > fuzzSlow && len(text) < 64<<10 {
		start = time.Now()
		f()
		if d2 := time.Since(start); d2 > fuzzSlow {
			t.Errorf("%s %d bytes took %v, then %v", what, len(text), d, d2)
		}
	}
}

func fuzzParse(t *testing.T, text string) (*lang.Source, *lang.Program) {
	t.Helper()
	src := &lang.Source{Name: "fuzz.bt", Text: text}
	var prog *lang.Program
	var err error
	fuzzTimed(t, "parsing", text, func() { prog, err = lang.Parse(src) })
	if err != nil {
		if prog != nil {
			t.Fatalf("Parse returned both a program and an error: %v", err)
		}
		fuzzCheckErr(t, "Parse", text, err)
		return src, nil
	}
	if prog == nil {
		t.Fatalf("Parse returned neither a program nor an error")
	}
	_ = prog.String() // printing the tree must not panic either
	return src, prog
}

// FuzzParse: the parser never panics and returns either a syntax tree or
// positioned errors.
func FuzzParse(f *testing.F) {
	fuzzAddSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		fuzzParse(t, text)
	})
}

// fuzzEnv is the running kernel's view (the kernel package caches its
// answers, misses included: the fuzzer asks for the same few tracepoints
// millions of times).
func fuzzEnv() *lang.Env { return &lang.Env{StrLen: 64} }

// FuzzCheck: parsing and checking never panic; the checker's errors are
// positioned too.
func FuzzCheck(f *testing.F) {
	fuzzAddSeeds(f)
	env := fuzzEnv()
	f.Fuzz(func(t *testing.T, text string) {
		src, prog := fuzzParse(t, text)
		if prog == nil {
			return
		}
		e := *env
		e.Args = []string{"1", "two"}
		var info *lang.Info
		var err error
		fuzzTimed(t, "checking", text, func() { info, err = lang.Check(prog, src, &e) })
		if err != nil {
			if info != nil {
				t.Fatalf("Check returned both info and an error: %v", err)
			}
			fuzzCheckErr(t, "Check", text, err)
			return
		}
		if info == nil {
			t.Fatalf("Check returned neither info nor an error")
		}
		if len(info.Probes) != len(prog.Probes) {
			t.Fatalf("Check returned %d probes for %d", len(info.Probes), len(prog.Probes))
		}
	})
}
