package rtmp

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// fdReader reads a plain TCP socket through syscall.RawConn.Read, calling
// read(2) itself. net.Conn.Read enters the scheduler's syscall state for
// every read, and that wakes the runtime's sysmon thread from its idle sleep
// each time the process had gone idle: a publisher's connection reads once
// per frame after an idle gap, so sysmon ran every 20 µs through every
// fan-out burst (about a tenth of flashvox's CPU in bench/relay). The
// socket is non-blocking, so the raw call returns at once; on EAGAIN the
// callback returns false and RawConn parks the goroutine in the poller,
// honouring the read deadline like net.Conn.Read. RawConn holds the
// descriptor's lock across the callback, so Close cannot free it meanwhile.
type fdReader struct {
	rc   syscall.RawConn
	fn   func(fd uintptr) bool // r.read, bound once: no allocation per Read
	p    []byte
	n    int
	rerr error
}

// newFDReader returns a reader for a plain TCP conn, or nil.
func newFDReader(nc net.Conn) *fdReader {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &fdReader{rc: rc}
	r.fn = r.read
	return r
}

// Read is io.Reader: io.EOF at the end of the stream; a timeout error
// (net.Error with Timeout true) when the read deadline passes.
func (r *fdReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.rerr = p, 0, nil
	err := r.rc.Read(r.fn)
	n, rerr := r.n, r.rerr
	r.p = nil
	if err != nil {
		return n, err
	}
	return n, rerr
}

func (r *fdReader) read(fd uintptr) bool {
	for {
		k, _, errno := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch errno {
		case 0:
			if k == 0 {
				r.rerr = io.EOF
			}
			r.n = int(k)
			return true
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false // RawConn waits for the socket to become readable
		default:
			r.rerr = os.NewSyscallError("read", errno)
			return true
		}
	}
}
