package main

// -l forms bpftrace accepts, compared with what bpftrace 0.17 listed for
// testdata/cli/listtarget.c (see testdata/cli/capture.sh).

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildListTarget compiles testdata/cli/listtarget.c into a new directory
// and returns the directory, or skips without gcc.
func buildListTarget(t *testing.T) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is needed to build the listing target")
	}
	src, err := filepath.Abs("testdata/cli/listtarget.c")
	require.NoError(t, err)
	dir := t.TempDir()
	out, err := exec.Command(gcc, "-O0", "-o", filepath.Join(dir, "listtarget"), src).CombinedOutput()
	require.NoError(t, err, "gcc: %s", out)
	return dir
}

// gotraceIn runs the binary in dir to completion.
func gotraceIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	needBinary(t)
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	status := 0
	if ee, ok := err.(*exec.ExitError); ok {
		status = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{out.String(), errOut.String(), status}
}

// Listing a file's probes: the path as written ("./" kept, also through a
// wildcard), USDT probes sorted, and a wildcard probe type ("*:FILE:*")
// listing uprobes then USDT probes.
func TestCLIListFileForms(t *testing.T) {
	needKernel(t)
	dir := buildListTarget(t)
	for _, tc := range []struct{ pattern, file string }{
		{"uprobe:./listtarget:*", "list-uprobe.out"},
		{"uprobe:./listtar*:list*", "list-uprobe-wildfile.out"},
		{"*:./listtarget:*", "list-wildtype.out"},
		{"usdt:./listtarget:*", "list-usdt.out"},
		{"usdt:./listtar*:listprov:*", "list-usdt-wildfile.out"},
	} {
		r := gotraceIn(t, dir, "-l", tc.pattern)
		assert.Equal(t, 0, r.status, r.stderr)
		assert.Equal(t, captured(t, tc.file), r.stdout, tc.pattern)
	}
}

// A pattern without a probe type, or with a wildcard one, matches
// tracepoint names in any category.
func TestCLIListWithoutProbeType(t *testing.T) {
	needKernel(t)
	r := gotrace(t, "", "-l", "sys_enter_getpp*")
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, captured(t, "list-notype.out"), r.stdout)
	r = gotrace(t, "", "-l", "*:sys_enter_getpp*")
	assert.Equal(t, 0, r.status, r.stderr)
	assert.Equal(t, captured(t, "list-wildtype-tracepoint.out"), r.stdout)
}

// -l -p PID: the process's uprobes and USDT probes, with the pattern's
// probe type and provider. Only the executable's lines are compared:
// gotrace also lists the libraries the process maps.
func TestCLIListPidForms(t *testing.T) {
	needKernel(t)
	dir := buildListTarget(t)
	target := exec.Command(filepath.Join(dir, "listtarget"), "wait")
	in, err := target.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, target.Start())
	defer func() { in.Close(); target.Wait() }()
	pid := strconv.Itoa(target.Process.Pid)
	waitMapped(t, pid, "listtarget")
	real, err := filepath.EvalSymlinks(dir)
	require.NoError(t, err)
	own := func(out string) string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			l = strings.Replace(l, real, "DIR", 1)
			if strings.Contains(l, ":DIR/listtarget:") {
				keep = append(keep, l)
			}
		}
		if len(keep) == 0 {
			return ""
		}
		return strings.Join(keep, "\n") + "\n"
	}
	for _, tc := range []struct {
		args []string
		file string
	}{
		{[]string{"-l", "-p", pid}, "list-pid.out"},
		{[]string{"-l", "usdt:*", "-p", pid}, "list-pid-usdt.out"},
		{[]string{"-l", "usdt:*:listprov2:*", "-p", pid}, "list-pid-usdt-provider.out"},
		{[]string{"-l", "uprobe:*", "-p", pid}, "list-pid-uprobe.out"},
	} {
		r := gotrace(t, "", tc.args...)
		assert.Equal(t, 0, r.status, r.stderr)
		assert.Equal(t, captured(t, tc.file), own(r.stdout), "%q", tc.args)
	}
}

// A pattern with a character no probe name has is refused with bpftrace's
// words, the position and the marker, and gotrace's precision after them.
func TestCLIListInvalidCharacter(t *testing.T) {
	out, status := gotraceBoth(t, nil, "-l", `\n`)
	assert.Equal(t, 1, status)
	want := strings.Replace(captured(t, "list-invalid.both"), "invalid character '\\'", "invalid character '\\' in the probe pattern", 1)
	assert.Equal(t, want, out)
	r := gotrace(t, "", "-l", "a;b")
	assert.Equal(t, 1, r.status)
	assert.Equal(t, "stdin:1:2-3: ERROR: invalid character ';' in the probe pattern\na;b\n ~\n", r.stderr)
}
