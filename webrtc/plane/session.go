package plane

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Params are one side's ICE credentials and DTLS certificate
// fingerprint, as SDP carries them.
type Params struct {
	Ufrag, Pwd string
	// Fingerprint is the SHA-256 of the side's DTLS certificate (the
	// only hash the plane takes: every browser sends it).
	Fingerprint []byte
}

// maxBound bounds the addresses a session takes packets from (its
// peer's validated candidates: host, server-reflexive, relayed, per IP
// family).
const maxBound = 8

// maxSSRCs bounds the sources a session takes from its peer (one audio
// track is one; a few for a track replaced). pion/srtp keeps replay
// state for every source that authenticates, for good: a peer (a
// browser page is anyone's) sending each packet under a new SSRC would
// grow it without end.
const maxSSRCs = 4

// Session is one peer's ICE, DTLS and SRTP on the plane's port.
type Session struct {
	p        *Plane
	dialling bool // controlling agent and DTLS client (the load client)
	local    Params
	created  time.Time
	onRTP    func(*rtp.Packet)

	remote    Params           // set by Start, before any check is taken
	cands     []netip.AddrPort // a dialling session's peer candidates
	tie       uint64           // its ICE-CONTROLLING tie-breaker
	started   atomic.Bool
	lastCheck atomic.Int64          // unix ns of the last valid check (or its answer)
	lastSent  atomic.Int64          // a dialling session's last check sent
	path      atomic.Pointer[route] // where media goes

	mu    sync.Mutex // guards bound, pipe, dconn, txs
	bound []netip.AddrPort
	pipe  *pipe
	dconn io.Closer  // the DTLS connection, once made
	txs   [][12]byte // a dialling session's checks in flight

	rmu       sync.Mutex // the reader that decrypts (one per address, but the address may move)
	in        *srtp.Context
	ssrcs     []uint32   // the sources in has taken (at most maxSSRCs)
	rtcpSSRCs []uint32   // the senders of SRTCP it has taken (at most maxSSRCs)
	clock     uint32     // the audio's RTP clock (SetClockRate)
	recv      Receptions // per source in ssrcs
	peer      Reports    // what the peer's reports said
	onPeer    func(fraction uint8)

	// RTCP reports (rtcp.go): the watch goroutine's.
	rtcpSSRC    uint32 // the reports' sender SSRC while nothing is sent
	cname       string
	lastReport  int64 // unix ns
	reportsSent atomic.Uint64

	wmu  sync.Mutex // the writers (publisher's goroutine, play loop, RFC 4733)
	out  *srtp.Context
	pbuf []byte     // marshalled plaintext
	wbuf []byte     // its encryption
	whdr rtp.Header // EncryptRTP's header (nil there allocates one a packet)
	sw   rawSend    // the sendto state
	sent sendStats

	ready     atomic.Bool
	connected chan struct{} // closed when SRTP keys are in
	done      chan struct{}
	once      sync.Once
	errv      atomic.Value // error: why it ended
}

// route is where a session's media goes: the socket its peer's packets
// came in on and the peer's address.
type route struct {
	sock *socket
	addr netip.AddrPort
	sa   rawAddr
}

