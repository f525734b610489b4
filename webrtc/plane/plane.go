// Package plane is flashvox's own WebRTC media plane: every session's
// ICE, DTLS and SRTP on one UDP port, read in batches by one goroutine
// per socket, each packet decrypted and handed to its session's callback
// on that goroutine. pion's PeerConnection moves each packet through
// three goroutines (ICE reader, demultiplexer, SRTP reader) and reads
// one datagram per system call (BENCHMARKS.md, "Where a WebRTC packet's
// time goes"); here an SRTP packet costs one share of a recvmmsg, a
// decryption and the callback.
//
// The plane is an ICE-lite agent (RFC 8445 §2.5) when it answers (the
// browser is the full, controlling agent and nominates; the plane
// answers its checks, authenticated by the session's ICE password) and
// a controlling one when it dials (the load client of bench/). DTLS is
// pion/dtls over the same socket (RFC 5764: the passive side when
// answering), its certificate checked against the SDP fingerprint;
// SRTP is pion/srtp's contexts with replay protection. The first byte
// of a datagram says what it is (RFC 7983): STUN, DTLS or SRTP/SRTCP.
//
// Sessions are told apart by their peer's address, so a peer needs an
// address (a port) per session, as browsers have one per
// RTCPeerConnection and a TURN relay one per allocation; an address a
// live session holds is not given to another (Plane.bind). A dialling
// client makes a plane per session for the same reason
// (bench/internal/whipload).
//
// Who may send: a datagram from an address is taken only once a check
// from that address passed the session's MESSAGE-INTEGRITY; SRTP also
// has to pass its authentication tag and the replay window. A session
// ends when its consent lapses (no valid check for Config.Consent, RFC
// 7675), when ICE and DTLS are not done within Config.Handshake, on the
// peer's DTLS close_notify or fatal alert (encrypted: unauthenticated
// records end nothing), or on Close.
package plane

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Plane; zero values take the defaults named.
type Config struct {
	// Addr is the local address and port (0: the system picks one).
	Addr netip.AddrPort
	// Readers is how many sockets share the port (SO_REUSEPORT; the
	// kernel keeps each remote address on one), each read by its own
	// goroutine. Default GOMAXPROCS, at most 8.
	Readers int
	// Batch is how many datagrams a read takes at most (default 32; a
	// plane of one session, as a load client's, needs few).
	Batch int
	// ReadBuffer is each socket's receive buffer (default 4 MiB, capped
	// by the system's net.core.rmem_max).
	ReadBuffer int
	// Consent ends a session when no valid ICE check came for this long
	// (default 30 s, RFC 7675; browsers check every 5 s or so).
	Consent time.Duration
	// Handshake ends a session whose ICE and DTLS are not done this long
	// after it was made (default 10 s).
	Handshake time.Duration
	// ConsentInterval is how often a dialling session checks its peer
	// once connected (default 5 s).
	ConsentInterval time.Duration
	// ReportInterval is how often a session sends its RTCP report once
	// media flows (default 5 s, what browsers use for audio; the first
	// goes within a second of the media's start).
	ReportInterval time.Duration
	Log            *slog.Logger
}

func (c *Config) defaults() {
	if c.Readers <= 0 {
		c.Readers = min(runtime.GOMAXPROCS(0), 8)
	}
	if c.Batch <= 0 {
		c.Batch = 32
	}
	if c.ReadBuffer == 0 {
		c.ReadBuffer = 4 << 20
	}
	if c.Consent == 0 {
		c.Consent = 30 * time.Second
	}
	if c.Handshake == 0 {
		c.Handshake = 10 * time.Second
	}
	if c.ConsentInterval == 0 {
		c.ConsentInterval = 5 * time.Second
	}
	if c.ReportInterval == 0 {
		c.ReportInterval = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Stats count what the plane dropped and why, for the metrics exporter.
type Stats struct {
	// Packets from an address no session has validated (STUN aside).
	Unknown atomic.Uint64
	// STUN checks refused: no such ufrag, bad integrity or fingerprint.
	BadChecks atomic.Uint64
	// SRTP packets refused: bad tag, replayed, or before the keys.
	BadSRTP atomic.Uint64
	// DTLS datagrams refused (a record no peer sends, which pion would
	// answer with a fatal alert) and records pion refused after the
	// handshake; the session goes on.
	BadDTLS atomic.Uint64
	// Sessions ended by consent expiry or a handshake timeout.
	Expired atomic.Uint64

	// Media of ended sessions (added as each ends), and RTCP reports
	// sent by all: what the peers sent and the sessions took, of it
	// lost by sequence numbers; what the sessions sent, of it lost as
	// the peers' last reports said.
	Received, LostIn, Sent, LostOut atomic.Uint64
	ReportsSent                     atomic.Uint64
}

// Plane is the shared UDP port and its sessions.
type Plane struct {
	Stats Stats
	cfg   Config
	socks []*socket
	cert  tls.Certificate
	fp    []byte // SHA-256 of cert's DER: the answers' a=fingerprint

	mu      sync.RWMutex
	byUfrag map[string]*Session
	byAddr  map[netip.AddrPort]*Session
	byTx    map[[12]byte]txEntry // a dialling session's checks in flight
	closed  bool

	stop chan struct{}
	wg   sync.WaitGroup
}

// ErrClosed is returned by a closed Plane.
var ErrClosed = errors.New("plane: closed")

// Listen binds the port and starts the readers.
func Listen(cfg Config) (*Plane, error) {
	cfg.defaults()
	cert, fp, err := newCertificate()
	if err != nil {
		return nil, err
	}
	p := &Plane{cfg: cfg, cert: cert, fp: fp, byUfrag: map[string]*Session{}, byAddr: map[netip.AddrPort]*Session{},
		byTx: map[[12]byte]txEntry{}, stop: make(chan struct{})}
	addr := cfg.Addr
	for i := 0; i < cfg.Readers; i++ {
		s, err := listen(addr, cfg.Readers > 1, cfg.ReadBuffer)
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("plane: listen on %s: %w", addr, err)
		}
		p.socks = append(p.socks, s)
		addr = s.addr // the others on the port the first got
	}
	for _, s := range p.socks {
		p.wg.Add(1)
		go p.readLoop(s)
	}
	p.wg.Add(1)
	go p.watch()
	return p, nil
}

// Addr is the port's local address.
func (p *Plane) Addr() netip.AddrPort { return p.socks[0].addr }

// Fingerprint is the SDP a=fingerprint value of the plane's DTLS
// certificate ("sha-256 AB:CD:…").
func (p *Plane) Fingerprint() string { return "sha-256 " + hexColons(p.fp) }

// Sessions is the number of open sessions.
func (p *Plane) Sessions() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.byUfrag)
}

