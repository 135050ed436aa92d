package kernel

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKallsymsRoundTrip(t *testing.T) {
	requireRoot(t)
	start := time.Now()
	ks, err := Kallsyms()
	require.NoError(t, err)
	t.Logf("parsed %d kernel symbols in %v", ks.Len(), time.Since(start))
	require.Greater(t, ks.Len(), 10000)

	again, err := Kallsyms()
	require.NoError(t, err)
	assert.Same(t, ks, again, "parsed once")

	for _, name := range []string{"vfs_read", "do_sys_openat2", "schedule"} {
		addr, ok := ks.Address(name)
		require.True(t, ok, name)
		require.NotZero(t, addr, name)
		got, off, ok := ks.Lookup(addr)
		require.True(t, ok, name)
		assert.Equal(t, name, got)
		assert.Zero(t, off)
		got, off, ok = ks.Lookup(addr + 3)
		require.True(t, ok, name)
		assert.Equal(t, name, got)
		assert.Equal(t, uint64(3), off)
	}
	_, ok := ks.Address("no_such_kernel_symbol_xyz")
	assert.False(t, ok)
	_, _, ok = ks.Lookup(0x1000)
	assert.False(t, ok, "below every symbol")
}

const fakeKallsyms = `0000000000000000 A fixed_percpu_data
ffffffff81000000 T _stext
ffffffff81000000 T _text
ffffffff81000100 t local_fn
ffffffff81000200 T global_fn
ffffffff81000300 W weak_fn
ffffffff81000400 R some_rodata
ffffffff81000500 T after_rodata
ffffffffc0000000 t mod_fn	[mymod]
ffffffffc0000100 t local_fn	[mymod]
garbage line
`

func TestParseKallsyms(t *testing.T) {
	ks, err := ParseKallsyms(strings.NewReader(fakeKallsyms))
	require.NoError(t, err)
	assert.Equal(t, 9, ks.Len())

	look := func(addr uint64) (string, uint64, bool) { return ks.Lookup(addr) }
	name, off, ok := look(0xffffffff81000000)
	assert.True(t, ok)
	assert.Equal(t, "_stext", name, "first listed wins at a shared address")
	assert.Zero(t, off)
	name, off, ok = look(0xffffffff81000150)
	assert.True(t, ok)
	assert.Equal(t, "local_fn", name)
	assert.Equal(t, uint64(0x50), off)
	name, _, ok = look(0xffffffff81000310)
	assert.True(t, ok)
	assert.Equal(t, "weak_fn", name)
	_, _, ok = look(0xffffffff81000410)
	assert.False(t, ok, "inside read-only data, not code")
	name, off, ok = look(0xffffffffc0000010)
	assert.True(t, ok)
	assert.Equal(t, "mod_fn", name, "module suffix stripped")
	assert.Equal(t, uint64(0x10), off)
	_, _, ok = look(0xffffffff80ffffff)
	assert.False(t, ok)

	addr, ok := ks.Address("local_fn")
	assert.True(t, ok)
	assert.Equal(t, uint64(0xffffffff81000100), addr, "the first of duplicate names")
	addr, ok = ks.Address("some_rodata")
	assert.True(t, ok)
	assert.Equal(t, uint64(0xffffffff81000400), addr)
	_, ok = ks.Address("fixed_percpu_data")
	assert.False(t, ok, "zero addresses are dropped")

	_, err = ParseKallsyms(strings.NewReader("0000000000000000 T _stext\n0000000000000000 T vfs_read\n"))
	assert.ErrorIs(t, err, ErrKallsymsHidden)

	empty, err := ParseKallsyms(strings.NewReader(""))
	require.NoError(t, err)
	_, _, ok = empty.Lookup(0xffffffff81000000)
	assert.False(t, ok)
}

func BenchmarkParseKallsyms(b *testing.B) {
	data, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := ParseKallsyms(bytes.NewReader(data)); err != nil {
			b.Skip(err)
		}
	}
}
