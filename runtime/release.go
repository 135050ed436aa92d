package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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
// started once the probes are attached, does the closing: gotrace sends it
// the links and the perf events (SCM_RIGHTS over a socket pair), watches
// each tracepoint's program array (PERF_EVENT_IOC_QUERY_BPF) until its
// programs are out of it, prints the maps and exits. The releaser closes
// the links at once, keeps the perf events until gotrace has exited (so
// that gotrace's exit never closes the last descriptor of one), and then
// exits itself, leaving the waits to its own exit.

// releaserEnv marks a process started as a releaser (see ServeReleaser).
const releaserEnv = "GOTRACE_RELEASER"

// Message kinds from gotrace to its releaser.
const (
	releaseLinks  = 'L' // close these now
	releaseEvents = 'P' // hold these until gotrace exits
)

// IsReleaser reports whether this process was started as a releaser; its
// main should then call ServeReleaser and nothing else.
func IsReleaser() bool { return os.Getenv(releaserEnv) != "" }

// ServeReleaser is a releaser's whole life. Descriptor 3 is its end of the
// socket pair; the other end closes when gotrace exits.
func ServeReleaser() {
	// Ctrl-C is for gotrace (the releaser has a process group of its
	// own, so a terminal's signals miss it anyway).
	signal.Ignore(unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGPIPE)
	sock := 3
	var held []int
	var wg sync.WaitGroup
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4*maxFDsPerMessage))
	for {
		n, oobn, _, _, err := unix.Recvmsg(sock, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			break // gotrace exited
		}
		var fds []int
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if got, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		if buf[0] != releaseLinks {
			held = append(held, fds...)
			continue
		}
		for _, fd := range fds {
			wg.Add(1)
			go func() { // the waits overlap
				defer wg.Done()
				unix.Close(fd)
			}()
		}
	}
	wg.Wait()
	// Exiting closes the perf events.
	_ = held
}

// maxFDsPerMessage stays under the kernel's SCM_MAX_FD (253).
const maxFDsPerMessage = 250

// Releaser is the parent's side of a releaser process.
type Releaser struct {
	once  sync.Once
	sock  int // gotrace's end of the socket pair; -1 when not started
	pid   int
	err   error
	start func() error
}

// NewReleaser returns a Releaser that starts this executable as a releaser
// when Run first needs one. Only a binary whose main calls ServeReleaser
// when IsReleaser may use it.
func NewReleaser() *Releaser {
	r := &Releaser{sock: -1}
	r.start = r.spawn
	return r
}

// Start starts the releaser process, once; later calls return the first
// one's error.
func (r *Releaser) Start() error {
	r.once.Do(func() { r.err = r.start() })
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
	cmd.Env = []string{releaserEnv + "=1"}
	cmd.ExtraFiles = []*os.File{child} // descriptor 3; standard streams: /dev/null
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
		n := min(len(fds), maxFDsPerMessage)
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
