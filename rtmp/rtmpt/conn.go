package rtmpt

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Conn is one tunnel session seen from the RTMP server: a net.Conn whose
// Read returns the bodies of the client's sends and whose Write queues
// bytes for the answers to its next requests. Both directions are bounded
// by maxBuffered: Write blocks (until its deadline) while the client has not
// fetched enough, and a send waits while the reader is behind.
type Conn struct {
	id          string
	transport   string
	local       net.Addr
	remote      net.Addr
	maxBuffered int

	mu         sync.Mutex // guards the fields below
	in, out    bytes.Buffer
	closed     bool          // Close (RTMP side) or end (HTTP side) ran
	httpClosed bool          // the client closed, expired or the tunnel stopped
	changed    chan struct{} // closed and replaced on every change above
	rd, wd     *deadline
}

func newConn(id, transport string, local, remote net.Addr, maxBuffered int) *Conn {
	return &Conn{
		id: id, transport: transport, local: local, remote: remote, maxBuffered: maxBuffered,
		changed: make(chan struct{}),
		rd:      newDeadline(),
		wd:      newDeadline(),
	}
}

// signal wakes every waiter; c.mu is held.
func (c *Conn) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Read returns bytes the client sent; io.EOF once the client closed the
// session and everything it sent was read.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		dl := c.rd.wait()
		if isClosed(dl) {
			return 0, os.ErrDeadlineExceeded
		}
		c.mu.Lock()
		if c.in.Len() > 0 {
			n, _ := c.in.Read(p)
			c.signal()
			c.mu.Unlock()
			return n, nil
		}
		if c.closed {
			httpClosed := c.httpClosed
			c.mu.Unlock()
			if httpClosed {
				return 0, io.EOF
			}
			return 0, net.ErrClosed
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-dl:
		}
	}
}

// Write queues p for the client, blocking while maxBuffered bytes wait.
func (c *Conn) Write(p []byte) (int, error) {
	written := 0
	for {
		dl := c.wd.wait()
		if isClosed(dl) {
			return written, os.ErrDeadlineExceeded
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return written, net.ErrClosed
		}
		if room := c.maxBuffered - c.out.Len(); room > 0 {
			n := min(room, len(p)-written)
			c.out.Write(p[written : written+n])
			written += n
			c.signal()
		}
		if written == len(p) {
			c.mu.Unlock()
			return written, nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-dl:
		}
	}
}

// Close ends the session from the RTMP side. Bytes already written stay
// available to the client's next request.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.signal()
	return nil
}

// end closes the session from the HTTP side: the reader gets io.EOF after
// the bytes already sent, a blocked writer net.ErrClosed.
func (c *Conn) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.httpClosed = true
	if !c.closed {
		c.closed = true
	}
	c.out.Reset()
	c.signal()
}

// deliver appends a send's body, waiting up to wait for the reader to make
// room. It reports ErrClosed or ErrBufferFull without appending anything.
func (c *Conn) deliver(b []byte, wait time.Duration) error {
	var timeout <-chan time.Time
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		if c.in.Len() == 0 || c.in.Len()+len(b) <= c.maxBuffered {
			c.in.Write(b)
			c.signal()
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-timeout:
			return ErrBufferFull
		}
	}
}

// take removes up to max pending bytes for an answer, waiting up to hold for
// the first one (hold 0: no wait). done reports that the RTMP side closed
// and nothing more will come.
func (c *Conn) take(max int, hold time.Duration) (b []byte, done bool) {
	var timeout <-chan time.Time
	for {
		c.mu.Lock()
		if c.out.Len() > 0 {
			b = make([]byte, min(max, c.out.Len()))
			c.out.Read(b)
			done = c.closed && c.out.Len() == 0
			c.signal()
			c.mu.Unlock()
			return b, done
		}
		if c.closed || hold <= 0 {
			done = c.closed
			c.mu.Unlock()
			return nil, done
		}
		ch := c.changed
		c.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(hold)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-timeout:
			hold = 0
		}
	}
}

// pending is the number of bytes waiting for the client.
func (c *Conn) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Len()
}

// LocalAddr is the HTTP listener's address.
func (c *Conn) LocalAddr() net.Addr { return c.local }

// RemoteAddr is the address of the client's first request (later requests
// may come from other ports).
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}

// SetReadDeadline bounds Read.
func (c *Conn) SetReadDeadline(t time.Time) error { c.rd.set(t); return nil }

// SetWriteDeadline bounds Write.
func (c *Conn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// Transport names the transport for logs and metrics: rtmpt or rtmpts.
func (c *Conn) Transport() string { return c.transport }

// ID is the session id.
func (c *Conn) ID() string { return c.id }
