package rtmfp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// Handshake retransmission (RFC 7016 §3.5.1: about a second, backing off).
const (
	helloRetry   = time.Second
	clientLinger = time.Second // how long Close waits for the Close Acknowledgement
)

// DialOptions configure an initiator.
type DialOptions struct {
	Config   Config         // limits and policy, as for a Server (Identity: nil for a random one)
	Identity *wire.Identity // overrides Config.Identity
	// PeerHandler, when set, serves the sessions other peers open to this
	// endpoint by its peer ID (the publisher side of Flash's
	// NetStream.DIRECT_CONNECTIONS): hellos the server forwards (FIHello)
	// and hellos sent straight to our socket are answered.
	PeerHandler Handler
	// BlockPeers is a test hook: every datagram to or from an address other
	// than the server's is dropped, as between NATs with no direct path.
	BlockPeers bool
	// LocalAddr is the UDP address to send from; nil picks a free port.
	LocalAddr *net.UDPAddr
}

// client is the initiator's endpoint: one socket for its session with the
// server, the sessions it opened to peers (DialPeer) and, with a
// PeerHandler, the sessions peers opened to it. Its reader goroutine reads
// every datagram and runs the handshakes' responder half (peers); its timer
// goroutine ticks its own sessions. Both end when the server session does
// and Close has returned.
type client struct {
	pc      *net.UDPConn
	writeDL atomic.Int64 // refreshWriteDeadline
	server  netip.AddrPort
	start   time.Time
	log     *slog.Logger
	stats   Stats
	id      *wire.Identity
	cfg     Config
	block   bool
	peers   *Server // answers peers' hellos; nil without a PeerHandler
	stopPe  func()

	mu       sync.Mutex            // guards sessions and waiters
	sessions map[uint32]*session   // ours by our session ID: the server's, and those DialPeer opened
	waiters  map[chan hsPacket]int // running handshakes
	main     *session              // the session with the server

	hs    *wire.PacketCrypto // the reader's
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	plain []byte
}

// hsPacket is a handshake packet handed to a running handshake (copied).
type hsPacket struct {
	ssid   uint32
	from   netip.AddrPort
	chunks []wire.Chunk
}

func (c *client) epoch() time.Time { return c.start }

func (c *client) writeTo(b []byte, addr netip.AddrPort) {
	if c.block && addr != c.server {
		return
	}
	refreshWriteDeadline(c.pc, &c.writeDL)
	_, _ = c.pc.WriteToUDPAddrPort(b, addr)
}

// Dial opens an RTMFP session to the server of rawURL
// (rtmfp://host[:port]/app...; the URL, without its fragment, is the
// endpoint discriminator, as Flash Player sends it) and returns its Conn.
// The TC control flow is open: the caller sends connect with WriteMessage.
func Dial(ctx context.Context, rawURL string, opts DialOptions) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "rtmfp" {
		return nil, fmt.Errorf("rtmfp: unsupported scheme %q", u.Scheme)
	}
	port := u.Port()
	if port == "" {
		port = "1935"
	}
	ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, fmt.Errorf("rtmfp: %w", err)
	}
	cfg := opts.Config
	cfg.Defaults()
	id := opts.Identity
	if id == nil {
		id = cfg.Identity
	}
	if id == nil {
		id = wire.NewRandomIdentity(false)
	}
	pc, err := net.ListenUDP("udp", opts.LocalAddr)
	if err != nil {
		return nil, fmt.Errorf("rtmfp: %w", err)
	}
	c := &client{
		pc: pc, server: netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port()),
		start: time.Now(), log: cfg.Logger, id: id, cfg: cfg, block: opts.BlockPeers, hs: wire.NewDefaultCrypto(),
		sessions: map[uint32]*session{}, waiters: map[chan hsPacket]int{},
		stop: make(chan struct{}), plain: make([]byte, wire.MaxDatagram),
	}
	if opts.PeerHandler != nil {
		pcfg := cfg
		pcfg.Identity = id
		pcfg.Logger = cfg.Logger.With("side", "peers")
		c.peers = &Server{Config: pcfg, Handler: opts.PeerHandler, block: c.blocked}
		if _, c.stopPe, err = c.peers.attach(context.Background(), pc); err != nil {
			pc.Close()
			return nil, err
		}
	}
	c.wg.Add(1)
	go c.read()
	tcURL := *u
	tcURL.Fragment, tcURL.RawFragment = "", ""
	s, err := c.handshake(ctx, (&wire.EPD{Ancillary: []byte(tcURL.String())}).AppendTo(nil), nil)
	if err != nil {
		c.shutdown()
		return nil, err
	}
	c.mu.Lock()
	c.main = s
	c.mu.Unlock()
	c.wg.Add(1)
	go c.timer()
	return s.conn, nil
}

