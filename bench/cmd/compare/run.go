package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// result is one finished run of a tracer.
type result struct {
	Wall     time.Duration // start to reaped
	ToAttach time.Duration // start to the "Attaching" line on stdout (0: never)
	MaxRSSKB int64         // wait4 rusage ru_maxrss
	CPU      time.Duration // user + system time
	Stdout   string
	Stderr   string
	Err      error // non-zero exit, signal, or could not start
}

// watcher is a process's stdout: it keeps everything and notes when the
// "Attaching N probes..." line arrives.
type watcher struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	start    time.Time
	attachAt time.Duration
	attached chan struct{}
	once     sync.Once
}

func newWatcher(start time.Time) *watcher {
	return &watcher{start: start, attached: make(chan struct{})}
}

func (w *watcher) Write(p []byte) (int, error) {
	now := time.Since(w.start)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.attachAt == 0 && strings.Contains(w.buf.String(), "Attaching ") {
		w.attachAt = now
		w.once.Do(func() { close(w.attached) })
	}
	return len(p), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// session is a tracer process the harness started.
type session struct {
	cmd    *exec.Cmd
	start  time.Time
	out    *watcher
	stderr bytes.Buffer
	done   chan struct{}
	res    result
}

// startTool starts path with args; its stdout is watched.
func startTool(path string, args ...string) (*session, error) {
	s := &session{done: make(chan struct{})}
	s.cmd = exec.Command(path, args...)
	s.cmd.Stdin = nil
	s.cmd.Stderr = &s.stderr
	// Its own process group, so that a stuck tracer can be killed with
	// whatever it started, and Ctrl-C on the harness does not reach it
	// before the harness decides.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s.start = time.Now()
	s.out = newWatcher(s.start)
	s.cmd.Stdout = s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		err := s.cmd.Wait()
		s.res.Wall = time.Since(s.start)
		s.res.Err = err
		if st := s.cmd.ProcessState; st != nil {
			if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
				s.res.MaxRSSKB = ru.Maxrss
				s.res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			}
		}
		close(s.done)
	}()
	return s, nil
}

func (s *session) pid() int { return s.cmd.Process.Pid }

// waitAttached waits for the "Attaching" line.
func (s *session) waitAttached(timeout time.Duration) error {
	select {
	case <-s.out.attached:
		return nil
	case <-s.done:
		return fmt.Errorf("exited before attaching: %v\n%s", s.res.Err, tail(s.stderr.String()))
	case <-time.After(timeout):
		return fmt.Errorf("no \"Attaching\" line after %v", timeout)
	}
}

// wait waits for the process to end by itself; past timeout it is killed.
func (s *session) wait(timeout time.Duration) result {
	select {
	case <-s.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-s.pid(), syscall.SIGKILL)
		<-s.done
		s.res.Err = fmt.Errorf("killed after %v: %v", timeout, s.res.Err)
	}
	return s.finish()
}

// stop sends SIGINT (what Ctrl-C does) and waits for the maps to print.
func (s *session) stop(timeout time.Duration) result {
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	return s.wait(timeout)
}

func (s *session) finish() result {
	r := s.res
	r.Stdout = s.out.String()
	r.Stderr = s.stderr.String()
	s.out.mu.Lock()
	r.ToAttach = s.out.attachAt
	s.out.mu.Unlock()
	return r
}

// runTool runs a script that ends by itself and returns how it went.
func runTool(path string, timeout time.Duration, args ...string) result {
	s, err := startTool(path, args...)
	if err != nil {
		return result{Err: err}
	}
	return s.wait(timeout)
}

// command runs a helper (bpftool, gcc, go) and returns its stdout.
func command(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || stderr.Len() > 0 {
			return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, fmt.Errorf("%s: %v", name, err)
	}
	return out, nil
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
