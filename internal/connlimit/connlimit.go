// Package connlimit limits the connections a listener accepts: at most a
// number open in total and from one address (an IPv4 address, an IPv6
// /64), and optionally a read deadline that closes a connection idle (or
// half-sent) for too long. It guards the HTTP listeners (net/http keeps its
// own timeouts) and the SIP/TCP and SIP/TLS listeners (sipgo sets no
// deadline on accepted connections). A connection over a limit is closed
// at accept, before a byte is read; open ones carry on.
package connlimit

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/throttle"
)

// Stats count what a Listener did; safe to read at any time.
type Stats struct {
	Open    atomic.Int64  // connections open now
	Refused atomic.Uint64 // connections closed at accept: over Max or PerIP
	Idle    atomic.Uint64 // reads that failed on the idle deadline
}

// Options configure a Listener. Zero values turn a limit off.
type Options struct {
	// Max is how many connections may be open at once; PerIP how many of
	// them one address may hold.
	Max, PerIP int
	// IdleTimeout is how long a read may wait for data: a connection that
	// sends nothing (or stops half-way through a message) for this long
	// is closed by the reader's error.
	IdleTimeout time.Duration
	Stats       *Stats // nil: counted privately
}

// Listen wraps ln with o's limits.
func Listen(ln net.Listener, o Options) net.Listener {
	if o.Stats == nil {
		o.Stats = &Stats{}
	}
	return &listener{Listener: ln, o: o, byIP: map[string]int{}}
}

type listener struct {
	net.Listener
	o    Options
	mu   sync.Mutex
	byIP map[string]int
}

// Accept returns the next connection within the limit; the others are
// closed here, without a byte read or written.
func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := throttle.Key(c.RemoteAddr().String())
		l.mu.Lock()
		if (l.o.Max > 0 && l.o.Stats.Open.Load() >= int64(l.o.Max)) || (l.o.PerIP > 0 && l.byIP[ip] >= l.o.PerIP) {
			l.mu.Unlock()
			l.o.Stats.Refused.Add(1)
			_ = c.Close()
			continue
		}
		l.byIP[ip]++
		l.o.Stats.Open.Add(1) // under l.mu, so that Max holds against concurrent accepts
		l.mu.Unlock()
		return &conn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *listener) release(ip string) {
	l.mu.Lock()
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
	l.mu.Unlock()
	l.o.Stats.Open.Add(-1)
}

type conn struct {
	net.Conn
	l    *listener
	ip   string
	once sync.Once
}

// Read sets the idle deadline before each read.
func (c *conn) Read(b []byte) (int, error) {
	if d := c.l.o.IdleTimeout; d > 0 {
		if err := c.Conn.SetReadDeadline(time.Now().Add(d)); err != nil {
			return 0, err
		}
	}
	n, err := c.Conn.Read(b)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.l.o.Stats.Idle.Add(1)
	}
	return n, err
}

// SetReadDeadline is ignored with an idle timeout: the deadline is the
// listener's (the SIP stack would otherwise clear it).
func (c *conn) SetReadDeadline(t time.Time) error {
	if c.l.o.IdleTimeout > 0 {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
