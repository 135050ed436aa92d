// Package tracetest runs gotrace scripts against the real kernel from
// tests: compile, attach, trigger the events, stop, and return what was
// printed. The end-to-end tests of every package share it.
package tracetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gotrace/gotrace/codegen"
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
	// Settle is how long the run goes on after the trigger returns, for
	// the last events to arrive (default 100 ms).
	Settle time.Duration
	// Timeout fails the test when the run has not ended (default 20 s).
	Timeout time.Duration
}

// Run compiles and runs script with a text printer. trigger is called once
// the probes are attached and BEGIN ran; the run is stopped Settle after it
// returns. A nil trigger means the script ends by itself (exit()). It
// returns what the run printed on stdout and stderr.
func Run(t testing.TB, script string, trigger func(), o Options) (stdout, stderr string) {
	t.Helper()
	if o.Settle == 0 {
		o.Settle = 100 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
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

// RunProgram is Run for an already compiled program.
func RunProgram(t testing.TB, p *codegen.Program, trigger func(), o Options) (stdout, stderr string) {
	t.Helper()
	if o.Settle == 0 {
		o.Settle = 100 * time.Millisecond
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := false
	opts := runtime.Options{
		Out:    output.NewText(&out),
		Stderr: &errOut,
		PID:    o.PID,
		Started: func() {
			started = true
			if trigger != nil {
				trigger()
				time.AfterFunc(o.Settle, cancel)
			}
		},
	}
	done := make(chan error, 1)
	go func() { done <- runtime.Run(ctx, p, opts) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(o.Timeout):
		cancel()
		t.Fatalf("the run did not end within %v", o.Timeout)
	}
	require.NoError(t, err, "running; stderr: %s", errOut.String())
	require.True(t, started, "Started was never called")
	return out.String(), errOut.String()
}