// blocked is the BlockPeers test hook.
func (c *client) blocked(addr netip.AddrPort) bool { return c.block && addr != c.server }

// DialPeer opens a session straight to the peer whose peer ID (fingerprint,
// hex) is peerID, through this Conn's server: the IHello goes to the
// server, which redirects us to the peer's addresses and forwards our hello
// to the peer so that both sides open their NATs; the first answer from
// the peer itself wins. c must come from Dial. The TC control flow of the
// returned Conn is open, as with Dial.
func (c *Conn) DialPeer(ctx context.Context, peerID string) (*Conn, error) {
	cl, ok := c.s.out.(*client)
	if !ok {
		return nil, errors.New("rtmfp: DialPeer needs a Conn from Dial")
	}
	fp, err := hex.DecodeString(peerID)
	if err != nil || len(fp) != sha256.Size {
		return nil, fmt.Errorf("rtmfp: peer ID %q: want 64 hex digits", peerID)
	}
	want := [sha256.Size]byte(fp)
	s, err := cl.handshake(ctx, (&wire.EPD{Fingerprint: fp}).AppendTo(nil), &want)
	if err != nil {
		return nil, fmt.Errorf("rtmfp: peer %.16s…: %w", peerID, err)
	}
	return s.conn, nil
}

// handshake runs IHello → RHello → IIKeying → RIKeying (with cookie
// change, and Redirects to other addresses). want, when set, is the
// fingerprint the responder must have (a peer by ID); nil takes the
// server's certificate whatever it is.
func (c *client) handshake(ctx context.Context, epd []byte, want *[sha256.Size]byte) (*session, error) {
	h := &clientHS{c: c, want: want, tag: make([]byte, 16), targets: []netip.AddrPort{c.server}}
	_, _ = rand.Read(h.tag)
	h.hello = (&wire.IHello{EPD: epd, Tag: h.tag}).AppendTo(nil)
	for h.rxID == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		h.rxID = binary.BigEndian.Uint32(b[:])
	}
	in := make(chan hsPacket, 16)
	c.mu.Lock()
	c.waiters[in] = 0
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, in)
		c.mu.Unlock()
	}()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("rtmfp: handshake: %w", ctx.Err())
		case <-c.stop:
			return nil, ErrClosed
		case <-retry.C:
			if h.ik == nil {
				for _, a := range h.targets {
					c.sendStartup(0, wire.ChunkIHello, h.hello, a)
				}
			} else {
				c.sendStartup(0, wire.ChunkIIKeying, h.ik, h.dst)
			}
			retry.Reset(helloRetry)
		case p := <-in:
			for _, ch := range p.chunks {
				s, resend, err := h.onChunk(ch, p)
				if s != nil || err != nil {
					return s, err
				}
				if resend {
					retry.Reset(helloRetry)
				}
			}
		}
	}
}

func (c *client) sendStartup(ssid uint32, typ uint8, body []byte, to netip.AddrPort) {
	p := wire.AppendHeader(nil, wire.Header{Flags: wire.ModeStartup | wire.FlagTimestamp, Timestamp: uint16(time.Since(c.start) / (wire.TimestampPeriodMs * time.Millisecond))})
	p = wire.AppendChunk(p, typ, body)
	c.writeTo(c.hs.Seal(nil, ssid, p), to)
}

