// Package tracetest runs gotrace scripts against the real kernel from
// tests: compile, attach, trigger the events, stop, and return what was
// printed. The end-to-end tests of every package share it.
//
// A run never waits for a time. The events a trigger causes in its own
// thread (its system calls, page faults, the uprobes of a child it waited
// for) are in the ring buffer and the maps by the time it returns, and the
// run drains the ring buffer and reads the maps after it stops, so the run
// stops as soon as the trigger returns. Events that come later, from other
// processes, interrupts or timers, are waited for: Until and UntilMaps
// keep the run going until what the test expects has been printed or
// counted, and fail the test when that has not happened by the deadline.
package tracetest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
	"github.com/stretchr/testify/require"
)

// Options tune a run. The zero value runs the script with no parameters
// and the default limits.
type Options struct {
	Env     *lang.Env       // checker environment (positional args, kprobes...)
	Compile codegen.Options // code generation options (-k)
	PID     int             // -p
	// NoUserSymbols prints user addresses (BPFTRACE_NO_USER_SYMBOLS).
	NoUserSymbols bool
	// Until, when set, keeps the run going after the trigger returned (or,
	// with no trigger, after the probes are attached) until it reports
	// true for what the run has printed so far.
	Until func(stdout string) bool
	// UntilMaps, when set, keeps the run going until it reports true for
	// the maps as the end of the run would print them now ("@n: 3\n...").
	UntilMaps func(maps string) bool
	// Timeout fails the test when the run has not ended, or what Until
	// and UntilMaps wait for has not come (default 20 s).
	Timeout time.Duration
}

// Run compiles and runs script with a text printer. trigger is called once
// the probes are attached and BEGIN ran; the run is stopped once it has
// returned and Until and UntilMaps hold. A nil trigger with neither Until
// nor UntilMaps means the script ends by itself (exit()). It returns what
// the run printed on stdout and stderr. It skips as a normal user
// (testenv.RequireTracefs).
func Run(t testing.TB, script string, trigger func(), o Options) (stdout, stderr string) {
	t.Helper()
	testenv.RequireTracefs(t)
	env := o.Env
	if env == nil {
		env = &lang.Env{}
	}
	if env.Target == nil {
		e := *env
		e.Target = testtarget.Live()
		env = &e
	}
	p, err := codegen.CompileSource(&lang.Source{Name: "stdin", Text: script}, env, o.Compile)
	require.NoError(t, err, "compiling:\n%s", script)
	return RunProgram(t, p, trigger, o)
}

// syncBuffer is the run's stdout: written by the run's event reader, read
// by the conditions.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pollEvery is how often the conditions are evaluated while waiting for
// them. It is not a window: a run goes on until they hold.
const pollEvery = 2 * time.Millisecond

// RunProgram is Run for an already compiled program.
func RunProgram(t testing.TB, p *codegen.Program, trigger func(), o Options) (stdout, stderr string) {
	t.Helper()
	testenv.RequireTracefs(t)
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	var out syncBuffer
	var errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Bool
	var loaded atomic.Pointer[runtime.Loaded]
	triggered := make(chan struct{})
	waits := o.Until != nil || o.UntilMaps != nil
	opts := runtime.Options{
		Out:           output.NewText(&out),
		Stderr:        &errOut,
		PID:           o.PID,
		NoUserSymbols: o.NoUserSymbols,
		Watch:         func(l *runtime.Loaded) { loaded.Store(l) },
		Started: func() {
			started.Store(true)
			if trigger != nil {
				trigger()
			}
			close(triggered)
		},
	}
	done := make(chan error, 1)
	go func() { done <- runtime.Run(ctx, p, opts) }()
	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	fail := func(format string, args ...any) {
		t.Helper()
		cancel()
		// A trigger that never returns keeps the run from ending: do
		// not wait for it for ever.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		t.Fatalf(format+"\nstdout so far:\n%s\nstderr:\n%s", append(args, out.String(), errOut.String())...)
	}

	var err error
	ended := false
	if trigger != nil || waits {
		select {
		case <-triggered:
		case err = <-done:
			ended = true
		case <-deadline.C:
			fail("the trigger did not return within %v", o.Timeout)
		}
	}
	if !ended && waits {
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
	wait:
		for !satisfied(t, o, &out, loaded.Load()) {
			select {
			case err = <-done:
				ended = true
				break wait
			case <-tick.C:
			case <-deadline.C:
				fail("what the test waits for did not come within %v", o.Timeout)
			}
		}
	}
	if !ended {
		if trigger != nil || waits {
			cancel()
		}
		select {
		case err = <-done:
		case <-deadline.C:
			fail("the run did not end within %v", o.Timeout)
		}
	}
	require.NoError(t, err, "running; stderr: %s", errOut.String())
	require.True(t, started.Load(), "Started was never called")
	return out.String(), errOut.String()
}

// satisfied evaluates the conditions of o.
func satisfied(t testing.TB, o Options, out *syncBuffer, l *runtime.Loaded) bool {
	t.Helper()
	if o.Until != nil && !o.Until(out.String()) {
		return false
	}
	if o.UntilMaps != nil {
		if l == nil {
			return false
		}
		maps, err := runtime.ReadMaps(l)
		if err != nil {
			// The run ended by itself (exit()) and closed them: the
			// caller sees it end.
			return false
		}
		var b strings.Builder
		pr := output.NewText(&b)
		pr.PrintMapsAtExit(maps)
		require.NoError(t, pr.Flush())
		if !o.UntilMaps(strings.TrimPrefix(b.String(), "\n\n")) {
			return false
		}
	}
	return true
}
