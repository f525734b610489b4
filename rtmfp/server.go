package rtmfp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/rtmfp/wire"
)

// Handler serves one RTMFP session. The session is closed when ServeRTMFP
// returns; ctx ends when the server shuts down.
type Handler interface {
	ServeRTMFP(ctx context.Context, c *Conn)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Conn)

// ServeRTMFP calls f(ctx, c).
func (f HandlerFunc) ServeRTMFP(ctx context.Context, c *Conn) { f(ctx, c) }

const (
	tickInterval  = 20 * time.Millisecond
	readTimeout   = 500 * time.Millisecond
	writeTimeout  = 250 * time.Millisecond
	maxRateIPs    = 65536
	malformedLogs = 10 * time.Second
)

// Server is the responder side: it owns the UDP socket, answers handshakes
// statelessly until a cookie comes back, and runs a Handler per session.
//
// Goroutines: Serve's goroutine reads every datagram and dispatches it (it
// alone uses the handshake crypto and the rate limiter); one timer
// goroutine ticks every session; one flusher goroutine sends the media
// Conns queued (flusher.go); one goroutine per session runs the Handler.
// Serve waits for all of them.
type Server struct {
	Config  Config
	Handler Handler

	stats   Stats
	initOne sync.Once
	id      *wire.Identity
	start   time.Time
	cookies *wire.CookieJar
	log     *slog.Logger
	fl      *flusher
	// refusals logs refused sessions: one line per cause a minute.
	refusals *ratelog.Limiter

	pc      *net.UDPConn
	writeDL atomic.Int64              // when pc's write deadline was last set (refreshWriteDeadline)
	ctx     context.Context           // Serve's; the Handlers get it
	block   func(netip.AddrPort) bool // a client endpoint's BlockPeers hook

	mu       sync.Mutex // guards the registry below
	sessions map[uint32]*session
	byAddr   map[netip.AddrPort]*session
	byPeerID map[[32]byte]*session // sessions that sent setPeerInfo, for introductions
	perIP    map[netip.Addr]int
	ready    chan struct{}
	// busy wakes the session timer when the first session opens: with no
	// session it sleeps, so an RTMP-only deployment pays nothing for the
	// 20 ms tick (it cost ~1 % of a core in bench/relay).
	busy chan struct{}

	// Owned by the reader goroutine.
	hs          *wire.PacketCrypto
	rate        map[netip.Addr]*[rateKinds]int
	rateSec     int64
	malformed   uint64
	malformedAt time.Time
	plain       []byte
	pkt         wire.Packet

	wg sync.WaitGroup
}

func (s *Server) init() {
	s.initOne.Do(func() {
		s.Config.Defaults()
		s.id = s.Config.Identity
		if s.id == nil {
			s.id = wire.NewRandomIdentity(true)
		}
		s.start = time.Now()
		s.cookies = wire.NewCookieJar(s.start)
		s.log = s.Config.Logger
		s.refusals = ratelog.New(ratelog.Options{Logger: s.log})
		s.hs = wire.NewDefaultCrypto()
		s.fl = newFlusher()
		s.sessions = map[uint32]*session{}
		s.byAddr = map[netip.AddrPort]*session{}
		s.byPeerID = map[[32]byte]*session{}
		s.perIP = map[netip.Addr]int{}
		s.rate = map[netip.Addr]*[rateKinds]int{}
		s.plain = make([]byte, wire.MaxDatagram)
		s.ready = make(chan struct{})
		s.busy = make(chan struct{}, 1)
	})
}

// Fingerprint is the SHA-256 of the server's certificate (its peer ID).
func (s *Server) Fingerprint() [32]byte {
	s.init()
	return s.id.Fingerprint
}

// Stats are the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// Addr is the bound address once Serve has started (nil before).
func (s *Server) Addr() net.Addr {
	s.init()
	<-s.ready
	return s.pc.LocalAddr()
}

// ListenAndServe listens on UDP addr (DefaultAddr when empty) and serves.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if addr == "" {
		addr = DefaultAddr
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return fmt.Errorf("rtmfp: %w", err)
	}
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return fmt.Errorf("rtmfp: %w", err)
	}
	return s.Serve(ctx, pc)
}

// Serve serves on pc until ctx ends, then closes every session and pc and
// returns ErrServerClosed after every goroutine it started has stopped.
func (s *Server) Serve(ctx context.Context, pc *net.UDPConn) error {
	ctx, stop, err := s.attach(ctx, pc)
	if err != nil {
		return err
	}
	defer func() {
		stop()
		pc.Close()
	}()
	buf := make([]byte, wire.MaxDatagram+1)
	var readDL time.Time
	for ctx.Err() == nil {
		// The deadline only lets the loop see ctx end: renewing it for
		// every datagram would cost a timer update each.
		if now := time.Now(); readDL.Sub(now) < readTimeout/2 {
			readDL = now.Add(readTimeout)
			_ = pc.SetReadDeadline(readDL)
		}
		n, addr, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("rtmfp: read: %w", err)
		}
		s.datagram(buf[:n], netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()), time.Now())
	}
	return ErrServerClosed
}

