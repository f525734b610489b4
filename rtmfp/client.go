package rtmfp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// Handshake retransmission (RFC 7016 §3.5.1: about a second, backing off).
const (
	helloRetry   = time.Second
	clientLinger = time.Second // how long Close waits for the Close Acknowledgement
)

// DialOptions configure an initiator.
type DialOptions struct {
	Config   Config    // limits and policy, as for a Server (Identity: nil for a random one)
	Identity *Identity // overrides Config.Identity
}

// client is the initiator's endpoint: its own socket, a reader goroutine
// and a timer goroutine for its one session; both end when the session
// does and Close has returned.
type client struct {
	pc     *net.UDPConn
	server netip.AddrPort
	start  time.Time
	log    *slog.Logger
	stats  Stats

	hs    *packetCrypto // the reader's
	hsIn  chan Packet   // handshake chunks for Dial (copied)
	sess  atomic.Pointer[session]
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	plain []byte
	pkt   Packet
}

func (c *client) epoch() time.Time { return c.start }

func (c *client) writeTo(b []byte, addr netip.AddrPort) {
	_ = c.pc.SetWriteDeadline(time.Now().Add(writeTimeout))
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
		id = NewRandomIdentity(false)
	}
	pc, err := net.ListenUDP("udp", nil)
	if err != nil {
		return nil, fmt.Errorf("rtmfp: %w", err)
	}
	c := &client{
		pc: pc, server: netip.AddrPortFrom(ua.AddrPort().Addr().Unmap(), ua.AddrPort().Port()),
		start: time.Now(), log: cfg.Logger, hs: newDefaultCrypto(), hsIn: make(chan Packet, 8),
		stop: make(chan struct{}), plain: make([]byte, maxDatagram),
	}
	c.wg.Add(1)
	go c.read()
	tcURL := *u
	tcURL.Fragment, tcURL.RawFragment = "", ""
	s, err := c.handshake(ctx, []byte(tcURL.String()), id, cfg)
	if err != nil {
		c.shutdown()
		return nil, err
	}
	c.wg.Add(1)
	go c.timer(s)
	return s.conn, nil
}

// handshake runs IHello → RHello → IIKeying → RIKeying (with cookie change).
func (c *client) handshake(ctx context.Context, uri []byte, id *Identity, cfg Config) (*session, error) {
	tag := make([]byte, 16)
	_, _ = rand.Read(tag)
	epd := (&EPD{Ancillary: uri}).AppendTo(nil)
	hello := (&IHello{EPD: epd, Tag: tag}).AppendTo(nil)
	var rxID uint32
	for rxID == 0 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		rxID = binary.BigEndian.Uint32(b[:])
	}
	var (
		keying *initiatorKeying
		rc     *peerCert
		ik     []byte // IIKeying body once RHello came
	)
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("rtmfp: handshake: %w", ctx.Err())
		case <-retry.C:
			if ik == nil {
				c.sendStartup(0, chunkIHello, hello)
			} else {
				c.sendStartup(0, chunkIIKeying, ik)
			}
			retry.Reset(helloRetry)
		case p := <-c.hsIn:
			for _, ch := range p.Chunks {
				switch ch.Type {
				case chunkRHello:
					var rh RHello
					if ik != nil || rh.Unmarshal(ch.Value) != nil || string(rh.Tag) != string(tag) {
						continue
					}
					cert, err := parsePeerCert(rh.Cert)
					if err != nil {
						return nil, fmt.Errorf("rtmfp: server certificate: %w", err)
					}
					k, err := newInitiatorKeying(cert, cfg.Policy)
					if err != nil {
						return nil, fmt.Errorf("rtmfp: %w", err)
					}
					rc, keying = cert, k
					ik = (&IIKeying{SessionID: rxID, Cookie: rh.Cookie, Cert: id.Cert, SKIC: k.skic, Signature: []byte{'X'}}).AppendTo(nil)
					c.sendStartup(0, chunkIIKeying, ik)
					retry.Reset(helloRetry)
				case chunkCookieChange:
					var cc CookieChange
					var k IIKeying
					if ik == nil || cc.Unmarshal(ch.Value) != nil || k.Unmarshal(ik) != nil || string(cc.Old) != string(k.Cookie) {
						continue
					}
					k.Cookie = cc.New
					ik = k.AppendTo(nil)
					c.sendStartup(0, chunkIIKeying, ik)
				case chunkRIKeying:
					var rk RIKeying
					if keying == nil || rk.Unmarshal(ch.Value) != nil || rk.SessionID == 0 {
						continue
					}
					keys, err := keying.finish(rk.SKRC, rc)
					if err != nil {
						return nil, fmt.Errorf("rtmfp: keying: %w", err)
					}
					now := time.Now()
					log := c.log.With("session", fmt.Sprintf("%08x", rxID), "remote", c.server.String())
					s := newSession(c, modeInitiator, rxID, rk.SessionID, c.server, keys, cfg.limits(), &c.stats, log, now)
					s.far = rc.fingerprint
					s.closeWait = clientLinger
					s.mu.Lock()
					s.conn.initiator = true
					s.conn.control = s.openSendFlow(tcMetadata(0), 0, false, 1, 0)
					s.mu.Unlock()
					c.sess.Store(s)
					c.stats.HandshakesOK.Add(1)
					return s, nil
				}
			}
		}
	}
}

func (c *client) sendStartup(ssid uint32, typ uint8, body []byte) {
	p := appendHeader(nil, Header{Flags: modeStartup | flagTimestamp, Timestamp: uint16(time.Since(c.start) / (timestampPeriodMs * time.Millisecond))})
	p = appendChunk(p, typ, body)
	c.writeTo(c.hs.seal(nil, ssid, p), c.server)
}

// read is the reader goroutine: handshake packets go to Dial, session
// packets to the session.
func (c *client) read() {
	defer c.wg.Done()
	buf := make([]byte, maxDatagram+1)
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
		c.stats.BytesIn.Add(uint64(n))
		addr := netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		d := buf[:n]
		if n < minPacketSize {
			c.stats.Malformed.Add(1)
			continue
		}
		s := c.sess.Load()
		if s == nil || scrambledSessionID(d) != s.rxID {
			c.startupPacket(d[4:])
			continue
		}
		s.mu.Lock()
		plain, err := s.crypto.open(c.plain, d[4:])
		if err == nil {
			err = c.pkt.Unmarshal(plain)
		}
		if err == nil {
			s.onPacket(&c.pkt, addr, time.Now())
		} else {
			c.stats.Malformed.Add(1)
		}
		s.mu.Unlock()
	}
}

func (c *client) startupPacket(d []byte) {
	plain, err := c.hs.open(c.plain, d)
	var p Packet
	if err == nil {
		err = p.Unmarshal(plain)
	}
	if err != nil || p.Mode() != modeStartup {
		c.stats.Malformed.Add(1)
		return
	}
	// Copy: the buffer is reused for the next datagram.
	cp := Packet{Header: p.Header}
	for _, ch := range p.Chunks {
		cp.Chunks = append(cp.Chunks, Chunk{Type: ch.Type, Value: append([]byte(nil), ch.Value...)})
	}
	select {
	case c.hsIn <- cp:
	default:
	}
}

// timer ticks the session and shuts the endpoint down when it is over.
func (c *client) timer(s *session) {
	defer c.wg.Done()
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			if s.tick(now) {
				go c.shutdown() // not from here: shutdown waits for this goroutine
				return
			}
		}
	}
}

func (c *client) shutdown() {
	c.once.Do(func() {
		close(c.stop)
		c.pc.Close()
		c.wg.Wait()
	})
}
