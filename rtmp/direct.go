package rtmp

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
)

// outBuffer collects encoded chunks between writes. It starts empty, so an
// idle connection holds no write buffer, and shrinks again after a burst.
type outBuffer struct {
	b []byte
}

func (o *outBuffer) Write(p []byte) (int, error) {
	o.b = append(o.b, p...)
	return len(p), nil
}

// consume drops the first n bytes written.
func (o *outBuffer) consume(n int) {
	if n >= len(o.b) {
		if cap(o.b) > 64<<10 {
			o.b = nil
		} else {
			o.b = o.b[:0]
		}
		return
	}
	o.b = o.b[:copy(o.b, o.b[n:])]
}

// rawWriter writes to a socket without ever parking the caller.
type rawWriter interface {
	// tryWrite writes what the socket buffer takes now; n < len(p) with a
	// nil error means "the rest later".
	tryWrite(p []byte) (n int, err error)
}

type tcpRawWriter struct {
	rc syscall.RawConn
}

// newRawWriter returns a non-blocking writer for plain TCP sockets, or nil
// (TLS, RTMPE and tunnels always go through the writer goroutine).
func newRawWriter(nc net.Conn) rawWriter {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return &tcpRawWriter{rc: rc}
}

func (w *tcpRawWriter) tryWrite(p []byte) (int, error) {
	var n int
	var werr error
	// Returning true from the callback means "done" even on EAGAIN, so the
	// runtime never waits for the socket to become writable here.
	err := w.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			k, err := syscall.Write(int(fd), p[n:])
			if err == syscall.EINTR {
				continue
			}
			if err == syscall.EAGAIN {
				break
			}
			if err != nil {
				werr = err
				break
			}
			n += k
		}
		return true
	})
	if err != nil {
		return n, err
	}
	return n, werr
}

// encode writes m's chunks into obuf and applies what m changes on our side
// (our chunk size, the window we announced). Called with wmu held.
func (c *Conn) encode(m *Message) error {
	if err := c.cw.WriteMessage(m); err != nil {
		return err
	}
	c.msgsOut.Add(1)
	switch m.Type {
	case TypeSetChunkSize:
		if len(m.Payload) >= 4 {
			return c.cw.SetChunkSize(binary.BigEndian.Uint32(m.Payload))
		}
	case TypeWindowAckSize:
		if len(m.Payload) >= 4 {
			c.sentWindow.Store(binary.BigEndian.Uint32(m.Payload))
		}
	}
	return nil
}

// writeDirect encodes m and writes it on the caller's goroutine without
// blocking; wmu is held and is released here. A remainder the socket did not
// take is handed to the writer goroutine.
func (c *Conn) writeDirect(m *Message) error {
	if err := c.encode(m); err != nil {
		c.wmu.Unlock()
		c.fail(err)
		return err
	}
	n, err := c.raw.tryWrite(c.obuf.b)
	c.out.n.Add(uint64(max(n, 0)))
	c.obuf.consume(max(n, 0))
	left := len(c.obuf.b)
	c.wmu.Unlock()
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		c.fail(err)
		return ErrClosed
	}
	if left > 0 {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return nil
}
