package runtime_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"github.com/stretchr/testify/require"
)

// compileOnly parses, checks and compiles a script that must pass the checker.
func compileOnly(t *testing.T, script string, opts ...codegen.Options) *codegen.Program {
	t.Helper()
	p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: script}, &lang.Env{Target: testtarget.Live()}, opts...)
	require.NoError(t, err)
	return p
}

// Programs the checker accepts but the kernel's verifier rejects are
// reported against the script span of the instruction the verifier stopped
// at, with the verifier's reason in one line.
func TestVerifierRejectionMapsToScript(t *testing.T) {
	testenv.RequireBPF(t)
	for _, tc := range []struct {
		name, script, want string
	}{
		{
			name:   "unbounded while",
			script: "BEGIN {\n  $i = 1;\n  while ($i > 0) { $i = $i + 1; }\n}",
			want: "stdin:3:3-34: ERROR: the kernel's BPF verifier rejected the program: BPF program is too large. Processed 1000001 insn\n" +
				"  while ($i > 0) { $i = $i + 1; }\n" +
				"  ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
		},
		{
			name:   "infinite loop",
			script: "BEGIN { printf(\"start\\n\"); }\ninterval:s:1 {\n  while (1) { }\n}",
			want: "stdin:3:3-16: ERROR: the kernel's BPF verifier rejected the program: infinite loop detected at insn 1\n" +
				"  while (1) { }\n" +
				"  ~~~~~~~~~~~~~",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runtime.Load(compileOnly(t, tc.script), runtime.LoadOptions{})
			require.Error(t, err)
			var le *lang.Error
			require.True(t, errors.As(err, &le), "want a positioned error, got %v", err)
			if tc.name == "unbounded while" && !strings.Contains(err.Error(), "Processed 1000001 insn") {
				// Rarely the kernel's log keeps no reason line: the error
				// is then the kernel's, still positioned in the script.
				require.Contains(t, err.Error(), "ERROR: the kernel's BPF verifier rejected the program: BPF program is too large")
				return
			}
			require.Equal(t, tc.want, err.Error())
		})
	}
}

// With -v the whole verifier log follows, each instruction annotated with
// the script text it came from.
func TestVerifierLogAnnotated(t *testing.T) {
	testenv.RequireBPF(t)
	_, err := runtime.Load(compileOnly(t, "BEGIN {\n  $i = 1;\n  while ($i > 0) { $i = $i + 1; }\n}"), runtime.LoadOptions{VerifierLog: true})
	require.Error(t, err)
	require.Contains(t, err.Error(), "verifier log for BEGIN")
	require.Regexp(t, `\n\d+: \(07\) r7 \+= 1 .*\t// 3:20: \$i = \$i \+ 1\n`, err.Error())
}
