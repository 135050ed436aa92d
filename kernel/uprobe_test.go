package kernel

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A synthetic cache in the new format: two entries, strings after them.
func TestParseLibCacheSynthetic(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("glibc-ld.so.cache1.1")
	hdr := make([]byte, 28)
	binary.LittleEndian.PutUint32(hdr[0:], 2) // nlibs
	b.Write(hdr)
	strs := []string{"libfoo.so.1", "/usr/lib/libfoo.so.1", "libbar.so", "/lib/libbar.so"}
	strBase := 48 + 2*24
	offs := []int{}
	off := strBase
	for _, s := range strs {
		offs = append(offs, off)
		off += len(s) + 1
	}
	for i := 0; i < 2; i++ {
		e := make([]byte, 24)
		binary.LittleEndian.PutUint32(e[0:], 0x0303)
		binary.LittleEndian.PutUint32(e[4:], uint32(offs[2*i]))
		binary.LittleEndian.PutUint32(e[8:], uint32(offs[2*i+1]))
		b.Write(e)
	}
	for _, s := range strs {
		b.WriteString(s)
		b.WriteByte(0)
	}
	got, err := ParseLibCache(b.Bytes())
	require.NoError(t, err)
	assert.Equal(t, []LibCacheEntry{
		{Name: "libfoo.so.1", Path: "/usr/lib/libfoo.so.1", Flags: 0x0303},
		{Name: "libbar.so", Path: "/lib/libbar.so", Flags: 0x0303},
	}, got)

	_, err = ParseLibCache([]byte("not a cache"))
	assert.Error(t, err)
	_, err = ParseLibCache(b.Bytes()[:60])
	assert.Error(t, err)
}

// The machine's cache has as many libraries as `ldconfig -p` says.
func TestLibCacheMatchesLdconfig(t *testing.T) {
	out, err := exec.Command("ldconfig", "-p").Output()
	if err != nil {
		t.Skip("no ldconfig")
	}
	m := regexp.MustCompile(`^(\d+) libs found`).FindSubmatch(out)
	require.NotNil(t, m)
	n, _ := strconv.Atoi(string(m[1]))
	libs, err := LibCache()
	require.NoError(t, err)
	assert.Len(t, libs, n)
	for _, l := range libs {
		assert.Contains(t, string(out), l.Name+" ", "entry %+v", l)
		assert.Contains(t, string(out), "=> "+l.Path+"\n", "entry %+v", l)
	}
}

func TestLibNameMatches(t *testing.T) {
	for _, tc := range []struct {
		name, base string
		want       bool
	}{
		{"libc", "libc.so.6", true},
		{"c", "libc.so.6", true},
		{"libc", "libcap.so.2", false},
		{"libc", "libcrypt.so.1", false},
		{"libpthread", "libpthread.so.0", true},
		{"libpthread", "libpthread-2.31.so", true},
		{"libssl", "libssl.so.3", true},
		{"bash", "bash", true},
		{"libm", "libmount.so.1", false},
		{"libfoo", "libfoo-bar.so", false},
	} {
		assert.Equal(t, tc.want, libNameMatches(tc.name, tc.base), "%s vs %s", tc.name, tc.base)
	}
}

func TestResolveUprobeTarget(t *testing.T) {
	got, err := ResolveUprobeTarget("libc", 0)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Regexp(t, `/libc\.so\.6$`, got[0])

	got, err = ResolveUprobeTarget("/bin/sh", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"/bin/sh"}, got)

	if p, err := exec.LookPath("sleep"); err == nil && isELF(p) {
		got, err = ResolveUprobeTarget("sleep", 0)
		require.NoError(t, err)
		assert.Equal(t, "sleep", filepath.Base(got[0]))
	}

	_, err = ResolveUprobeTarget("no_such_library_xyz", 0)
	assert.EqualError(t, err, "uprobe target file 'no_such_library_xyz' does not exist or is not executable")
	_, err = ResolveUprobeTarget("/no/such/file", 0)
	assert.EqualError(t, err, "uprobe target file '/no/such/file' does not exist or is not executable")
	_, err = ResolveUprobeTarget("/etc/hostname", 0)
	assert.ErrorContains(t, err, "not an ELF")
	_, err = ResolveUprobeTarget("", 0)
	assert.Error(t, err)

	got, err = ResolveUprobeTarget("/bin/s[h]", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"/bin/sh"}, got)
}

