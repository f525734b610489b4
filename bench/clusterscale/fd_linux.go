package main

import (
	"fmt"
	"io"
	"net"
	"syscall"
	"unsafe"
)

// takeFD takes nc's socket out of Go's netpoller: it keeps a duplicate
// descriptor (close-on-exec) and the caller closes nc, which removes the
// original from the runtime's epoll set. The socket stays non-blocking
// (the flag belongs to the open file, which both descriptors share).
func takeFD(nc net.Conn) (int, error) {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("take socket: %T has no descriptor", nc)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("take socket: %w", err)
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(f uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, f, syscall.F_DUPFD_CLOEXEC, 0)
		if e != 0 {
			derr = e
			return
		}
		fd = int(r)
	}); err != nil {
		return -1, fmt.Errorf("take socket: %w", err)
	}
	if derr != nil {
		return -1, fmt.Errorf("take socket: dup: %w", derr)
	}
	return fd, nil
}

// recvNB reads what the socket holds without waiting: 0 and no error when
// it holds nothing, io.EOF when the server closed. A raw system call: it
// cannot block, so the scheduler need not know.
func recvNB(fd int, b []byte) (int, error) {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), syscall.MSG_DONTWAIT, 0, 0)
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return 0, nil
		case e != 0:
			return 0, fmt.Errorf("recv: %w", e)
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}

// sendNB writes what the socket takes now (the control messages it
// carries are rare and small).
func sendNB(fd int, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), syscall.MSG_DONTWAIT|syscall.MSG_NOSIGNAL, 0, 0)
	if e == syscall.EAGAIN || e == syscall.EINTR {
		return 0, nil
	}
	if e != 0 {
		return 0, fmt.Errorf("send: %w", e)
	}
	return int(n), nil
}

func closeFD(fd int) { _ = syscall.Close(fd) }
