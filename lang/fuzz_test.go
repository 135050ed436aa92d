package lang_test

// Fuzz targets for the front end.
//
//	go test ./lang -run='^$' -fuzz=FuzzParse -fuzztime=4m
//	go test ./lang -run='^$' -fuzz=FuzzCheck -fuzztime=4m
//
// Plain `go test` runs only the seeds (the script files of the project, a
// few bpftrace tools copied to testdata/fuzz/bpftrace, the snippets below
// and any crasher kept under testdata/fuzz/FuzzXxx), which takes well
// under a second.

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/internal/fuzzseed"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/target"
)

func fuzzAddSeeds(f *testing.F) {
	scripts, err := fuzzseed.Scripts("..")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range scripts {
		f.Add(s)
	}
}

// fuzzSlow bounds the time one small input may take: the front end is
// linear or close to it, so a few kilobytes taking seconds is a finding.
const fuzzSlow = 5 * time.Second

// fuzzCheckErr checks what a failing Parse or Check returned: an ErrorList
// (or a single *Error) of positioned errors inside the text, never an
// internal error.
func fuzzCheckErr(t *testing.T, stage, text string, err error) {
	t.Helper()
	var list lang.ErrorList
	var one *lang.Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = lang.ErrorList{one}
	default:
		t.Fatalf("%s returned %T, not a *lang.Error/ErrorList: %v", stage, err, err)
	}
	if len(list) == 0 {
		t.Fatalf("%s returned an empty ErrorList", stage)
	}
	for _, e := range list {
		if e == nil {
			t.Fatalf("%s returned a nil *Error in its list", stage)
		}
		msg := e.Error()
		if strings.Contains(msg, "internal parser error") || strings.Contains(msg, "internal error") {
			t.Fatalf("%s failed internally on %q:\n%s", stage, text, msg)
		}
		if !strings.Contains(msg, "ERROR: ") {
			t.Fatalf("%s error lacks ERROR: %q", stage, msg)
		}
		sp := e.Span
		if sp.Start.Line < 1 || sp.Start.Col < 1 {
			t.Fatalf("%s error has no position: %q (span %+v)", stage, msg, sp)
		}
		if sp.Start.Offset < 0 || sp.Start.Offset > len(text)+1 || sp.End.Offset > len(text)+1 {
			t.Fatalf("%s error span %+v is outside the %d-byte text: %q", stage, sp, len(text), msg)
		}
		if n := strings.Count(text, "\n") + 1; sp.Start.Line > n {
			t.Fatalf("%s error on line %d of a %d-line text: %q", stage, sp.Start.Line, n, msg)
		}
	}
}

// fuzzTimed runs f and reports it when it is slow twice in a row (once may
// be the machine stalling the fuzzer's worker, twice is the input).
func fuzzTimed(t *testing.T, what, text string, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if d := time.Since(start); d > fuzzSlow && len(text) < 64<<10 {
		start = time.Now()
		f()
		if d2 := time.Since(start); d2 > fuzzSlow {
			t.Errorf("%s %d bytes took %v, then %v", what, len(text), d, d2)
		}
	}
}

func fuzzParse(t *testing.T, text string) (*lang.Source, *lang.Program) {
	t.Helper()
	src := &lang.Source{Name: "fuzz.bt", Text: text}
	var prog *lang.Program
	var err error
	fuzzTimed(t, "parsing", text, func() { prog, err = lang.Parse(src) })
	if err != nil {
		if prog != nil {
			t.Fatalf("Parse returned both a program and an error: %v", err)
		}
		fuzzCheckErr(t, "Parse", text, err)
		return src, nil
	}
	if prog == nil {
		t.Fatalf("Parse returned neither a program nor an error")
	}
	_ = prog.String() // printing the tree must not panic either
	return src, prog
}

// FuzzParse: the parser never panics and returns either a syntax tree or
// positioned errors.
func FuzzParse(f *testing.F) {
	fuzzAddSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		fuzzParse(t, text)
	})
}

// fuzzEnv is the recorded development kernel: fuzzing checks the language,
// not the machine it happens to run on.
func fuzzEnv() *lang.Env {
	r, err := target.LoadRecorded(filepath.Join(testtarget.Dir(), "dev"))
	if err != nil {
		panic(err)
	}
	return &lang.Env{Target: r, StrLen: 64}
}

// FuzzCheck: parsing and checking never panic; the checker's errors are
// positioned too.
func FuzzCheck(f *testing.F) {
	fuzzAddSeeds(f)
	env := fuzzEnv()
	f.Fuzz(func(t *testing.T, text string) {
		src, prog := fuzzParse(t, text)
		if prog == nil {
			return
		}
		e := *env
		e.Args = []string{"1", "two"}
		var info *lang.Info
		var err error
		fuzzTimed(t, "checking", text, func() { info, err = lang.Check(prog, src, &e) })
		if err != nil {
			if info != nil {
				t.Fatalf("Check returned both info and an error: %v", err)
			}
			fuzzCheckErr(t, "Check", text, err)
			return
		}
		if info == nil {
			t.Fatalf("Check returned neither info nor an error")
		}
		if len(info.Probes) != len(prog.Probes) {
			t.Fatalf("Check returned %d probes for %d", len(info.Probes), len(prog.Probes))
		}
	})
}
