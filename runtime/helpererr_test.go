package runtime_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
	"github.com/stretchr/testify/require"
)

// With -k (Options.HelperErrors) a failed memory read is reported at the
// script position of the call that made it, with the kernel's error.
func TestHelperErrorsReported(t *testing.T) {
	testenv.RequireBPF(t)
	src := &lang.Source{Name: "stdin", Text: `BEGIN { printf("[%s]\n", str(0x10)); exit(); }`}
	p, err := codegen.CompileSource(src, &lang.Env{Target: testtarget.Live()}, codegen.Options{HelperErrors: true})
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, runtime.Run(ctx, p, runtime.Options{Out: output.NewText(&out), Stderr: &errOut}))
	require.Equal(t, "Attaching 1 probe...\n[]\n\n\n", out.String())
	require.Equal(t, "stdin:1:26-35: WARNING: Failed to probe_read_str: Bad address (-14)\n"+
		`BEGIN { printf("[%s]\n", str(0x10)); exit(); }`+"\n"+
		"                         ~~~~~~~~~\n", errOut.String())

	// Without -k the program has no such checks.
	plain, err := codegen.CompileSource(src, &lang.Env{Target: testtarget.Live()})
	require.NoError(t, err)
	require.Less(t, len(plain.Probes[0].Spec.Instructions), len(p.Probes[0].Spec.Instructions))
}

// -k reports a delete of a key that is not there, and -kk also a read of
// one, in bpftrace 0.17's words (its output for the same script).
func TestHelperErrorsMapDeleteAndLookup(t *testing.T) {
	testenv.RequireBPF(t)
	script := `BEGIN { @y[2] = 1; @x[3] = 1; delete(@x[1]); $a = @y[5]; printf("%d\n", $a); exit(); }`
	deleteWarning := "stdin:1:31-44: WARNING: Failed to map_delete_elem: No such file or directory (-2)\n" + script + "\n" +
		"                              ~~~~~~~~~~~~~\n"
	lookupWarning := "stdin:1:51-56: WARNING: Failed to map_lookup_elem: 0\n" + script + "\n" +
		"                                                  ~~~~~\n"
	for _, tc := range []struct {
		opts codegen.Options
		want string
	}{
		{codegen.Options{HelperErrors: true}, deleteWarning},
		{codegen.Options{HelperErrors: true, HelperErrorLookups: true}, deleteWarning + lookupWarning},
	} {
		p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: script}, &lang.Env{Target: testtarget.Live()}, tc.opts)
		require.NoError(t, err)
		var out, errOut bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		require.NoError(t, runtime.Run(ctx, p, runtime.Options{Out: output.NewText(&out), Stderr: &errOut}))
		cancel()
		require.Equal(t, "Attaching 1 probe...\n0\n\n\n@x[3]: 1\n@y[2]: 1\n", out.String())
		require.Equal(t, tc.want, errOut.String())
	}
}