// With a pid, a library name is found in the process's maps.
func TestResolveUprobeTargetInProcess(t *testing.T) {
	sh, pid := startReady(t)
	files, err := ProcessMappedFiles(pid)
	require.NoError(t, err)
	require.Greater(t, len(files), 1, "sh maps its libraries: %v", files)
	require.Contains(t, strings.Join(files, " "), "/libc.so")
	real, _ := filepath.EvalSymlinks(sh)
	assert.Equal(t, real, files[0], "the executable comes first")
	got, err := ResolveUprobeTarget("libc", pid)
	require.NoError(t, err)
	assert.Contains(t, files, got[0])

	_, err = ProcessMappedFiles(1 << 30)
	assert.EqualError(t, err, fmt.Sprintf("process %d does not exist", 1<<30))
}

// startReady starts /bin/sh, dynamically linked, and returns its path and
// pid once it has run its first command: by then the dynamic linker has
// mapped every library. It waits on input until the test ends.
func startReady(t *testing.T) (string, int) {
	t.Helper()
	sh := "/bin/sh"
	cmd := exec.Command(sh, "-c", "echo ready; read x")
	in, err := cmd.StdinPipe()
	require.NoError(t, err)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { in.Close(); cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	return sh, cmd.Process.Pid
}

// buildC compiles a C program with gcc, or skips.
func buildC(t *testing.T, src string) string {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.c"), []byte(src), 0o644))
	bin := filepath.Join(dir, "p")
	out, err := exec.Command(gcc, "-O0", "-o", bin, filepath.Join(dir, "p.c")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func TestELFBinary(t *testing.T) {
	bin := buildC(t, `#include <stdio.h>
__attribute__((noinline)) int target(int a) { return a * 2; }
static __attribute__((noinline)) int local_fn(int a) { return a + 1; }
int main(void) { printf("%d\n", target(local_fn(1))); return 0; }
`)
	b, err := OpenELFBinary(bin)
	require.NoError(t, err)
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	var target elf.Symbol
	for _, s := range syms {
		if s.Name == "target" {
			target = s
		}
	}
	require.NotZero(t, target.Value)

	s, ok := b.Lookup("target")
	require.True(t, ok)
	assert.Equal(t, target.Value, s.Addr)
	assert.Equal(t, target.Size, s.Size)
	// A PIE's text segment is mapped at its file offset.
	off, err := b.AddressOffset(target.Value)
	require.NoError(t, err)
	assert.Equal(t, s.Offset, off)
	text := f.Section(".text")
	assert.Equal(t, target.Value-text.Addr+text.Offset, s.Offset)

	_, ok = b.Lookup("local_fn")
	assert.True(t, ok, "local functions are probe-able")
	names := []string{}
	for _, s := range b.Match("*_fn") {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"local_fn"}, names)

	in, ok := b.SymbolAt(target.Value + 1)
	require.True(t, ok)
	assert.Equal(t, "target", in.Name)

	_, fo, err := b.FuncOffset("target", 1)
	require.NoError(t, err)
	assert.Equal(t, s.Offset+1, fo)
	_, _, err = b.FuncOffset("target", target.Size)
	assert.ErrorContains(t, err, "Offset outside the function bounds ('target' size is")
	_, _, err = b.FuncOffset("printf", 0)
	assert.ErrorContains(t, err, "not defined in "+bin+" but imported from a library")
	_, _, err = b.FuncOffset("nope", 0)
	assert.ErrorContains(t, err, "function nope not found in "+bin)
	_, err = b.AddressOffset(1 << 40)
	assert.ErrorContains(t, err, "not in an executable segment")

	// -l lists every function, sorted.
	var out bytes.Buffer
	require.NoError(t, ListProbes("uprobe:"+bin+":*", false, &out))
	assert.Contains(t, out.String(), "uprobe:"+bin+":main\nuprobe:"+bin+":register_tm_clones\nuprobe:"+bin+":target\n")
	out.Reset()
	require.NoError(t, ListProbes("u:"+bin+":ta*", false, &out))
	assert.Equal(t, "uprobe:"+bin+":target\n", out.String())

	_, err = OpenELFBinary("/etc/hostname")
	assert.Error(t, err)
}

// `gotrace -l 'uprobe:/bin/bash:...'` prints what bpftrace 0.17 printed for
// the same /bin/bash (the test needs that exact binary).
func TestListUprobesMatchesBpftrace(t *testing.T) {
	data, err := os.ReadFile("/bin/bash")
	if err != nil {
		t.Skip("no /bin/bash")
	}
	want := strings.TrimSpace(readTestdata(t, "uprobe/bin-bash.sha256"))
	if fmt.Sprintf("%x", sha256.Sum256(data)) != want {
		t.Skip("/bin/bash is not the binary the expected listing was taken from")
	}
	for pattern, file := range map[string]string{
		"uprobe:/bin/bash:*read*": "uprobe/bpftrace-l-uprobe-bin-bash-read.txt",
		"uprobe:/bin/bash:*":      "uprobe/bpftrace-l-uprobe-bin-bash-all.txt",
		"uprobe:/bin/bash":        "uprobe/bpftrace-l-uprobe-bin-bash-all.txt",
	} {
		var out bytes.Buffer
		require.NoError(t, ListProbes(pattern, false, &out))
		assert.Equal(t, readTestdata(t, file), out.String(), "gotrace -l %q", pattern)
	}
}

// -l -p lists the functions of everything the process has mapped.
func TestListUprobesOfProcess(t *testing.T) {
	_, pid := startReady(t)
	var out bytes.Buffer
	require.NoError(t, ListProbesPID("*:malloc", false, pid, &out))
	assert.Regexp(t, `^uprobe:/\S+/libc\.so\.6:malloc\n$`, out.String())

	out.Reset()
	require.NoError(t, ListProbesPID("uprobe:libc:mallo?", false, pid, &out))
	assert.Regexp(t, `^uprobe:/\S+/libc\.so\.6:malloc\n$`, out.String())

	out.Reset()
	require.NoError(t, ListProbesPID("", false, pid, &out))
	assert.Greater(t, strings.Count(out.String(), "\n"), 1000)
}

// Stripped libraries get their local functions from a separate debug file
// when one is installed (libc6-dbg).
func TestDebugFileSymbols(t *testing.T) {
	paths, err := ResolveUprobeTarget("libc", 0)
	require.NoError(t, err)
	f, err := elf.Open(paths[0])
	require.NoError(t, err)
	dbg := debugFile(paths[0], f)
	f.Close()
	if dbg == "" {
		t.Skip("no debug file for libc")
	}
	b, err := OpenELFBinary(paths[0])
	require.NoError(t, err)
	dyn := map[string]bool{}
	f, _ = elf.Open(paths[0])
	ds, _ := f.DynamicSymbols()
	f.Close()
	for _, s := range ds {
		dyn[s.Name] = true
	}
	local := 0
	for _, s := range b.Funcs {
		if !dyn[s.Name] {
			local++
		}
		assert.NotContains(t, s.Name, ".part.")
	}
	assert.Greater(t, local, 1000, "functions from %s", dbg)
}

// libc's GNU indirect functions (strlen, memcpy) are functions a uprobe
// attaches to, at their symbol, as bpftrace lists and probes them; data
// symbols have addresses for uaddr().
func TestELFIndirectFunctionsAndData(t *testing.T) {
	paths, err := ResolveUprobeTarget("libc", 0)
	if err != nil {
		t.Skipf("no libc here: %v", err)
	}
	b, err := ReadELFBinary(paths[0])
	require.NoError(t, err)
	f, err := elf.Open(paths[0])
	require.NoError(t, err)
	defer f.Close()
	dyn, err := f.DynamicSymbols()
	require.NoError(t, err)
	want := map[string]uint64{}
	for _, s := range dyn {
		if (s.Name == "strlen" || s.Name == "program_invocation_name") && s.Value != 0 {
			want[s.Name] = s.Value
		}
	}
	require.Len(t, want, 2, "libc has strlen and program_invocation_name")
	sym, ok := b.Lookup("strlen")
	require.True(t, ok, "strlen, an IFUNC, is a function")
	require.Equal(t, want["strlen"], sym.Addr)
	addr, ok := b.SymbolAddress("program_invocation_name")
	require.True(t, ok, "data symbols have addresses")
	require.Equal(t, want["program_invocation_name"], addr)
	_, ok = b.SymbolAddress("gotrace_no_such_symbol")
	require.False(t, ok)
}
