package webrtc

import (
	"crypto/tls"
	"net"
	"sync"

	"github.com/flashvox/flashvox/internal/connlimit"
)

// turnListener is a TURN/TCP or TURN/TLS listener: connlimit bounds its
// connections (MaxSessions in all, MaxSessionsPerIP from one address,
// refused at accept before a byte is read) and closes one idle for
// TURNIdleTimeout (a TLS handshake included: its reads go through the
// same deadline); it keeps the set of open connections, because pion/turn
// closes only the listener and each accepted connection's goroutine would
// otherwise run until its client left.
type turnListener struct {
	outer net.Listener // what pion/turn accepts from: tls.NewListener over l with TLS
	stats *connlimit.Stats

	mu     sync.Mutex
	inner  net.Listener // connlimit's
	conns  map[net.Conn]struct{}
	closed bool
}

// listenTURNStream listens on addr over TCP, with TLS when cfg is set.
func listenTURNStream(addr string, cfg *tls.Config, o *Options) (*turnListener, error) {
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &turnListener{stats: &connlimit.Stats{}, conns: map[net.Conn]struct{}{}}
	l.inner = connlimit.Listen(raw, connlimit.Options{
		Max: o.MaxSessions, PerIP: o.MaxSessionsPerIP, IdleTimeout: o.TURNIdleTimeout, Stats: l.stats,
	})
	l.outer = (*trackingListener)(l)
	if cfg != nil {
		l.outer = tls.NewListener(l.outer, cfg)
	}
	return l, nil
}

// TURNConnStats are the TURN/TCP (tls false) or TURN/TLS listener's
// connection counts, nil when it is off.
func (s *Server) TURNConnStats(tls bool) *connlimit.Stats {
	if l := s.turnStream(tls); l != nil {
		return l.stats
	}
	return nil
}

// Addr is the listening address.
func (l *turnListener) Addr() net.Addr { return l.inner.Addr() }

// closeAll closes the listener and every connection still open.
func (l *turnListener) closeAll() {
	l.mu.Lock()
	l.closed = true
	open := make([]net.Conn, 0, len(l.conns))
	for c := range l.conns {
		open = append(open, c)
	}
	l.mu.Unlock()
	_ = l.inner.Close()
	for _, c := range open {
		_ = c.Close()
	}
}

// trackingListener is turnListener as the net.Listener pion/turn (or the
// TLS layer) accepts from.
type trackingListener turnListener

func (t *trackingListener) Accept() (net.Conn, error) {
	l := (*turnListener)(t)
	for {
		c, err := l.inner.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			continue // the next Accept fails: the listener is closed
		}
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		return &trackedConn{Conn: c, l: l}, nil
	}
}

func (t *trackingListener) Close() error   { return (*turnListener)(t).inner.Close() }
func (t *trackingListener) Addr() net.Addr { return (*turnListener)(t).inner.Addr() }

// trackedConn leaves the set when closed, and closes itself when a read
// fails: pion/turn leaves a connection whose TLS handshake failed (the
// idle deadline, say) open, and nothing else would read it again.
type trackedConn struct {
	net.Conn
	l *turnListener
}

func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		_ = c.Close()
	}
	return n, err
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c.Conn)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