// Close ends every session and the readers, and waits for them.
func (p *Plane) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	all := p.sessionsLocked()
	p.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
	close(p.stop)
	for _, s := range p.socks {
		_ = s.conn.Close()
	}
	p.wg.Wait()
}

// readLoop reads s until it is closed, handing each datagram on.
func (p *Plane) readLoop(s *socket) {
	defer p.wg.Done()
	r := newBatchReader(s, p.cfg.Batch)
	var (
		in      inbound
		lastErr time.Time
	)
	for {
		n, err := r.read()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// A transient error (ENOMEM, an ICMP error queued on the
			// socket): the port stays served. Logged at most once a
			// second, so an error that repeats does not flood the log.
			if now := time.Now(); now.Sub(lastErr) >= time.Second {
				p.cfg.Log.Warn("webrtc plane: read", "err", err)
				lastErr = now
			}
			continue
		}
		for i := 0; i < n; i++ {
			b, from := r.packet(i)
			p.dispatch(s, &in, b, from)
		}
	}
}

// dispatch routes one datagram by its first byte (RFC 7983 §7).
func (p *Plane) dispatch(s *socket, in *inbound, b []byte, from netip.AddrPort) {
	if len(b) == 0 {
		return
	}
	switch c := b[0]; {
	case c < 4:
		p.stunPacket(s, b, from)
	case c >= 20 && c <= 63:
		if sess := p.session(from); sess != nil {
			sess.dtlsPacket(b)
		} else {
			p.Stats.Unknown.Add(1)
		}
	case c >= 128 && c <= 191:
		if sess := p.session(from); sess != nil {
			sess.mediaPacket(in, b)
		} else {
			p.Stats.Unknown.Add(1)
		}
	default:
		p.Stats.Unknown.Add(1)
	}
}

// session is the session an address was validated for, or nil.
func (p *Plane) session(a netip.AddrPort) *Session {
	p.mu.RLock()
	s := p.byAddr[a]
	p.mu.RUnlock()
	return s
}

// watch ends sessions whose handshake or consent ran out and sends the
// dialling sessions' consent checks, once a second.
func (p *Plane) watch() {
	defer p.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.RLock()
			all := p.sessionsLocked()
			p.mu.RUnlock()
			for _, s := range all {
				s.tick(now)
			}
		}
	}
}

// sessionsLocked is every session, for work done outside p.mu (the
// caller holds it).
func (p *Plane) sessionsLocked() []*Session {
	all := make([]*Session, 0, len(p.byUfrag))
	for _, s := range p.byUfrag {
		all = append(all, s)
	}
	return all
}

// register adds s under its ufrag; it fails when the plane is closed.
func (p *Plane) register(s *Session) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if _, dup := p.byUfrag[s.local.Ufrag]; dup {
		return errors.New("plane: ufrag in use") // 64 random bits: never
	}
	p.byUfrag[s.local.Ufrag] = s
	return nil
}

// goRegistered runs f on a goroutine of the plane's (Close waits for
// it) while s is registered; false when s or the plane was closed (the
// WaitGroup is not added to once Close may be waiting on it).
func (p *Plane) goRegistered(s *Session, f func()) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.byUfrag[s.local.Ufrag] != s {
		return false
	}
	p.wg.Add(1)
	go f()
	return true
}

// unregister removes every entry of s (bound: its addresses).
func (p *Plane) unregister(s *Session, bound []netip.AddrPort) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byUfrag[s.local.Ufrag] == s {
		delete(p.byUfrag, s.local.Ufrag)
	}
	for _, a := range bound {
		if p.byAddr[a] == s {
			delete(p.byAddr, a)
		}
	}
	for tx, e := range p.byTx {
		if e.s == s {
			delete(p.byTx, tx)
		}
	}
}

// bind makes a the address s takes packets from: a valid check came
// from it. An address another session holds moves only when that one
// has had no valid check for half of Config.Consent (its peer left it:
// a NAT gave the port to someone else). Otherwise anyone with a session
// of their own could take a live session's address by signing a check
// with their own password from it (spoofed, or from behind the same
// NAT mapping), and the victim's packets would go to the wrong session,
// refused there. False when s may not have a.
func (p *Plane) bind(s *Session, a netip.AddrPort) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byUfrag[s.local.Ufrag] != s {
		return false // closed meanwhile
	}
	if o := p.byAddr[a]; o != nil && o != s && time.Now().UnixNano()-o.lastCheck.Load() < int64(p.cfg.Consent/2) {
		return false
	}
	p.byAddr[a] = s
	return true
}

// unbind drops a when it is s's.
func (p *Plane) unbind(s *Session, a netip.AddrPort) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byAddr[a] == s {
		delete(p.byAddr, a)
	}
}
