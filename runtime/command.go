package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// execChildEnv marks a gotrace process started by StartCommand as the
// waiting child of -c: it blocks until gotrace has attached its probes, then
// execs the command (see execChild).
const execChildEnv = "GOTRACE_EXEC_CHILD"

func init() {
	if os.Getenv(execChildEnv) == "1" {
		execChild()
	}
}

// execChild is the child side of StartCommand. It runs before main: it
// waits for one byte on fd 3 (the start pipe) and execs the command in
// os.Args[1:] ("path", argv...). gotrace closing the pipe without writing
// means "do not run": the child exits quietly.
func execChild() {
	os.Unsetenv(execChildEnv)
	var b [1]byte
	n, err := unix.Read(3, b[:])
	for errors.Is(err, unix.EINTR) {
		n, err = unix.Read(3, b[:])
	}
	if n != 1 {
		os.Exit(126)
	}
	unix.Close(3)
	if len(os.Args) < 3 {
		os.Exit(127)
	}
	err = unix.Exec(os.Args[1], os.Args[2:], os.Environ())
	fmt.Fprintf(os.Stderr, "ERROR: cannot run %s: %v\n", os.Args[1], err)
	os.Exit(127)
}

// Command is the command of -c: a child process created before the probes
// are attached (so its pid is known and uprobes can be limited to it) that
// execs the command only once they are.
type Command struct {
	cmd   *exec.Cmd
	start *os.File // write end of the start pipe
	done  chan struct{}
	once  sync.Once
}

// SplitCommand splits a -c command line into words the way a shell would
// for simple commands: blanks separate words, single and double quotes group,
// a backslash escapes the next character.
func SplitCommand(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
				i++
				cur.WriteByte(s[i])
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in the command %q", quote, s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, errors.New("the command to run (-c) is empty")
	}
	return words, nil
}

// StartCommand creates the process that will run argv (argv[0] is looked up
// in $PATH) with the given standard files, stopped before it execs: call
// Release once the probes are attached. Its pid is final: exec keeps it.
func StartCommand(argv []string, stdin io.Reader, stdout, stderr io.Writer) (*Command, error) {
	if len(argv) == 0 {
		return nil, errors.New("the command to run (-c) is empty")
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("cannot run the command %s: %v", argv[0], errors.Unwrap(err))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = append([]string{"gotrace-exec", path}, argv...)
	cmd.Env = append(os.Environ(), execChildEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.ExtraFiles = []*os.File{r}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot start the command %s: %v", argv[0], err)
	}
	c := &Command{cmd: cmd, start: w, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// Pid is the command's process id.
func (c *Command) Pid() int { return c.cmd.Process.Pid }

// Done is closed when the command has exited.
func (c *Command) Done() <-chan struct{} { return c.done }

// Release lets the command run.
func (c *Command) Release() {
	c.once.Do(func() {
		c.start.Write([]byte{1})
		c.start.Close()
	})
}

// Stop ends the command if it still runs (SIGTERM, then SIGKILL after a
// second) and waits for it. A command never released exits without running.
func (c *Command) Stop() {
	c.once.Do(func() { c.start.Close() })
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// ExitCode is the command's exit status once it is Done (-1 when it was
// killed by a signal).
func (c *Command) ExitCode() int {
	if c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// WatchProcess returns a channel closed when process pid exits (for -p: the
// run ends with the process). stop releases the watcher.
func WatchProcess(pid int) (exited <-chan struct{}, stop func(), err error) {
	ch := make(chan struct{})
	quitR, quitW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			quitR.Close()
			quitW.Close()
			return nil, nil, fmt.Errorf("process %d does not exist", pid)
		}
		fd = -1 // no pidfd: poll for the process instead
	}
	go func() {
		defer quitR.Close()
		if fd >= 0 {
			defer unix.Close(fd)
		}
		for {
			timeout := -1
			fds := []unix.PollFd{{Fd: int32(quitR.Fd()), Events: unix.POLLIN}}
			if fd >= 0 {
				fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
			} else {
				timeout = 100
			}
			n, err := unix.Poll(fds, timeout)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if fds[0].Revents != 0 {
				return
			}
			if (fd >= 0 && n > 0 && fds[1].Revents != 0) || (fd < 0 && unix.Kill(pid, 0) == unix.ESRCH) {
				close(ch)
				return
			}
		}
	}()
	var once sync.Once
	return ch, func() { once.Do(func() { quitW.Close() }) }, nil
}
