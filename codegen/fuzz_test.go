package codegen_test

// FuzzCompile: a script that parses and checks must compile without an
// internal error, and what it compiles to must pass the kernel's verifier.
//
//	go test ./codegen -run='^$' -fuzz=FuzzCompile -fuzztime=4m
//
// Plain `go test` runs only the seeds (the project's script files, a few
// bpftrace tools in testdata/fuzz/bpftrace, the snippets below and any
// crasher kept under testdata/fuzz/FuzzCompile). Loading needs root; without
// it only compilation is checked.

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"golang.org/x/sys/unix"
)

var fuzzSeedGlobs = []string{
	"../testdata/codegen/*.gt",
	"../testdata/e2e/*.bt",
	"../lang/testdata/parse/*.bt",
	"../testdata/fuzz/bpftrace/*.bt",
	"../examples/*.gt",
}

// fuzzChunkGlobs are files of many small scripts separated by "---" lines
// (the checker's error cases): each script is a seed.
var fuzzChunkGlobs = []string{"../lang/testdata/errors/*.gt"}

// fuzzSnippets reach code generation paths the files do not.
var fuzzSnippets = []string{
	`BEGIN { printf("%s|%d|%u|%x|%p|%c|%5s|%-5d|%lu|%lld\n", "abc", -1, -1, 255, 4096, 66, "ab", 7, 123, -9); exit(); }`,
	`BEGIN < $x = 1; @m[$x, "k"] = (2, "v"); print(@m); >`,
	`kprobe:sys_clone < printf("clone by %s\n", comm) >`,
	`kretprobe:sys_read /retval > 0/ { @b = hist(retval); }`,
	`kprobe:vfs_read { @[func] = count(); @a[arg0, arg1] = sum(arg2); }`,
	`tracepoint:syscalls:sys_enter_openat /pid == 1/ { @[comm, str(args->filename)] = count(); }`,
	`tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes = lhist(args->ret, 0, 1000, 100); }`,
	`t:sched:sched_switch { @s = stats(cpu); @a = avg(pid); @mn = min(tid); @mx = max(uid); @su = sum(gid); }`,
	`BEGIN { @ = 1; @x = count(); @y[1] = 2; } interval:ms:100 { print(@); clear(@); zero(@x); delete(@y[1]); exit(); }`,
	`profile:hz:99 { @[cpu] = count(); }`,
	`uprobe:/bin/true:main { @[probe] = count(); } uretprobe:/bin/true:main { @r = retval; }`,
	`rawtracepoint:sched_switch { @ = arg0; }`,
	`BEGIN { $i = 0; while ($i < 10) { $i++; if ($i == 3) { continue; } if ($i > 7) { break; } } unroll(3) { $i += 1; } exit(); }`,
	`BEGIN { $a = (uint32)-1; $b = (int8)300; $c = 1 ? 2 : 3; $d = !~-$a; $t = (1, "x", 2); printf("%d %s\n", $t.0, $t.1); }`,
	`BEGIN { @s["a"] = "x"; @n = -5; $x = @s["a"] == "x"; }`,
	`BEGIN { printf("%d %d %d %s\n", elapsed, nsecs, $1, str($2)); printf("%d\n", $#); }`,
	`BEGIN { $s = "012345678901234567890123456789012345678901234567890123456789012"; printf("%s\n", $s); }`,
	`BEGIN { $x = 0x7fffffffffffffff + 1_000 * 010 / 3 % 7 << 2 >> 1 & 3 | 4 ^ 5; $x <<= 1; $x %= 3; $x ^= 2; }`,
	`BEGIN { @x[1] = 1; @x[1]++; @x[2]--; @y = @x[1] + 1; }`,
	`END { printf("%d %d %d %d %s %s\n", pid, tid, uid, gid, comm, probe); @c = rand; @g = cgroup; @u = username; @k = curtask; }`,
	`tracepoint:syscalls:sys_enter_write { $b = args->count; @[str(args->buf, 8)] = count(); }`,
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
			f.Add(string(b), false)
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
				f.Add(s, false)
			}
		}
	}
	for _, s := range fuzzSnippets {
		f.Add(s, false)
		if strings.Contains(s, "kprobe") {
			f.Add(s, true)
		}
	}
}

