package codegen_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/kernel"
	"github.com/gotrace/gotrace/lang"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/codegen")

// compileFile parses, checks and compiles one golden input for a kernel
// with the given features. A line "// golden-env: kprobes" compiles as if
// the kernel had kprobes, so kprobe programs are generated (and verified)
// instead of the tracepoint fallback. A line "// golden-env: nofeatures"
// compiles for a kernel with none of kernel.Features, whatever features
// says: the fallbacks every kernel loads.
func compileFile(t *testing.T, path string, features kernel.Features) *codegen.Program {
	t.Helper()
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	src := &lang.Source{Name: filepath.Base(path), Text: string(text)}
	prog, err := lang.Parse(src)
	require.NoError(t, err)
	env := &lang.Env{}
	if strings.Contains(string(text), "// golden-env: kprobes") {
		env.HaveKprobes = func() bool { return true }
	}
	info, err := lang.Check(prog, src, env)
	require.NoError(t, err)
	if strings.Contains(string(text), "// golden-env: nofeatures") {
		features = kernel.Features{}
	}
	p, err := codegen.Compile(info, codegen.Options{Features: features})
	require.NoError(t, err)
	return p
}

func goldenInputs(t *testing.T) []string {
	files, err := filepath.Glob("../testdata/codegen/*.gt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestGolden compares each program's instruction listing with its golden
// file. Regenerate with: go test ./codegen -update. The listings are for a
// kernel with every feature (as the development VM's 6.18), whichever
// kernel the test runs on.
func TestGolden(t *testing.T) {
	for _, in := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".gt")
		t.Run(name, func(t *testing.T) {
			got := compileFile(t, in, kernel.AllFeatures).Listing()
			golden := strings.TrimSuffix(in, ".gt") + ".golden"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file: run go test ./codegen -update")
			require.Equal(t, string(want), got)
		})
	}
}

// TestGoldenVerifies loads every golden program through the kernel
// verifier, compiled for the running kernel's features.
func TestGoldenVerifies(t *testing.T) {
	for _, in := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".gt")
		t.Run(name, func(t *testing.T) {
			p := compileFile(t, in, kernel.ProbeFeatures())
			spec := p.Spec.Copy()
			// Kernels that refuse BPF trampolines (like the development VM)
			// refuse every fentry/fexit program with EPERM before the
			// verifier sees it: load those alone and accept only that.
			for name, ps := range spec.Programs {
				if ps.Type != ebpf.Tracing {
					continue
				}
				delete(spec.Programs, name)
				alone := &ebpf.CollectionSpec{Maps: spec.Maps, Programs: map[string]*ebpf.ProgramSpec{name: ps}}
				c, err := ebpf.NewCollection(alone)
				if err == nil {
					c.Close()
					continue
				}
				var ve *ebpf.VerifierError
				require.False(t, errors.As(err, &ve), "the verifier rejected %s: %v", name, err)
				require.ErrorIs(t, err, unix.EPERM, "%s", name)
			}
			coll, err := ebpf.NewCollection(spec)
			require.NoError(t, err)
			coll.Close()
		})
	}
}