// attach starts serving on pc without reading it: Serve reads, or a
// client endpoint that accepts peers' sessions on its own socket feeds its
// datagrams from its reader goroutine. stop closes every session and waits
// for the goroutines attach started (pc stays open).
func (s *Server) attach(ctx context.Context, pc *net.UDPConn) (context.Context, func(), error) {
	s.init()
	if s.Handler == nil {
		return nil, nil, errors.New("rtmfp: Server.Handler is nil")
	}
	ctx, cancel := context.WithCancel(ctx)
	s.ctx = ctx
	s.pc = pc
	close(s.ready)
	s.wg.Add(2)
	go s.timer(ctx)
	go func() {
		defer s.wg.Done()
		s.fl.run(ctx)
	}()
	s.log.Info("listening", "addr", pc.LocalAddr().String(), "fingerprint", fmt.Sprintf("%x", s.id.Fingerprint))
	return ctx, func() {
		cancel()
		s.shutdown()
		s.wg.Wait()
	}, nil
}

// shutdown closes every session (one Close each) and fails their Conns.
func (s *Server) shutdown() {
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	now := time.Now()
	for _, ss := range all {
		ss.mu.Lock()
		ss.close(now)
		ss.abort(ErrServerClosed)
		ss.mu.Unlock()
		s.remove(ss)
	}
}

func (s *Server) timer(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	var all []*session
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			all = all[:0]
			s.mu.Lock()
			for _, ss := range s.sessions {
				all = append(all, ss)
			}
			s.mu.Unlock()
			if len(all) == 0 {
				t.Stop()
				select {
				case <-ctx.Done():
					return
				case <-s.busy: // a token left by an earlier open costs one tick
				}
				t.Reset(tickInterval)
				continue
			}
			for _, ss := range all {
				if ss.tick(now) {
					s.remove(ss)
				}
			}
			clear(all)
		}
	}
}

// remove forgets a session. Lock order: a session's mu is never held
// while taking the server's except in moved, so remove reads the address
// first and takes the two locks one after the other.
func (s *Server) remove(ss *session) {
	ss.mu.Lock()
	addr := ss.addr
	ss.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.rxID] != ss {
		return
	}
	delete(s.sessions, ss.rxID)
	if s.byAddr[addr] == ss {
		delete(s.byAddr, addr)
	}
	if s.byPeerID[ss.far] == ss {
		delete(s.byPeerID, ss.far)
	}
	if s.perIP[addr.Addr()]--; s.perIP[addr.Addr()] <= 0 {
		delete(s.perIP, addr.Addr())
	}
	s.stats.Sessions.Add(-1)
}

// moved re-keys a session by its new address (called with ss.mu held).
func (s *Server) moved(ss *session, old, addr netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byAddr[old] == ss {
		delete(s.byAddr, old)
	}
	s.byAddr[addr] = ss
}

func (s *Server) epoch() time.Time { return s.start }

func (s *Server) writeTo(b []byte, addr netip.AddrPort) {
	if s.block != nil && s.block(addr) {
		return
	}
	refreshWriteDeadline(s.pc, &s.writeDL)
	_, _ = s.pc.WriteToUDPAddrPort(b, addr)
}

// refreshWriteDeadline sets pc's write deadline to writeTimeout from now
// when a quarter of it has passed since it was last set (at is when, in
// Unix nanoseconds): every write still gets at least three quarters of it,
// and the timer update that SetWriteDeadline costs is paid a few times a
// second instead of once per datagram (it showed in bench/rtmfp's profile).
func refreshWriteDeadline(pc *net.UDPConn, at *atomic.Int64) {
	now := time.Now()
	if n := now.UnixNano(); n-at.Load() > int64(writeTimeout/4) {
		at.Store(n)
		_ = pc.SetWriteDeadline(now.Add(writeTimeout))
	}
}

// has reports whether ssid is one of our sessions.
func (s *Server) has(ssid uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[ssid] != nil
}

// datagram dispatches one datagram: session ID 0 is the handshake.
func (s *Server) datagram(d []byte, addr netip.AddrPort, now time.Time) {
	s.stats.BytesIn.Add(uint64(len(d)))
	if len(d) < wire.MinPacketSize || len(d) > wire.MaxDatagram {
		s.bad(now, addr, wire.ErrBufferTooShort)
		return
	}
	ssid := wire.ScrambledSessionID(d)
	if ssid == 0 {
		s.startup(d[4:], addr, now)
		return
	}
	s.mu.Lock()
	ss := s.sessions[ssid]
	s.mu.Unlock()
	if ss == nil {
		s.bad(now, addr, errUnknownSession)
		return
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	plain, err := ss.crypto.Open(s.plain, d[4:])
	if err == nil {
		err = s.pkt.Unmarshal(plain)
	}
	if err != nil {
		s.bad(now, addr, err)
		return
	}
	ss.onPacket(&s.pkt, addr, now)
}

// bad counts a dropped datagram and logs at most once per burst.
func (s *Server) bad(now time.Time, addr netip.AddrPort, err error) {
	s.stats.Malformed.Add(1)
	s.malformed++
	if now.Sub(s.malformedAt) > malformedLogs {
		s.log.Debug("dropped datagrams", "count", s.malformed, "last_from", addr.String(), "err", err)
		s.malformedAt, s.malformed = now, 0
	}
}

// allow takes one token of kind (rateHello, rateKeying, rateIntro) for ip
// this second.
func (s *Server) allow(now time.Time, ip netip.Addr, kind int) bool {
	if sec := now.Unix(); sec != s.rateSec {
		s.rateSec = sec
		clear(s.rate)
	}
	c := s.rate[ip]
	if c == nil {
		if len(s.rate) >= maxRateIPs {
			return false
		}
		c = new([rateKinds]int)
		s.rate[ip] = c
	}
	limit := s.Config.HandshakesPerSecond
	switch kind {
	case rateHello:
		limit *= 8
	case rateIntro:
		limit = s.Config.IntroductionsPerSecond
	}
	if c[kind] >= limit {
		return false
	}
	c[kind]++
	return true
}
