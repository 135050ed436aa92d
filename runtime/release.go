package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gotrace/gotrace/internal/releaser"
)

// The kernel makes detaching slow, not for gotrace but for whoever closes
// the last descriptor:
//
//   - unlinking a program from a tracepoint's perf event waits for an RCU
//     tasks-trace grace period (~30 ms here) before the close returns;
//   - closing a tracepoint's (or a timer's) perf event waits for two more,
//     one event at a time under the kernel's event mutex (~27 ms each).
//
// By then the program is already off the tracepoint: the kernel takes it
// out of the tracepoint's program array first, and only then waits for
// programs already running to finish. So a releaser, a child process
// started while the programs load, does the closing: gotrace sends it
// the links and the perf events (SCM_RIGHTS over a socket pair), watches
// each tracepoint's program array (PERF_EVENT_IOC_QUERY_BPF) until its
// programs are out of it, prints the maps and exits. The releaser closes
// the links at once, keeps the perf events until gotrace has exited (so
// that gotrace's exit never closes the last descriptor of one), and then
// exits itself, leaving the waits to its own exit.

// Releaser is gotrace's side of a releaser process (the child's side is
// internal/releaser).
type Releaser struct {
	once sync.Once
	sock int // gotrace's end of the socket pair; -1 when not started
	pid  int
	err  error
}

// NewReleaser returns a Releaser that starts this executable as a releaser
// when Run first needs one. The executable must be one that imports this
// package (internal/releaser serves from its init): gotrace, or a test.
func NewReleaser() *Releaser { return &Releaser{sock: -1} }

// Start starts the releaser process, once; later calls return the first
// one's error.
func (r *Releaser) Start() error {
	r.once.Do(func() { r.err = r.spawn() })
	return r.err
}

func (r *Releaser) spawn() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	child := os.NewFile(uintptr(fds[1]), "releaser")
	defer child.Close()
	cmd := exec.Command(exe)
	cmd.Env = []string{releaser.Env + "=1"}
	cmd.ExtraFiles = []*os.File{child} // releaser.FD; standard streams: /dev/null
	// A process group of its own: Ctrl-C in a terminal stops gotrace,
	// which then needs its releaser.
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		unix.Close(fds[0])
		return err
	}
	// Nobody waits for the releaser: it outlives gotrace and is reaped by
	// whoever adopts it. Its end of the pair closes with gotrace.
	r.sock, r.pid = fds[0], cmd.Process.Pid
	return nil
}

// Pid is the releaser process's id, 0 before it started.
func (r *Releaser) Pid() int { return r.pid }

// Close tells the releaser that gotrace is done, as gotrace's exit does:
// it finishes closing what it holds, and exits.
func (r *Releaser) Close() error {
	if r.sock < 0 {
		return nil
	}
	err := unix.Close(r.sock)
	r.sock = -1
	return err
}

// send hands fds to the releaser. The releaser holds references to them
// as soon as send returns (they are in flight), so the caller may close
// its own.
func (r *Releaser) send(kind byte, fds []int) error {
	if err := r.Start(); err != nil {
		return err
	}
	for len(fds) > 0 {
		n := min(len(fds), releaser.MaxFDsPerMessage)
		if err := unix.Sendmsg(r.sock, []byte{kind}, unix.UnixRights(fds[:n]...), nil, 0); err != nil {
			return fmt.Errorf("handing descriptors to the releaser: %w", err)
		}
		fds = fds[n:]
	}
	return nil
}

// progsOn returns the ids of the programs in the program array of the
// trace event behind the perf event fd.
func progsOn(fd int) ([]uint32, error) {
	buf := make([]uint32, 2+64)
	for {
		buf[0] = uint32(len(buf) - 2)
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.PERF_EVENT_IOC_QUERY_BPF, uintptr(unsafe.Pointer(&buf[0])))
		switch {
		case errno == unix.ENOSPC:
			buf = make([]uint32, 2+2*(len(buf)-2))
			continue
		case errno != 0:
			return nil, errno
		}
		return buf[2 : 2+buf[1]], nil
	}
}

// waitUnlinked waits until none of the programs ids is in the program array
// of the trace events behind fds: from then on the kernel starts none of
// them. It gives up after a while (the releaser still detaches them).
func waitUnlinked(fds []int, ids map[uint32]bool) error {
	deadline := time.Now().Add(2 * time.Second)
	for _, fd := range fds {
		for {
			on, err := progsOn(fd)
			if err != nil {
				return err
			}
			still := false
			for _, id := range on {
				still = still || ids[id]
			}
			if !still {
				break
			}
			if time.Now().After(deadline) {
				return errors.New("programs still attached after 2 s")
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	return nil
}
