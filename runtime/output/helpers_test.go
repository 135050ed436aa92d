package output

import (
	"bytes"
	"math/bits"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// render runs f against a text or JSON printer and returns the output.
func render(t *testing.T, json bool, f func(p Printer)) string {
	t.Helper()
	var b bytes.Buffer
	p := NewText(&b)
	if json {
		p = NewJSON(&b)
	}
	f(p)
	require.NoError(t, p.Flush())
	return b.String()
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// checkGolden compares the text and JSON output of f with NAME.txt and
// NAME.json, which bpftrace 0.17 printed for NAME.bt (see testdata/gen.sh).
func checkGolden(t *testing.T, name string, f func(p Printer)) {
	t.Helper()
	require.Equal(t, golden(t, name+".txt"), render(t, false, f), "text output of testdata/%s.bt", name)
	require.Equal(t, golden(t, name+".json"), render(t, true, f), "JSON output of testdata/%s.bt", name)
}

// hist returns hist() buckets for values, indexed like bpftrace 0.17's
// BPF code (its log2 only looks at 32 bits: everything >= 2^32 lands in
// index 33).
func hist(values ...int64) []uint64 {
	b := make([]uint64, 66)
	for _, v := range values {
		switch {
		case v < 0:
			b[0]++
		case v == 0:
			b[1]++
		default:
			b[2+min(bits.Len64(uint64(v))-1, 31)]++
		}
	}
	return b
}

// lhist returns lhist(v, min, max, step) buckets for values.
func lhist(lo, hi, step int64, values ...int64) []uint64 {
	n := (hi - lo) / step
	b := make([]uint64, n+2)
	for _, v := range values {
		switch {
		case v < lo:
			b[0]++
		case v >= hi:
			b[n+1]++
		default:
			b[(v-lo)/step+1]++
		}
	}
	return b
}

func key(k ...Value) []Value { return k }

// ints is shorthand for a key of signed integers.
func ints(k ...int64) []Value {
	out := make([]Value, len(k))
	for i, v := range k {
		out[i] = Int(v)
	}
	return out
}
