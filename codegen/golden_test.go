package codegen_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/rlimit"
	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/codegen")

// goldenTarget names the recorded target a golden input compiles for: the
// line "// golden-target: NAME" (testdata/targets/NAME), or "dev", the
// development VM's kernel, which has no kprobes and no fentry.
func goldenTarget(text string) string {
	for _, line := range strings.Split(text, "\n") {
		if name, ok := strings.CutPrefix(line, "// golden-target: "); ok {
			return strings.TrimSpace(name)
		}
	}
	return "dev"
}

// compileFile parses, checks and compiles one golden input for tgt.
func compileFile(t *testing.T, path string, tgt func(text string) target.Target) *codegen.Program {
	t.Helper()
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	src := &lang.Source{Name: filepath.Base(path), Text: string(text)}
	prog, err := lang.Parse(src)
	require.NoError(t, err)
	info, err := lang.Check(prog, src, &lang.Env{Target: tgt(string(text))})
	require.NoError(t, err)
	p, err := codegen.Compile(info, codegen.Options{})
	require.NoError(t, err)
	return p
}

// recordedTarget is the golden input's recorded target.
func recordedTarget(t *testing.T) func(string) target.Target {
	return func(text string) target.Target { return testtarget.Recorded(t, goldenTarget(text)) }
}

// liveTarget is the running machine, with the recorded target's kprobes:
// a golden program for a kprobe kernel is generated as there, and loaded
// through this kernel's verifier (kprobe programs load without kprobes).
// The fallbacks the recorded kernel needs (plain loads and shifts for
// sign-extending loads, comm keys zeroed first) are taken too: newer
// kernels accept them, so they are verified here as well.
func liveTarget(t *testing.T) func(string) target.Target {
	return func(text string) target.Target {
		rec, live := testtarget.Recorded(t, goldenTarget(text)), testtarget.Live()
		fs := map[target.Feature]bool{target.Kprobes: rec.Has(target.Kprobes)}
		for _, f := range []target.Feature{target.SignExtendLoad, target.ZeroPaddedComm} {
			fs[f] = rec.Has(f) && live.Has(f)
		}
		return testtarget.WithFeatures(live, fs)
	}
}

func goldenInputs(t *testing.T) []string {
	files, err := filepath.Glob("../testdata/codegen/*.gt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestGolden compares each program's instruction listing with its golden
// file. Regenerate with: go test ./codegen -update
func TestGolden(t *testing.T) {
	for _, in := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".gt")
		t.Run(name, func(t *testing.T) {
			got := compileFile(t, in, recordedTarget(t)).Listing()
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

// TestGoldenVerifies loads every golden program through the kernel verifier.
func TestGoldenVerifies(t *testing.T) {
	testenv.RequireBPF(t)
	require.NoError(t, rlimit.RemoveMemlock()) // kernels before 5.11 charge maps to it
	fentry := testtarget.Live().Has(target.Fentry)
	for _, in := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".gt")
		t.Run(name, func(t *testing.T) {
			if text, _ := os.ReadFile(in); strings.Contains(string(text), "// golden-no-live:") {
				t.Skip("compiles only for its recorded target (golden-no-live)")
			}
			p := compileFile(t, in, liveTarget(t))
			spec := p.Spec.Copy()
			// Kernels that refuse BPF trampolines (like the development VM)
			// refuse every fentry/fexit program with EPERM before the
			// verifier sees it: load those alone and accept only that.
			for name, ps := range spec.Programs {
				if ps.Type != ebpf.Tracing || fentry {
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
