package main

import (
	"io"
	"os"
	"os/exec"
)

// Closing the perf events a run attached to makes the kernel wait, one
// event at a time, for an RCU grace period (~30 ms each here; 361 syscall
// tracepoints take seconds). By then every program is detached and the
// maps are printed: nothing is left for the user to wait for. So the real
// gotrace binary (not Main called from tests) hands the events to a child
// of its own: the child inherits them, waits for gotrace to exit, and
// exits, and the kernel tears them down in the child's exit while the
// user's shell already has its prompt back.

// releaserEnv marks a gotrace process started as a releaser.
const releaserEnv = "GOTRACE_RELEASE_PERF_EVENTS"

// releaseLater is what main sets as runtime.Options.ReleaseLater; Main
// called from tests leaves it nil and closes the events itself.
var releaseLater func([]*os.File)

// releaserMain is a releaser's whole life: hold the inherited perf events
// until standard input (a pipe gotrace holds the other end of) reaches
// end of file, then exit, which closes them.
func releaserMain() {
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// keepPipe holds the write end of the releaser's standard input open until
// gotrace exits (an *os.File that is collected closes itself).
var keepPipe *os.File

// startReleaser hands files to a releaser and closes gotrace's copies. If
// no releaser can be started, it closes them itself, waiting.
func startReleaser(files []*os.File) {
	if _, w, err := spawnReleaser(files); err == nil {
		keepPipe = w
	}
	for _, f := range files {
		f.Close()
	}
}

// spawnReleaser starts a releaser holding files. It ends when the returned
// pipe is closed.
func spawnReleaser(files []*os.File) (*os.Process, *os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	cmd := exec.Command(exe)
	cmd.Env = []string{releaserEnv + "=1"}
	cmd.Stdin = r // standard output and error: /dev/null
	cmd.ExtraFiles = files
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, nil, err
	}
	return cmd.Process, w, nil
}
