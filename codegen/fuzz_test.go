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
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/fuzzseed"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/target"
	"golang.org/x/sys/unix"
)

func fuzzAddSeeds(f *testing.F) {
	scripts, err := fuzzseed.Scripts("..")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range scripts {
		f.Add(s, false)
		if strings.Contains(s, "kprobe") {
			f.Add(s, true) // as if the kernel had kprobes
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
		if canLoad {
			// What loads must be compiled for this kernel.
			env.Target = testtarget.WithFeatures(testtarget.Live(), map[target.Feature]bool{target.Kprobes: kprobes})
		} else if kprobes {
			env.Target = testtarget.Recorded(t, "6.1")
		} else {
			env.Target = testtarget.Recorded(t, "dev")
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
