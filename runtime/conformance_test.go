package runtime_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gotrace/gotrace/codegen"
	"github.com/gotrace/gotrace/internal/testenv"
	"github.com/gotrace/gotrace/internal/testtarget"
	"github.com/gotrace/gotrace/lang"
	"github.com/gotrace/gotrace/runtime"
	"github.com/gotrace/gotrace/runtime/output"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// lockMachineWide takes an exclusive lock, held until the test ends, that
// every test process on the machine taking the same name shares.
func lockMachineWide(t *testing.T, name string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), name), os.O_CREATE|os.O_RDWR, 0o666)
	require.NoError(t, err)
	require.NoError(t, unix.Flock(int(f.Fd()), unix.LOCK_EX))
	t.Cleanup(func() { f.Close() })
}

// TestConformance runs every testdata/conformance/NAME.bt (with positional
// parameters 42 and abc) and compares the output byte for byte with
// NAME.txt, which bpftrace 0.17 printed for the same script on the
// development machine:
//
//	bpftrace NAME.bt 42 abc > NAME.txt
//
// When NAME.trigger exists, it is a shell command run once the probes are
// attached (for bpftrace: by hand, after "Attaching"); the script ends
// itself with exit().
func TestConformance(t *testing.T) {
	testenv.RequireTracefs(t)
	files, err := filepath.Glob("../testdata/conformance/*.bt")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".bt")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(file)
			require.NoError(t, err)
			want, err := os.ReadFile(strings.TrimSuffix(file, ".bt") + ".txt")
			require.NoError(t, err)

			p, err := codegen.CompileSource(&lang.Source{Name: file, Text: string(text)}, &lang.Env{Target: testtarget.Live(), Args: []string{"42", "abc"}})
			require.NoError(t, err)

			trigger, _ := os.ReadFile(strings.TrimSuffix(file, ".bt") + ".trigger")
			if len(trigger) > 0 {
				// The script traces the whole machine for what its
				// trigger does (an exec of /bin/echo, an open of a
				// fixed path, a command name): two test runs at once
				// (other checkouts, other packages) would see each
				// other's. One at a time, machine-wide.
				lockMachineWide(t, "gotrace-conformance-trigger.lock")
			}
			started := func() {
				if len(trigger) > 0 {
					require.NoError(t, exec.Command("/bin/sh", "-c", string(trigger)).Run())
				}
			}
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			require.NoError(t, runtime.Run(ctx, p, runtime.Options{Out: output.NewText(&out), Stderr: &out, Started: started}))
			require.NoError(t, ctx.Err(), "the script did not exit by itself")
			require.Equal(t, string(want), out.String())
		})
	}
}
