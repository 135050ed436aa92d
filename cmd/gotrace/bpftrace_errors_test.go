package main

// Errors the runtime tests of bpftrace check, in bpftrace's words (captured
// from bpftrace 0.17 by testdata/cli/capture.sh): gotrace keeps the
// position, the source line and its hint around them.

import (
	"github.com/gotrace/gotrace/internal/testenv"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bpftraceError is the message of the first ERROR line of a capture.
func bpftraceError(t *testing.T, file string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)ERROR: (.*)$`).FindStringSubmatch(captured(t, file))
	require.NotNil(t, m, "no ERROR in %s", file)
	return m[1]
}

func TestCLIErrorsInBpftraceWords(t *testing.T) {
	needKernel(t)
	dir := buildListTarget(t)
	for _, tc := range []struct {
		file, script string
	}{
		{"error-uprobe-address.both", `uprobe:./listtarget:10 { exit(); }`},
		{"error-uprobe-offset.both", `uprobe:./listtarget:listfunc_one+100000 { exit(); }`},
		{"error-tracepoint.both", `t:syscalls:nonsense { exit(); }`},
	} {
		r := gotraceIn(t, dir, "-e", tc.script)
		assert.Equal(t, 1, r.status)
		want := bpftraceError(t, tc.file)
		assert.True(t, strings.HasPrefix(r.stderr, "stdin:1:1-"), "positioned: %q", r.stderr)
		assert.Contains(t, r.stderr, "ERROR: "+want, tc.script)
	}
	// cat() of a missing file prints bpftrace's line and the run goes on.
	out, status := gotraceBoth(t, nil, "-e", `BEGIN { cat("/does/not/exist/file"); exit(); }`)
	assert.Equal(t, 0, status)
	assert.Equal(t, captured(t, "error-cat.both"), out)
}

// The checker's unroll bounds and kaddr() of an unknown symbol.
func TestCLICheckerErrorsInBpftraceWords(t *testing.T) {
	for _, tc := range []struct {
		file, script string
	}{
		{"error-unroll-min.both", `BEGIN { unroll(0) { @x = 1; } exit(); }`},
		{"error-unroll-max.both", `BEGIN { unroll(101) { @x = 1; } exit(); }`},
		{"error-kaddr.both", `BEGIN { print(kaddr("asdfzzzzzzz")) }`},
		{"error-banned.both", `kretprobe:_raw_spin_lock { exit(); }`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			if strings.Contains(tc.script, "kaddr") {
				// Resolving a kernel symbol reads /proc/kallsyms, whose
				// addresses only root sees.
				testenv.RequireRoot(t)
			}
			r := gotrace(t, "", "--dry-run", "-e", tc.script)
			assert.Equal(t, 1, r.status)
			want := bpftraceError(t, tc.file)
			want = strings.TrimPrefix(want, "Failed to compile: ")
			assert.Regexp(t, `^stdin:1:\d+-\d+: ERROR: `+regexp.QuoteMeta(want), r.stderr, tc.script)
		})
	}
}
