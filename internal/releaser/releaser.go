// Package releaser is the child's side of gotrace's releaser process: a
// process that closes, after gotrace is gone, the links and perf events
// whose closing the kernel makes wait (see runtime/release.go for why, and
// for gotrace's side).
//
// A releaser is the gotrace binary started again with Env set. This
// package serves it from its init function and exits there, before the
// rest of gotrace initialises: it depends on nothing but os, os/signal and
// syscall, so it runs early, and the releaser is ready to take descriptors
// a few milliseconds after it was started.
package releaser

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Env marks a process started as a releaser.
const Env = "GOTRACE_RELEASER"

// FD is the releaser's end of the socket pair gotrace sends descriptors
// on; the other end closes when gotrace exits.
const FD = 3

// Message kinds (the one byte of each message).
const (
	CloseNow = 'L' // close these descriptors now (links)
	Hold     = 'P' // keep these until gotrace has exited (perf events)
)

// MaxFDsPerMessage stays under the kernel's SCM_MAX_FD (253).
const MaxFDsPerMessage = 250

func init() {
	if os.Getenv(Env) == "" {
		return
	}
	// Only a process gotrace started has its socket at FD; with the
	// variable set by hand, gotrace (or a test binary) runs as usual.
	if t, err := syscall.GetsockoptInt(FD, syscall.SOL_SOCKET, syscall.SO_TYPE); err != nil || t != syscall.SOCK_SEQPACKET {
		return
	}
	serve()
	os.Exit(0)
}

// serve receives descriptors until gotrace exits. Links are closed at
// once, up to 64 at a time (the kernel's waits overlap); perf
// events are held until then, so that gotrace's exit never closes the
// last descriptor of one. Exiting closes them.
func serve() {
	// Ctrl-C is for gotrace (the releaser has a process group of its
	// own, so a terminal's signals miss it anyway).
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	var held []int
	var wg sync.WaitGroup
	slots := make(chan struct{}, 64) // closing threads at a time
	buf := make([]byte, 1)
	oob := make([]byte, syscall.CmsgSpace(4*MaxFDsPerMessage))
	for {
		n, oobn, _, _, err := syscall.Recvmsg(FD, buf, oob, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n == 0 {
			break // gotrace exited
		}
		var fds []int
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for i := range msgs {
				if got, err := syscall.ParseUnixRights(&msgs[i]); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		if buf[0] != CloseNow {
			held = append(held, fds...)
			continue
		}
		for _, fd := range fds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				syscall.Close(fd)
				<-slots
			}()
		}
	}
	wg.Wait()
	_ = held // closed by exiting
}
