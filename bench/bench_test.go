package bench

// Benchmarks of the compiler's front half on every example script:
//
//	go test -run '^$' -bench . -benchmem ./bench/
//
// BenchmarkParse times lang.Parse, BenchmarkCheck lang.Check (the tracepoint
// formats it reads from tracefs are cached after the first iteration, so this
// is the warm cost), BenchmarkCompile codegen.Compile, and BenchmarkPipeline
// all three in a row, as `gotrace` does once per run. Compiling reads
// tracefs, so run as root; a script that does not compile here is skipped
// with the reason.
//
// A plain `go test ./bench/` runs only the smoke tests below: the scripts of
// the comparison harness parse, and check and compile when tracefs is
// readable.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
)

type example struct {
	name string
	src  *lang.Source
	env  *lang.Env
}

func examples(tb testing.TB) []example {
	tb.Helper()
	root, err := ModuleRoot(".")
	if err != nil {
		tb.Fatal(err)
	}
	files, err := ExampleFiles(root)
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no example scripts found")
	}
	var out []example
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		env := &lang.Env{Target: testtarget.Live(), Args: []string{"1", "2", "3"}}
		if ScriptEnv(string(text)) {
			env.Target = testtarget.WithFeatures(testtarget.Live(), map[target.Feature]bool{target.Kprobes: true})
		}
		rel, _ := filepath.Rel(root, f)
		out = append(out, example{name: rel, src: &lang.Source{Name: filepath.Base(f), Text: string(text)}, env: env})
	}
	return out
}

func BenchmarkParse(b *testing.B) {
	for _, ex := range examples(b) {
		b.Run(ex.name, func(b *testing.B) {
			if _, err := lang.Parse(ex.src); err != nil {
				b.Skipf("does not parse: %v", err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(ex.src.Text)))
			for b.Loop() {
				if _, err := lang.Parse(ex.src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	for _, ex := range examples(b) {
		b.Run(ex.name, func(b *testing.B) {
			prog, err := lang.Parse(ex.src)
			if err != nil {
				b.Skipf("does not parse: %v", err)
			}
			if _, err := lang.Check(prog, ex.src, ex.env); err != nil {
				b.Skipf("does not check: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				// Check only annotates Info; the AST can be reused.
				if _, err := lang.Check(prog, ex.src, ex.env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	for _, ex := range examples(b) {
		b.Run(ex.name, func(b *testing.B) {
			prog, err := lang.Parse(ex.src)
			if err != nil {
				b.Skipf("does not parse: %v", err)
			}
			info, err := lang.Check(prog, ex.src, ex.env)
			if err != nil {
				b.Skipf("does not check: %v", err)
			}
			if _, err := codegen.Compile(info, codegen.Options{}); err != nil {
				b.Skipf("does not compile: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := codegen.Compile(info, codegen.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPipeline(b *testing.B) {
	for _, ex := range examples(b) {
		b.Run(ex.name, func(b *testing.B) {
			if _, err := pipeline(ex.src, ex.env); err != nil {
				b.Skipf("does not compile: %v", err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := pipeline(ex.src, ex.env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func pipeline(src *lang.Source, env *lang.Env) (*codegen.Program, error) {
	prog, err := lang.Parse(src)
	if err != nil {
		return nil, err
	}
	info, err := lang.Check(prog, src, env)
	if err != nil {
		return nil, err
	}
	return codegen.Compile(info, codegen.Options{})
}

// TestExamplesFound: the benchmarks have scripts to run.
func TestExamplesFound(t *testing.T) {
	if len(examples(t)) == 0 {
		t.Fatal("no example scripts")
	}
}

// TestHarnessScripts: every script of the comparison harness parses, and
// compiles when this process can read tracefs (as root), so a change in
// the language shows up here rather than halfway through a long run.
func TestHarnessScripts(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Scripts {
		t.Run(s.Name, func(t *testing.T) {
			src := &lang.Source{Name: "stdin", Text: strings.ReplaceAll(s.Text, WorkloadPlaceholder, self)}
			if _, err := lang.Parse(src); err != nil {
				t.Fatal(err)
			}
			if os.Geteuid() != 0 {
				t.Skip("checking reads tracefs: run as root")
			}
			if strings.Contains(s.Text, WorkloadPlaceholder) {
				// The uprobe target is the workload the harness builds;
				// this test binary has no work() to resolve.
				return
			}
			if _, err := pipeline(src, &lang.Env{Target: testtarget.Live()}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
