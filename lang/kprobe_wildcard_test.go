package lang

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotrace/gotrace/target"
)

// kprobeKernel is a machine with kprobes whose traceable functions are
// funcs, and nothing else.
type kprobeKernel struct {
	target.None
	funcs []string
}

func (k kprobeKernel) Has(f target.Feature) bool             { return f == target.Kprobes }
func (k kprobeKernel) TraceableFunctions() ([]string, error) { return k.funcs, nil }

// checkKprobes checks script as on a kernel with kprobes whose traceable
// functions are funcs.
func checkKprobes(t *testing.T, script string, funcs ...string) (*Info, error) {
	t.Helper()
	src := &Source{Name: "stdin", Text: script}
	prog, err := Parse(src)
	require.NoError(t, err)
	return Check(prog, src, &Env{Target: kprobeKernel{funcs: funcs}})
}

func attachFuncs(info *Info) [][]string {
	var out [][]string
	for _, pi := range info.Probes {
		fs := []string{}
		for _, ap := range pi.Attach {
			fs = append(fs, ap.Func)
		}
		out = append(out, fs)
	}
	return out
}

// TestKprobeWildcardDotSuffix: a wildcard after a '.' matches the
// compiler's clones (dcsnoop's kprobe:lookup_fast.constprop.*). The plain
// name is not looked up here: on this kernel it fails to attach, and is
// skipped then.
func TestKprobeWildcardDotSuffix(t *testing.T) {
	info, err := checkKprobes(t, `kprobe:lookup_fast, kprobe:lookup_fast.constprop.* { @ = count(); }`,
		"d_lookup", "lookup_fast.constprop.0", "lookup_fast.isra.0", "vfs_read")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"lookup_fast", "lookup_fast.constprop.0"}}, attachFuncs(info))
}

// TestKprobeWildcardNoMatch: as in bpftrace, a kprobe wildcard that
// matches nothing (lookup_fast.constprop.* on a kernel whose lookup_fast
// was not cloned) is skipped, with a warning, while other probes are left;
// with none left it is an error.
func TestKprobeWildcardNoMatch(t *testing.T) {
	funcs := []string{"d_lookup", "lookup_fast", "vfs_read"}

	info, err := checkKprobes(t, `kprobe:lookup_fast, kprobe:lookup_fast.constprop.* { @ = count(); }`, funcs...)
	require.NoError(t, err)
	require.Equal(t, [][]string{{"lookup_fast"}}, attachFuncs(info))
	require.Contains(t, info.Probes[0].Attach[0].Warning, "skipping kprobe:lookup_fast.constprop.*")

	info, err = checkKprobes(t, `kprobe:lookup_fast.constprop.* { @a = count(); } kprobe:vfs_read { @b = count(); }`, funcs...)
	require.NoError(t, err)
	require.Equal(t, [][]string{{}, {"vfs_read"}}, attachFuncs(info))
	require.Contains(t, info.Probes[1].Attach[0].Warning, "no kernel function matches lookup_fast.constprop.*")
	require.Contains(t, info.Maps, "@a", "the skipped probe's maps still exist (bpftrace prints @a: 0)")

	_, err = checkKprobes(t, `kprobe:lookup_fast.constprop.* { @a = count(); }`, funcs...)
	require.ErrorContains(t, err, "no kernel function matches lookup_fast.constprop.*")
}
