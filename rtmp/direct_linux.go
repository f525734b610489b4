package rtmp

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"
)

// init sets w up for a plain TCP socket and reports whether it is one
// (TLS, RTMPE and tunnels always go through the writer goroutine).
func (w *fdWriter) init(nc net.Conn) bool {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	if err := rc.Control(func(fd uintptr) { w.fd = fd }); err != nil {
		return false
	}
	w.nc = nc
	return true
}

// sendFlags: never block, and report a reset peer as EPIPE instead of a
// SIGPIPE to the process.
const sendFlags = syscall.MSG_DONTWAIT | syscall.MSG_NOSIGNAL

// tryWrite writes what the socket buffer takes now; n < len(p) with a nil
// error means "the rest later". After close it returns net.ErrClosed.
func (w *fdWriter) tryWrite(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, net.ErrClosed
	}
	n := 0
	for n < len(p) {
		k, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, w.fd,
			uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n), sendFlags, 0, 0)
		switch errno {
		case 0:
			n += int(k)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return n, nil
		default:
			return n, fmt.Errorf("rtmp: direct write: %w", errno)
		}
	}
	return n, nil
}
