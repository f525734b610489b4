package httpserve

import (
	"net"
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/throttle"
)

// ConnStats count what a limited listener did; safe to read at any time.
type ConnStats struct {
	Open    atomic.Int64  // connections open now
	Refused atomic.Uint64 // connections closed at accept by a limit
}

// limitListener closes, right after accept, a connection beyond max open
// connections in total or perIP from one address (IPv6: a /64), so that a
// few addresses holding idle keep-alives cannot take every descriptor.
// Only the offender is refused: connections already open carry on.
type limitListener struct {
	net.Listener
	max, perIP int
	stats      *ConnStats

	mu   sync.Mutex
	byIP map[string]int
}

func newLimitListener(ln net.Listener, max, perIP int, stats *ConnStats) net.Listener {
	if max <= 0 && perIP <= 0 {
		return ln
	}
	if stats == nil {
		stats = &ConnStats{}
	}
	return &limitListener{Listener: ln, max: max, perIP: perIP, stats: stats, byIP: map[string]int{}}
}

// Accept returns the next connection within the limits; the others are
// closed here, without a byte read or written.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := throttle.Key(c.RemoteAddr().String())
		l.mu.Lock()
		if (l.max > 0 && l.stats.Open.Load() >= int64(l.max)) || (l.perIP > 0 && l.byIP[ip] >= l.perIP) {
			l.mu.Unlock()
			l.stats.Refused.Add(1)
			_ = c.Close()
			continue
		}
		l.byIP[ip]++
		l.stats.Open.Add(1)
		l.mu.Unlock()
		return &limitConn{Conn: c, l: l, ip: ip}, nil
	}
}

func (l *limitListener) release(ip string) {
	l.mu.Lock()
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
	l.stats.Open.Add(-1)
	l.mu.Unlock()
}

type limitConn struct {
	net.Conn
	l    *limitListener
	ip   string
	once sync.Once
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