// fuzzEnv is the running kernel's view (the kernel package caches its
// answers, misses included: the fuzzer asks for the same few tracepoints
// over and over).
func fuzzEnv() lang.Env { return lang.Env{StrLen: 64, Args: []string{"1", "two"}} }

// fuzzMaxPrograms skips scripts that expand to more programs than this
// (tracepoint:*:*): loading hundreds of programs is slow, not wrong.
const fuzzMaxPrograms = 64

// userErrors are the code generation errors a checked script may still
// legitimately get: limits of BPF itself, reported against the script.
var userErrors = []string{
	"bytes of BPF stack, more than the kernel's",
	"program too large",
	"division by zero",
}

// verifierLimits are rejections by design: a while loop the verifier cannot
// bound is the script's limit, as in bpftrace.
var verifierLimits = []string{
	"BPF program is too large",
	"infinite loop detected",
}

// FuzzCompile compiles every script that parses and checks and loads the
// result through the verifier. kprobes compiles as if the kernel had
// kprobes (no fallback to syscall tracepoints).
func FuzzCompile(f *testing.F) {
	fuzzAddSeeds(f)
	canLoad := os.Geteuid() == 0
	f.Fuzz(func(t *testing.T, text string, kprobes bool) {
		src := &lang.Source{Name: "fuzz.bt", Text: text}
		prog, err := lang.Parse(src)
		if err != nil {
			return
		}
		env := fuzzEnv()
		if kprobes {
			env.HaveKprobes = func() bool { return true }
		} else {
			env.HaveKprobes = func() bool { return false }
		}
		info, err := lang.Check(prog, src, &env)
		if err != nil {
			return
		}
		n := 0
		for _, pi := range info.Probes {
			n += len(pi.Attach)
		}
		if n > fuzzMaxPrograms {
			t.Skipf("%d attach points", n)
		}

		p, err := codegen.Compile(info, codegen.Options{})
		if err != nil {
			var le *lang.Error
			if !errors.As(err, &le) || le.Span.Start.Line < 1 {
				t.Fatalf("Compile failed without a script position on %q: %v", text, err)
			}
			for _, ok := range userErrors {
				if strings.Contains(le.Msg, ok) {
					return
				}
			}
			t.Fatalf("a checked script does not compile:\n%s\n%v", text, err)
		}
		if p == nil || p.Spec == nil || len(p.Probes) != n {
			t.Fatalf("Compile returned an incomplete program for %q", text)
		}
		if !canLoad {
			return
		}
		// Load as the runtime does: the start-time constant is patched in
		// first (runtime.Load), otherwise elapsed leaves an unresolved
		// reference.
		spec := p.Spec.Copy()
		for _, ps := range spec.Programs {
			for i := range ps.Instructions {
				if ps.Instructions[i].Reference() == codegen.StartTimeVar {
					ps.Instructions[i].Constant = 1
					ps.Instructions[i] = ps.Instructions[i].WithReference("")
				}
			}
		}
		coll, err := ebpf.NewCollectionWithOptions(spec, ebpf.CollectionOptions{
			Programs: ebpf.ProgramOptions{LogDisabled: true},
		})
		if err != nil && errors.Is(err, unix.EPERM) && hasTracing(spec) {
			return // this kernel refuses fentry/fexit programs outright
		}
		if err != nil {
			// Load again the way the runtime does, for its explanation of
			// the rejection (the verifier's reason, mapped to the script).
			why := err
			if l, lerr := runtime.Load(p, runtime.LoadOptions{}); lerr != nil {
				why = lerr
			} else {
				l.Close()
			}
			for _, ok := range verifierLimits {
				if strings.Contains(why.Error(), ok) {
					return
				}
			}
			t.Fatalf("the verifier rejects a checked script:\n%s\n%v", text, why)
		}
		coll.Close()
	})
}

// hasTracing reports whether spec has fentry/fexit programs.
func hasTracing(spec *ebpf.CollectionSpec) bool {
	for _, ps := range spec.Programs {
		if ps.Type == ebpf.Tracing {
			return true
		}
	}
	return false
}
