package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/rtmp/chunk"
	"github.com/flashvox/flashvox/rtmp/handshake"
)

// DefaultAddr is where ListenAndServe listens when Addr is empty.
const DefaultAddr = "127.0.0.1:1935"

// Handler serves one connection after its handshake. The Conn is closed when
// ServeRTMP returns; ctx is cancelled when the server shuts down.
type Handler interface {
	ServeRTMP(ctx context.Context, c *Conn)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Conn)

// ServeRTMP calls f(ctx, c).
func (f HandlerFunc) ServeRTMP(ctx context.Context, c *Conn) { f(ctx, c) }

// ServerStats is a snapshot of the server's counters, for metrics.
type ServerStats struct {
	Accepted          uint64 // TCP connections accepted
	Active            int64  // connections open now (handshaking or served)
	Rejected          uint64 // closed at accept by MaxConns/MaxConnsPerIP
	HandshakeFailures uint64
	Served            uint64 // handshakes completed, handed to the Handler
	Limited           uint64 // served conns closed for going over a limit (budget, chunk streams, message size)
	// Totals over open and closed conns.
	BytesIn, BytesOut, MessagesIn, MessagesOut, Dropped uint64
	// ByTransport splits served conns and their bytes by transport name
	// (Transports lists them).
	ByTransport map[string]TransportStats
}

// TransportStats counts the served conns of one transport.
type TransportStats struct {
	Served            uint64 // handshakes completed
	Active            int64  // served and open now
	BytesIn, BytesOut uint64 // over open and closed conns
}

func (st *ServerStats) add(c *Conn) {
	st.BytesIn += c.BytesIn()
	st.BytesOut += c.BytesOut()
	st.MessagesIn += c.MessagesIn()
	st.MessagesOut += c.MessagesOut()
	st.Dropped += c.Dropped()
}

// Server accepts RTMP connections, runs the handshake and hands each Conn to
// Handler. It owns the listener and its conns; Serve returns after all of
// them have stopped.
type Server struct {
	Addr          string
	Config        ConnConfig
	MaxConns      int // 0: unlimited
	MaxConnsPerIP int // 0: unlimited
	Handler       Handler
	Logger        *slog.Logger
	// LogInterval spaces the log lines of what a peer can repeat at will
	// (refused connections, failed handshakes, limits hit, accept errors):
	// one line per cause per interval, with the count (0 =
	// ratelog.DefaultInterval). The metrics count every one.
	LogInterval time.Duration

	mu          sync.Mutex // guards active, perIP, conns, closed, byTransport
	active      int
	perIP       map[string]int
	conns       map[*Conn]string           // open conn -> transport name
	closed      ServerStats                // traffic totals of closed conns
	byTransport map[string]*TransportStats // served and closed-conn totals per transport

	refusalsOnce sync.Once
	refusals     *ratelog.Limiter

	nextID            atomic.Uint64
	accepted          atomic.Uint64
	rejected          atomic.Uint64
	handshakeFailures atomic.Uint64
	served            atomic.Uint64
	limited           atomic.Uint64
	activeGauge       atomic.Int64
}

// refusalLog is the server's rate-limited log of refusals.
func (s *Server) refusalLog() *ratelog.Limiter {
	s.refusalsOnce.Do(func() {
		s.refusals = ratelog.New(ratelog.Options{Logger: s.Logger, Interval: s.LogInterval})
	})
	return s.refusals
}

// Stats returns the current counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	st := s.closed
	st.ByTransport = make(map[string]TransportStats, len(s.byTransport))
	for name, ts := range s.byTransport {
		st.ByTransport[name] = *ts
	}
	for c, transport := range s.conns {
		st.add(c)
		ts := st.ByTransport[transport]
		ts.Active++
		ts.BytesIn += c.BytesIn()
		ts.BytesOut += c.BytesOut()
		st.ByTransport[transport] = ts
	}
	s.mu.Unlock()
	st.Accepted = s.accepted.Load()
	st.Active = s.activeGauge.Load()
	st.Rejected = s.rejected.Load()
	st.HandshakeFailures = s.handshakeFailures.Load()
	st.Served = s.served.Load()
	st.Limited = s.limited.Load()
	return st
}

// ListenAndServe listens on s.Addr (DefaultAddr if empty) and serves until
// ctx is cancelled.
func (s *Server) ListenAndServe(ctx context.Context) error {
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve accepts on ln until ctx is cancelled, then closes ln and every conn
// and waits for their goroutines. It returns nil after a cancel.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Handler == nil {
		return errors.New("rtmp: Server.Handler is nil")
	}
	cfg := s.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		<-ctx.Done()
		ln.Close()
	})
	log.Debug("serving", "addr", ln.Addr().String())

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !errors.Is(err, net.ErrClosed) {
				// EMFILE and friends: back off instead of stopping the server.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.refusalLog().Log(slog.LevelWarn, "accept", "accept failed", "err", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				continue
			}
			return err
		}
		backoff = 0
		s.accepted.Add(1)
		wg.Go(func() { s.serveConn(ctx, nc, cfg, log) })
	}
}