// read is the reader goroutine: packets of our sessions go to them, those
// of sessions peers opened to the peer responder, handshake packets to the
// running handshakes or (hellos and keyings) to the peer responder.
func (c *client) read() {
	defer c.wg.Done()
	buf := make([]byte, wire.MaxDatagram+1)
	var pkt wire.Packet
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		_ = c.pc.SetReadDeadline(time.Now().Add(readTimeout))
		n, from, err := c.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		addr := netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if c.blocked(addr) {
			continue
		}
		c.stats.BytesIn.Add(uint64(n))
		d := buf[:n]
		if n < wire.MinPacketSize {
			c.stats.Malformed.Add(1)
			continue
		}
		ssid := wire.ScrambledSessionID(d)
		c.mu.Lock()
		s := c.sessions[ssid]
		c.mu.Unlock()
		now := time.Now()
		switch {
		case s != nil:
			s.mu.Lock()
			plain, err := s.crypto.Open(c.plain, d[4:])
			if err == nil {
				err = pkt.Unmarshal(plain)
			}
			if err == nil {
				s.onPacket(&pkt, addr, now)
			} else {
				c.stats.Malformed.Add(1)
			}
			s.mu.Unlock()
		case ssid != 0 && c.peers != nil && c.peers.has(ssid):
			c.peers.datagram(d, addr, now)
		default:
			c.startupPacket(ssid, d[4:], addr, now)
		}
	}
}

func (c *client) startupPacket(ssid uint32, d []byte, from netip.AddrPort, now time.Time) {
	plain, err := c.hs.Open(c.plain, d)
	var p wire.Packet
	if err == nil {
		err = p.Unmarshal(plain)
	}
	if err != nil || p.Mode() != wire.ModeStartup {
		c.stats.Malformed.Add(1)
		return
	}
	if c.peers != nil && ssid == 0 {
		for _, ch := range p.Chunks {
			switch ch.Type {
			case wire.ChunkIHello:
				c.peers.onIHello(ch.Value, from, now)
				return
			case wire.ChunkIIKeying:
				c.peers.onIIKeying(ch.Value, from, now)
				return
			}
		}
	}
	// Copy: the buffer is reused for the next datagram.
	cp := hsPacket{ssid: ssid, from: from}
	for _, ch := range p.Chunks {
		cp.chunks = append(cp.chunks, wire.Chunk{Type: ch.Type, Value: append([]byte(nil), ch.Value...)})
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for in := range c.waiters {
		select {
		case in <- cp:
		default:
		}
	}
}

// onFIHello answers a hello the server forwarded to us (an introduction):
// the peer responder answers the initiator at the address the server saw,
// which opens our NAT towards it. Called by the server session's
// onPacket, on the reader goroutine.
func (c *client) onFIHello(b []byte, now time.Time) {
	var f wire.FIHello
	if c.peers == nil || f.Unmarshal(b) != nil || !f.Addr.IsValid() {
		return
	}
	c.peers.onIHello((&wire.IHello{EPD: f.EPD, Tag: f.Tag}).AppendTo(nil), f.Addr, now)
}

// timer ticks our sessions; the endpoint shuts down when the server
// session is over.
func (c *client) timer() {
	defer c.wg.Done()
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	var all []*session
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			all = all[:0]
			c.mu.Lock()
			for _, s := range c.sessions {
				all = append(all, s)
			}
			c.mu.Unlock()
			for _, s := range all {
				if !s.tick(now) {
					continue
				}
				if s == c.main {
					go c.shutdown() // not from here: shutdown waits for this goroutine
					return
				}
				c.mu.Lock()
				delete(c.sessions, s.rxID)
				c.mu.Unlock()
			}
			clear(all)
		}
	}
}

func (c *client) shutdown() {
	c.once.Do(func() {
		c.mu.Lock()
		peerSessions := make([]*session, 0, len(c.sessions))
		for _, s := range c.sessions {
			if s != c.main {
				peerSessions = append(peerSessions, s)
			}
		}
		c.mu.Unlock()
		for _, s := range peerSessions {
			s.mu.Lock()
			s.close(time.Now())
			s.abort(ErrClosed)
			s.mu.Unlock()
		}
		close(c.stop)
		if c.stopPe != nil {
			c.stopPe()
		}
		c.pc.Close()
		c.wg.Wait()
	})
}
