package codegen_test

import (
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/fuzzseed"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
)

// For a kernel without sign-extending loads (6.1), no program has one:
// the verifier there rejects them ("BPF_LDX uses reserved fields"). Every
// fuzz seed that compiles is checked: examples, goldens, conformance
// scripts and error cases.
func TestNoSignExtendingLoadsFor61(t *testing.T) {
	scripts, err := fuzzseed.Scripts("..")
	require.NoError(t, err)
	scripts = append(scripts,
		`BEGIN { $p = (int8*)curtask; @a = $p[1]; @b = *$p; $q = (int16*)curtask; @c = $q[$1]; }`,
		`tracepoint:syscalls:sys_enter_openat { @[args->dfd] = count(); $x = (int32)args->flags; @x = $x; }`)
	t61 := testtarget.Recorded(t, "6.1")
	compiled := 0
	for _, text := range scripts {
		p, err := codegen.CompileSource(&lang.Source{Name: "seed", Text: text}, &lang.Env{Target: t61, StrLen: 64})
		if err != nil {
			continue
		}
		compiled++
		for _, pp := range p.Probes {
			for _, ins := range pp.Spec.Instructions {
				require.NotEqual(t, asm.MemSXMode, ins.OpCode.Mode(), "%s\n%v", text, ins)
			}
		}
	}
	require.Greater(t, compiled, 50)
}
