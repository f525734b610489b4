package rtmp

import (
	"encoding/binary"
	"net"
	"sync"

	"github.com/flashvox/flashvox/rtmp/message"
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

// fdWriter writes to a plain TCP socket's descriptor without ever parking
// the caller. It calls sendto(2) itself instead of going through
// net.Conn or syscall.RawConn.Write: per write those take the runtime's fd
// lock, reset the poller's write state and enter/leave the scheduler's
// syscall state, and a publisher writing one frame to each of hundreds of
// subscribers pays that hundreds of times per frame. The profile of
// bench/relay showed that cost plus sysmon waking every 20 µs to retake the
// P of a goroutine that was always "in a syscall" (BENCHMARKS.md).
//
// A raw syscall is fine here because the socket is non-blocking (the Go
// runtime opens every socket with O_NONBLOCK) and the call returns at once,
// with EAGAIN when the socket buffer is full. The descriptor is only valid
// while the net.Conn is open: mu is held across every write and by close, so
// no write can reach a descriptor number the kernel has reused.
type fdWriter struct {
	mu     sync.Mutex
	fd     uintptr
	closed bool
	nc     net.Conn
}

// close closes the socket after any write in progress; later writes fail.
func (w *fdWriter) close() error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return w.nc.Close()
}

// closeSocket closes the connection's socket, through the fdWriter when
// there is one so that it never writes to a closed descriptor.
func (c *Conn) closeSocket() {
	if c.raw != nil {
		c.raw.close()
		return
	}
	c.nc.Close()
}

// encode writes m's chunks into obuf and applies what m changes on our side.
// Called with wmu held.
func (c *Conn) encode(m *message.Message) error {
	if err := c.cw.WriteMessage(m); err != nil {
		return err
	}
	return c.sent(m)
}

// sent applies what an encoded m changes on our side (our chunk size, the
// window we announced) and counts it. Called with wmu held.
func (c *Conn) sent(m *message.Message) error {
	c.msgsOut.Add(1)
	switch m.Type {
	case message.TypeSetChunkSize:
		if len(m.Payload) >= 4 {
			return c.cw.SetChunkSize(binary.BigEndian.Uint32(m.Payload))
		}
	case message.TypeWindowAckSize:
		if len(m.Payload) >= 4 {
			c.sentWindow.Store(binary.BigEndian.Uint32(m.Payload))
		}
	}
	return nil
}

// directStack is the largest payload a direct write encodes on its own
// stack (an audio frame is tens of bytes): that buffer is in the CPU cache,
// while obuf's memory is one more miss per subscriber. Larger messages
// (video, metadata) are encoded into obuf.
const directStack = 256

// writeDirect encodes m and writes it on the caller's goroutine without
// blocking; wmu is held and obuf is empty, and wmu is released here. A
// remainder the socket did not take is left in obuf for the writer
// goroutine.
func (c *Conn) writeDirect(m *message.Message) error {
	var stack [directStack + 64]byte // chunk headers included
	var b []byte
	var err error
	small := len(m.Payload) <= directStack
	if small {
		b, err = c.cw.AppendMessage(stack[:0], m)
	} else {
		err = c.cw.WriteMessage(m)
		b = c.obuf.b
	}
	if err == nil {
		err = c.sent(m)
	}
	if err != nil {
		c.wmu.Unlock()
		c.fail(err)
		return err
	}
	n, err := c.raw.tryWrite(b)
	c.out.n.Add(uint64(n))
	if small {
		if n < len(b) {
			c.obuf.b = append(c.obuf.b, b[n:]...)
		}
	} else {
		c.obuf.consume(n)
	}
	left := len(c.obuf.b)
	c.wmu.Unlock()
	if err != nil {
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
