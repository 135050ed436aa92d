package codegen_test

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/require"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
)

// instructions lists a program's instructions without their source notes.
func instructions(t *testing.T, tgt string, script string) string {
	t.Helper()
	p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: script}, &lang.Env{Target: testtarget.Recorded(t, tgt)})
	require.NoError(t, err)
	var out string
	for _, pp := range p.Probes {
		for _, ins := range pp.Spec.Instructions {
			out += fmt.Sprintf("%v\n", ins.WithSource(nil).WithMetadata(asm.Metadata{}))
		}
	}
	return out
}

// Today's bpftrace follows pointers with '.': args.filename, curtask.parent.pid
// and (*p).x compile to exactly what -> compiles to.
func TestDotFollowsPointers(t *testing.T) {
	for _, tc := range []struct{ target, dot, arrow string }{
		{"dev", `tracepoint:syscalls:sys_enter_openat { @[str(args.filename)] = count(); @d = args.dfd; }`,
			`tracepoint:syscalls:sys_enter_openat { @[str(args->filename)] = count(); @d = args->dfd; }`},
		{"dev", `BEGIN { @p = curtask.real_parent.pid; @c = curtask.mm.map_count; exit(); }`,
			`BEGIN { @p = curtask->real_parent->pid; @c = curtask->mm->map_count; exit(); }`},
		{"6.1", `fentry:vfs_read { @ = sum(args.count); }`, `fentry:vfs_read { @ = sum(args->count); }`},
	} {
		require.Equal(t, instructions(t, tc.target, tc.arrow), instructions(t, tc.target, tc.dot), tc.dot)
	}
}
