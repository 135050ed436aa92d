// Package testtarget gives tests the machines they compile for: the live
// one (live-tier tests, which load and attach) and the recorded ones under
// testdata/targets (hermetic tests, which run anywhere, unprivileged).
package testtarget

import (
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/gotrace/gotrace/target"
)

var live = sync.OnceValue(func() *target.Live { return target.NewLive() })

// Live is the running machine, shared by the tests of one package.
func Live() *target.Live { return live() }

// Dir is the directory of the recorded targets.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "targets")
}

var recorded sync.Map // name -> *target.Recorded

// Recorded loads the recorded target testdata/targets/NAME:
//
//	dev   the development VM's kernel (6.18): no kprobes, no fentry
//	6.1   Debian 12's kernel: kprobes, kretprobes, fentry, fexit
func Recorded(t testing.TB, name string) *target.Recorded {
	t.Helper()
	if r, ok := recorded.Load(name); ok {
		return r.(*target.Recorded)
	}
	r, err := target.LoadRecorded(filepath.Join(Dir(), name))
	if err != nil {
		t.Fatalf("recorded target %s: %v", name, err)
	}
	actual, _ := recorded.LoadOrStore(name, r)
	return actual.(*target.Recorded)
}

// WithFeatures is t with some features overridden, for tests that compile
// what a kernel with those features would run.
func WithFeatures(t target.Target, fs map[target.Feature]bool) target.Target {
	return overridden{t, fs}
}

type overridden struct {
	target.Target
	fs map[target.Feature]bool
}

func (o overridden) Has(f target.Feature) bool {
	if v, ok := o.fs[f]; ok {
		return v
	}
	return o.Target.Has(f)
}
