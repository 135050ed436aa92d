package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// prefaultHeap asks the kernel, in a system call, for the pages the Go
// heap is about to grow into. A run of gotrace allocates under a megabyte,
// nearly all of it fresh memory, and taking each page in a fault of its
// own is the largest single cost of its start-up on a VM where a fault
// costs ~16 µs (populated in bulk, a page costs about half).
//
// The heap grows upwards from its lowest free address, so the pages from a
// new span on are the next ones used. The part of the heap's address space
// that is mapped may end sooner than n bytes after it (the kernel then
// refuses the whole range): n is halved until it fits. Populating only
// makes zero pages present early; a kernel without MADV_POPULATE_WRITE
// (before 5.14) refuses it, and nothing changes.
func prefaultHeap(n uintptr) {
	probe := make([]byte, 32<<10) // a span of its own, at the heap's edge
	start := uintptr(unsafe.Pointer(&probe[0])) &^ uintptr(unix.Getpagesize()-1)
	for ; n >= 64<<10; n /= 2 {
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, n, unix.MADV_POPULATE_WRITE); errno != unix.EINVAL && errno != unix.ENOMEM {
			return
		}
	}
}