// ServeConn serves one connection accepted elsewhere (an RTMPT tunnel
// session, a TLS conn) exactly as Serve serves its own: the same limits,
// handshake, Conn and Handler. It returns when the connection is closed or
// ctx is cancelled; it closes nc. The caller owns the goroutine and waits
// for it on shutdown.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) error {
	if s.Handler == nil {
		nc.Close()
		return errors.New("rtmp: Server.Handler is nil")
	}
	cfg := s.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		nc.Close()
		return err
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.accepted.Add(1)
	s.serveConn(ctx, nc, cfg, log)
	return nil
}

func (s *Server) serveConn(ctx context.Context, nc net.Conn, cfg ConnConfig, parent *slog.Logger) {
	s.activeGauge.Add(1)
	defer s.activeGauge.Add(-1)
	ip := hostOf(nc.RemoteAddr())
	id := s.nextID.Add(1)
	transport := transportOf(nc)
	log := parent.With("conn", id, "remote", nc.RemoteAddr().String(), "transport", transport)
	if cause, err := s.admit(ip); err != nil {
		s.rejected.Add(1)
		s.refusalLog().Log(slog.LevelWarn, cause, "connection refused", "err", err, "remote", nc.RemoteAddr().String())
		nc.Close()
		return
	}
	defer s.release(ip)

	nc.SetDeadline(time.Now().Add(cfg.HandshakeTimeout))
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	rw, info, err := handshake.Server(nc)
	stop()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		s.handshakeFailures.Add(1)
		if ctx.Err() != nil {
			log.Debug("handshake cut by shutdown", "err", err)
		} else {
			s.refusalLog().Log(slog.LevelInfo, "handshake", "handshake failed", "err", err, "remote", nc.RemoteAddr().String(), "handshake_timeout", cfg.HandshakeTimeout)
		}
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	s.served.Add(1)
	if info.Encrypted {
		transport = encryptedName(transport)
		log = parent.With("conn", id, "remote", nc.RemoteAddr().String(), "transport", transport)
	}
	log.Debug("handshake", "complex", info.Complex, "encrypted", info.Encrypted, "client_version", fmt.Sprintf("%d.%d.%d.%d", info.ClientVersion[0], info.ClientVersion[1], info.ClientVersion[2], info.ClientVersion[3]))

	c := NewConn(ctx, nc, rw, cfg, log)
	s.track(c, transport, true)
	s.Handler.ServeRTMP(c.Context(), c)
	c.Close()
	s.track(c, transport, false)
	if cause := LimitCause(c.Err()); cause != "" {
		s.limited.Add(1)
		s.refusalLog().Log(slog.LevelWarn, cause, "closed: over a limit", "err", c.Err(), "remote", nc.RemoteAddr().String())
		return
	}
	if !c.admitted.Load() {
		// Never connected: its refusal, if any, was logged (rate-limited)
		// by the session; one line per such conn would let a connect flood
		// flood the log.
		log.Debug("closed before connect", "err", c.Err(), "bytes_in", c.BytesIn())
		return
	}
	log.Info("closed", "err", c.Err(), "bytes_in", c.BytesIn(), "bytes_out", c.BytesOut())
}

// LimitCause names the connection limit err is (max_buffered,
// max_chunk_streams, max_message_size), "" for any other error. The
// server logs these rate-limited, so others need not.
func LimitCause(err error) string {
	switch {
	case errors.Is(err, chunk.ErrOverBudget):
		return "max_buffered"
	case errors.Is(err, chunk.ErrTooManyChunkStreams):
		return "max_chunk_streams"
	case errors.Is(err, chunk.ErrMessageTooLarge):
		return "max_message_size"
	}
	return ""
}

// RoutineEnd reports whether err, the reason c ended, is routine: Close,
// or a limit the Server logs itself (rate-limited), so that the layer
// above need not log it again (session.RoutineEnder).
func (c *Conn) RoutineEnd(err error) bool {
	return errors.Is(err, ErrClosed) || LimitCause(err) != ""
}

// admit counts a conn from ip in, or names the limit it is over.
func (s *Server) admit(ip string) (cause string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.MaxConns > 0 && s.active >= s.MaxConns {
		return "max_conns", fmt.Errorf("%w: max_conns %d", ErrLimit, s.MaxConns)
	}
	if s.MaxConnsPerIP > 0 && s.perIP[ip] >= s.MaxConnsPerIP {
		return "max_conns_per_ip", fmt.Errorf("%w: max_conns_per_ip %d", ErrLimit, s.MaxConnsPerIP)
	}
	if s.perIP == nil {
		s.perIP = make(map[string]int)
	}
	s.active++
	s.perIP[ip]++
	return "", nil
}

func (s *Server) track(c *Conn, transport string, open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byTransport == nil {
		s.byTransport = make(map[string]*TransportStats)
	}
	ts := s.byTransport[transport]
	if ts == nil {
		ts = &TransportStats{}
		s.byTransport[transport] = ts
	}
	if open {
		if s.conns == nil {
			s.conns = make(map[*Conn]string)
		}
		s.conns[c] = transport
		ts.Served++
		return
	}
	delete(s.conns, c)
	s.closed.add(c)
	ts.BytesIn += c.BytesIn()
	ts.BytesOut += c.BytesOut()
}

func (s *Server) release(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.perIP[ip]--; s.perIP[ip] <= 0 {
		delete(s.perIP, ip)
	}
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