// NewSession makes a session with fresh ICE credentials. onRTP gets
// each SRTP packet the peer sends, decrypted, on a reader goroutine: it
// must not block, and the packet is reused after it returns. A session
// takes checks once Start has given it the peer's parameters.
func (p *Plane) NewSession(dialling bool, onRTP func(*rtp.Packet)) (*Session, error) {
	s := &Session{p: p, dialling: dialling, created: time.Now(), onRTP: onRTP,
		local:     Params{Ufrag: randomHex(8), Pwd: randomHex(16), Fingerprint: p.fp},
		connected: make(chan struct{}), done: make(chan struct{})}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s.tie = binary.BigEndian.Uint64(b[:])
	s.rtcpSSRC, s.cname = newReportIDs()
	if err := p.register(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Local is this side's parameters, for the SDP.
func (s *Session) Local() Params { return s.local }

// Start gives the session its peer's parameters; a dialling one starts
// checking cands (the answer's candidates).
func (s *Session) Start(remote Params, cands []netip.AddrPort) error {
	if len(remote.Fingerprint) != sha256.Size || remote.Ufrag == "" || remote.Pwd == "" {
		return errors.New("plane: the peer's ICE credentials or sha-256 fingerprint are missing")
	}
	if s.dialling && len(cands) == 0 {
		return errors.New("plane: no candidate to check")
	}
	// Each round of checks is one transaction a candidate in the
	// plane's byTx: bounded as ParseSDP bounds a description's.
	cands = cands[:min(len(cands), maxCandidates)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started.Load() {
		return errors.New("plane: session started twice")
	}
	select {
	case <-s.done:
		return fmt.Errorf("plane: start: %w", s.Err())
	default:
	}
	s.remote, s.cands = remote, cands // before started: answerCheck reads them after it
	s.started.Store(true)
	if s.dialling && !s.p.goRegistered(s, s.dial) {
		return fmt.Errorf("plane: start: %w", ErrClosed)
	}
	return nil
}

// Connected is closed once ICE and DTLS are done and media may flow.
func (s *Session) Connected() <-chan struct{} { return s.connected }

// Done is closed when the session ends; Err says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended, nil while it runs.
func (s *Session) Err() error {
	if e, ok := s.errv.Load().(error); ok {
		return e
	}
	return nil
}

// ErrSessionClosed is the end of a session closed by its owner.
var ErrSessionClosed = errors.New("plane: session closed")

// Close ends the session.
func (s *Session) Close() { s.fail(ErrSessionClosed) }

// fail ends the session with why (the first one given stays).
func (s *Session) fail(why error) { s.once.Do(func() { s.end(why) }) }

// end ends the session, once (under s.once). It leaves the plane before
// Done closes, so whoever sees Done sees it gone (Sessions, its
// addresses, its checks in flight); both under s.mu, which checked
// holds while it makes a pipe or binds: it sees the end, or end sees
// what it made.
func (s *Session) end(why error) {
	s.errv.Store(why)
	s.mu.Lock()
	pp, bound, dc := s.pipe, s.bound, s.dconn
	s.p.unregister(s, bound)
	close(s.done)
	s.mu.Unlock()
	if dc != nil {
		_ = dc.Close() // a close_notify to the peer, through the pipe
	}
	if pp != nil {
		pp.close() // ends the DTLS goroutine
	}
	// The session's figures into the plane's (Reports takes rmu and wmu:
	// nothing ends a session while holding either).
	r := s.Reports()
	st := &s.p.Stats
	st.Received.Add(uint64(r.Received))
	st.LostIn.Add(uint64(max(r.Lost, 0)))
	st.Sent.Add(uint64(r.Sent))
	st.LostOut.Add(uint64(max(r.PeerLost, 0)))
}

var (
	errHandshakeTime = errors.New("plane: ICE and DTLS not done in time")
	errConsent       = errors.New("plane: consent expired (no ICE check from the peer)")
)

// expire ends the session for a deadline, counted once in Stats.Expired
// (not when something else ended it first).
func (s *Session) expire(why error) {
	s.once.Do(func() {
		s.p.Stats.Expired.Add(1)
		s.end(why)
	})
}

// ErrNotConnected is a write before the keys are in.
var ErrNotConnected = errors.New("plane: not connected yet")

// WriteRTP encrypts and sends one RTP packet (webrtc.TrackLocalWriter's
// shape). Safe from any goroutine.
func (s *Session) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if !s.ready.Load() {
		return 0, ErrNotConnected
	}
	select {
	case <-s.done: // consent lapsed, closed: nothing more goes to the peer (RFC 7675 §5.1)
		return 0, fmt.Errorf("plane: write: session ended: %w", s.Err())
	default:
	}
	r := s.path.Load()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n := h.MarshalSize() + len(payload)
	if cap(s.pbuf) < n {
		s.pbuf = make([]byte, n, n+64)
	}
	s.pbuf = s.pbuf[:n]
	hn, err := h.MarshalTo(s.pbuf)
	if err != nil {
		return 0, fmt.Errorf("plane: marshal rtp: %w", err)
	}
	copy(s.pbuf[hn:], payload)
	out, err := s.out.EncryptRTP(s.wbuf[:0], s.pbuf, &s.whdr)
	if err != nil {
		return 0, fmt.Errorf("plane: encrypt rtp: %w", err)
	}
	s.wbuf = out[:0]
	if err := s.sw.send(r.sock, out, &r.sa); err != nil {
		return 0, fmt.Errorf("plane: send: %w", err)
	}
	s.noteSent(h.SSRC, h.Timestamp, len(payload), time.Now().UnixNano())
	return len(payload), nil
}

// mediaPacket takes an SRTP (or SRTCP) packet from a validated address.
func (s *Session) mediaPacket(in *inbound, b []byte) {
	isRTCP := len(b) >= 2 && b[1]&0x7f >= 64 && b[1]&0x7f <= 95 // RFC 5761 §4
	if !s.ready.Load() || len(b) < 12 {                         // an RTP header; SRTCP is longer still
		s.p.Stats.BadSRTP.Add(1)
		return
	}
	// Held through the callback too: the callback's state is the
	// session's, and a peer whose address moved to another socket is
	// read by another goroutine.
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if isRTCP {
		// Its reports go to the session's figures (rtcp.go).
		dec, ok := s.decrypt(&s.rtcpSSRCs, binary.BigEndian.Uint32(b[4:8]), func() ([]byte, error) {
			return s.in.DecryptRTCP(in.buf[:0], b, &in.rhdr)
		})
		if ok {
			in.buf = dec[:0]
			s.rtcpPacket(dec, time.Now().UnixNano())
		}
		return
	}
	ssrc := binary.BigEndian.Uint32(b[8:12])
	dec, ok := s.decrypt(&s.ssrcs, ssrc, func() ([]byte, error) { return s.in.DecryptRTP(in.buf[:0], b, &in.hdr) })
	if !ok {
		return
	}
	in.buf = dec[:0]
	if in.pkt.Unmarshal(dec) != nil {
		return
	}
	s.noteReceived(ssrc, in.pkt.SequenceNumber, in.pkt.Timestamp, time.Now().UnixNano())
	s.onRTP(&in.pkt)
}

// decrypt runs dec for a packet of ssrc (under rmu) and counts what it
// refuses. The sources taken, in *list, are bounded: pion/srtp keeps
// replay state for every SSRC that authenticates, for SRTP and SRTCP
// alike, and a peer sending each packet under a new one would grow it.
func (s *Session) decrypt(list *[]uint32, ssrc uint32, dec func() ([]byte, error)) ([]byte, bool) {
	known := slices.Contains(*list, ssrc)
	if !known && len(*list) == maxSSRCs {
		s.p.Stats.BadSRTP.Add(1)
		return nil, false
	}
	out, err := dec()
	if err != nil {
		s.p.Stats.BadSRTP.Add(1)
		return nil, false
	}
	if !known {
		*list = append(*list, ssrc)
	}
	return out, true
}

// inbound is a reader's decryption state, reused for every packet.
type inbound struct {
	buf  []byte
	hdr  rtp.Header
	rhdr rtcp.Header
	pkt  rtp.Packet
}

// checked takes a valid check (or, dialling, the answer to ours) from
// addr on sock: consent is renewed, addr may send, and media goes to it
// when it is the first or nominated one. The first starts DTLS. False
// when the check is not taken: the session has ended, or addr is a live
// session's (Plane.bind).
func (s *Session) checked(sock *socket, addr netip.AddrPort, nominate bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done: // ended after the check was looked up: no pipe, route or goroutine to leave
		return false
	default:
	}
	if !slices.Contains(s.bound, addr) {
		if !s.p.bind(s, addr) {
			return false
		}
		if len(s.bound) == maxBound {
			// The oldest goes, never the one media is sent to (a peer
			// checking from many addresses keeps its nominated pair).
			i := 0
			if cur := s.path.Load(); cur != nil && cur.addr == s.bound[0] {
				i = 1
			}
			s.p.unbind(s, s.bound[i])
			s.bound = slices.Delete(s.bound, i, i+1)
		}
		s.bound = append(s.bound, addr)
	}
	s.lastCheck.Store(time.Now().UnixNano())
	cur := s.path.Load()
	if cur == nil || (nominate && cur.addr != addr) {
		s.path.Store(&route{sock: sock, addr: addr, sa: toRaw(addr)})
	}
	if s.pipe == nil {
		s.pipe = newPipe(s, addr)
		s.p.wg.Add(1) // the reader calling checked holds the WaitGroup: Close has not stopped waiting
		go s.runDTLS(s.pipe)
	}
	return true
}

// tick runs once a second: the handshake and consent deadlines, and a
// dialling session's consent checks.
func (s *Session) tick(now time.Time) {
	switch {
	case !s.ready.Load() && now.Sub(s.created) > s.p.cfg.Handshake:
		s.expire(errHandshakeTime)
	case s.ready.Load() && now.UnixNano()-s.lastCheck.Load() > int64(s.p.cfg.Consent):
		s.expire(errConsent)
	case s.dialling && s.ready.Load() && now.UnixNano()-s.lastSent.Load() >= int64(s.p.cfg.ConsentInterval):
		s.sendChecks()
	}
	if s.ready.Load() {
		s.report(now)
	}
}

// dial checks the peer's candidates every 50 ms until connected (the
// handshake deadline ends a peer that never answers).
func (s *Session) dial() {
	defer s.p.wg.Done()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		s.sendChecks()
		select {
		case <-s.done:
			return
		case <-s.connected:
			return
		case <-t.C:
		}
	}
}

// fingerprintOK compares a certificate's hash with the SDP's.
func (s *Session) fingerprintOK(der []byte) bool {
	h := sha256.Sum256(der)
	return subtle.ConstantTimeCompare(h[:], s.remote.Fingerprint) == 1
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
