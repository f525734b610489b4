package plane

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/stun/v4"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// sendAudio writes n 160-byte packets on s, h's sequence numbers on.
func sendAudio(t *testing.T, s *Session, h *rtp.Header, n int) {
	t.Helper()
	payload := make([]byte, 160)
	for i := 0; i < n; i++ {
		h.SequenceNumber++
		h.Timestamp += 160
		if _, err := s.WriteRTP(h, payload); err != nil {
			t.Fatal(err)
		}
	}
}

// send writes each of bs from c to a.
func send(t *testing.T, c *net.UDPConn, a netip.AddrPort, bs ...[]byte) {
	t.Helper()
	for _, b := range bs {
		if _, err := c.WriteToUDPAddrPort(b, a); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSpoofedSourceDropped: a real SRTP packet the answering side never
// got, sent from an address no check validated (an off-path spoofer who
// captured it), is dropped and counted Unknown; a DTLS-looking copy too.
// The same bytes from the validated address are taken: only the source
// stood between them and the session.
func TestSpoofedSourceDropped(t *testing.T) {
	a, b := listenT(t, Config{}), listenT(t, Config{})
	r := newRelay(t, b.Addr())
	var gotA, gotB atomic.Int64
	da, _ := relayPair(t, a, b, r, &gotA, &gotB)
	r.hold.Store(true)
	sendAudio(t, da, &rtp.Header{Version: 2, SSRC: 5}, 1)
	testwait.For(t, 5*time.Second, "the relay to keep a packet", func() bool { return len(r.recorded(true)) == 1 })
	pkt := r.recorded(true)[0]
	dtlsLike := append([]byte{23}, pkt[1:]...)

	spoofer := udpT(t)
	unknown, got := b.Stats.Unknown.Load(), gotB.Load()
	for i := 0; i < 5; i++ {
		send(t, spoofer, b.Addr(), pkt, dtlsLike)
	}
	testwait.For(t, 5*time.Second, "10 spoofed packets counted Unknown", func() bool { return b.Stats.Unknown.Load() == unknown+10 })
	if n := gotB.Load(); n != got {
		t.Fatalf("the session took %d spoofed packets", n-got)
	}
	send(t, r.back, b.Addr(), pkt)
	testwait.For(t, 5*time.Second, "the packet from the validated address", func() bool { return gotB.Load() == got+1 })
}

// TestReplayRefused: SRTP packets already taken, sent again from the
// validated address, are refused by the replay window (BadSRTP), as is a
// packet with one bit flipped (its tag); the callback sees none.
func TestReplayRefused(t *testing.T) {
	a, b := listenT(t, Config{}), listenT(t, Config{})
	r := newRelay(t, b.Addr())
	var gotA, gotB atomic.Int64
	da, _ := relayPair(t, a, b, r, &gotA, &gotB)
	sendAudio(t, da, &rtp.Header{Version: 2, SSRC: 5}, 5)
	testwait.For(t, 5*time.Second, "5 packets through", func() bool { return gotB.Load() == 5 && len(r.recorded(false)) == 5 })
	bad := b.Stats.BadSRTP.Load()
	seen := r.recorded(false)
	send(t, r.back, b.Addr(), seen...)
	flipped := append([]byte(nil), seen[4]...)
	flipped[len(flipped)-20] ^= 1 // in the payload
	flipped[3]++                  // a sequence number not seen yet
	send(t, r.back, b.Addr(), flipped)
	testwait.For(t, 5*time.Second, "6 packets refused", func() bool { return b.Stats.BadSRTP.Load() == bad+6 })
	if n := gotB.Load(); n != 5 {
		t.Fatalf("the session took %d replayed or altered packets", n-5)
	}
}

// stunCheck builds a Binding request as a controlling agent's (ice.go's
// sendChecks), leaving out integrity or fingerprint when asked.
func stunCheck(t *testing.T, user, pwd string, integrity, fingerprint bool) *stun.Message {
	t.Helper()
	setters := []stun.Setter{stun.TransactionID, stun.BindingRequest}
	if user != "" {
		setters = append(setters, stun.NewUsername(user))
	}
	setters = append(setters, ice.PriorityAttr(0x6e0001ff), ice.AttrControlling(42), ice.UseCandidate())
	if integrity {
		setters = append(setters, stun.NewShortTermIntegrity(pwd))
	}
	if fingerprint {
		setters = append(setters, stun.Fingerprint)
	}
	m, err := stun.Build(setters...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// remoteParams are a made-up peer's credentials.
var remoteParams = Params{Ufrag: "theirs", Pwd: "their-password-their-password", Fingerprint: make([]byte, 32)}

// startedSession is an answering session on p, started with remoteParams.
func startedSession(t *testing.T, p *Plane, onRTP func(*rtp.Packet)) *Session {
	t.Helper()
	s, err := p.NewSession(false, onRTP)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(remoteParams, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestICEChecksRefused: checks that name no session, carry a wrong
// password, no integrity, no fingerprint, no username, the wrong remote
// ufrag, or are for a session not started yet, get no answer, count in
// BadChecks and bind nothing (the sender's SRTP afterwards is Unknown).
// A correct check is answered, signed with the session's password, with
// the sender's address mapped, and binds it.
func TestICEChecksRefused(t *testing.T) {
	p := listenT(t, Config{Readers: 1})
	s := startedSession(t, p, func(*rtp.Packet) { t.Error("a packet reached the session") })
	idle, err := p.NewSession(false, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	l := s.Local()
	user := l.Ufrag + ":" + remoteParams.Ufrag
	cases := []struct {
		name string
		m    *stun.Message
	}{
		{"unknown ufrag", stunCheck(t, "0123456789abcdef:"+remoteParams.Ufrag, l.Pwd, true, true)},
		{"wrong password", stunCheck(t, user, "not-the-password-not-the-pwd", true, true)},
		{"no integrity", stunCheck(t, user, l.Pwd, false, true)},
		{"no fingerprint", stunCheck(t, user, l.Pwd, true, false)},
		{"no username", stunCheck(t, "", l.Pwd, true, true)},
		{"wrong remote ufrag", stunCheck(t, l.Ufrag+":someone-else", l.Pwd, true, true)},
		{"no remote ufrag", stunCheck(t, l.Ufrag, l.Pwd, true, true)},
		{"session not started", stunCheck(t, idle.Local().Ufrag+":"+remoteParams.Ufrag, idle.Local().Pwd, true, true)},
		{"an answer nobody asked for", stun.MustBuild(stun.TransactionID, stun.BindingSuccess, stun.NewShortTermIntegrity(l.Pwd), stun.Fingerprint)},
	}
	socks := make([]*net.UDPConn, len(cases))
	checks := p.Stats.BadChecks.Load()
	for i, c := range cases {
		socks[i] = udpT(t)
		send(t, socks[i], p.Addr(), c.m.Raw)
	}
	testwait.For(t, 5*time.Second, "every bad check counted", func() bool { return p.Stats.BadChecks.Load() == checks+uint64(len(cases)) })
	// No answer: every socket read to one short deadline (an assertion
	// of absence).
	deadline := time.Now().Add(300 * time.Millisecond)
	buf := make([]byte, 1500)
	for i, c := range cases {
		_ = socks[i].SetReadDeadline(deadline)
		if n, _, err := socks[i].ReadFromUDPAddrPort(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: answered (%d bytes, %v)", c.name, n, err)
		}
	}
	unknown := p.Stats.Unknown.Load()
	junk := []byte{0x80, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4}
	for _, c := range socks {
		send(t, c, p.Addr(), junk)
	}
	testwait.For(t, 5*time.Second, "their SRTP counted Unknown", func() bool { return p.Stats.Unknown.Load() == unknown+uint64(len(cases)) })
	p.mu.RLock()
	bound := len(p.byAddr)
	p.mu.RUnlock()
	if bound != 0 {
		t.Fatalf("%d addresses bound by bad checks", bound)
	}

	good := udpT(t)
	req := stunCheck(t, user, l.Pwd, true, true)
	send(t, good, p.Addr(), req.Raw)
	_ = good.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := good.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("a correct check is not answered: %v", err)
	}
	resp := &stun.Message{Raw: buf[:n]}
	if err := resp.Decode(); err != nil {
		t.Fatal(err)
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(resp); err != nil {
		t.Fatal(err)
	}
	me := addrOf(good)
	if from != p.Addr() || resp.Type != stun.BindingSuccess || resp.TransactionID != req.TransactionID ||
		!xa.IP.Equal(me.Addr().AsSlice()) || xa.Port != int(me.Port()) {
		t.Fatalf("answer from %v: %v %x mapped %v, want binding success %x mapped %v", from, resp.Type, resp.TransactionID, xa, req.TransactionID, me)
	}
	if err := stun.NewShortTermIntegrity(l.Pwd).Check(resp); err != nil {
		t.Fatalf("answer's integrity: %v", err)
	}
	if err := stun.Fingerprint.Check(resp); err != nil {
		t.Fatalf("answer's fingerprint: %v", err)
	}
	unknown, badSRTP := p.Stats.Unknown.Load(), p.Stats.BadSRTP.Load()
	send(t, good, p.Addr(), junk)
	testwait.For(t, 5*time.Second, "SRTP from the checked address reaches the session (refused: no keys yet)", func() bool {
		return p.Stats.BadSRTP.Load() == badSRTP+1
	})
	if p.Stats.Unknown.Load() != unknown {
		t.Fatal("the checked address still counts as unknown")
	}
}

// plainRecords are unauthenticated DTLS 1.2 records (type, version,
// epoch, sequence number 99, length, body).
var plainRecords = [][]byte{
	{21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 2, 2, 40},
	{21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 2, 1, 0},
	{20, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 2, 0xff, 0xff},
	{20, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 99, 0, 2, 0xff, 0xff},
	{23, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 3, 1, 2, 3},
	{24, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 3, 1, 2, 3},
	{25, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 3, 1, 2, 3},
}

// flood sends 700 random datagrams (1 to 1500 bytes) of each first-byte
// class, plaintext DTLS alerts and an oversized datagram through write.
func flood(seed uint64, write func([]byte) error) error {
	next := func() uint64 { // xorshift: cheap and reproducible from the seed
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		return seed
	}
	var rnd [1500]byte
	// DTLS records in the clear, well formed enough to reach pion's
	// record layer after the handshake: alerts (fatal handshake_failure,
	// close_notify), a bad change_cipher_spec at epochs 0 and 1,
	// application data at epoch 0, unknown content types. Anyone who
	// can put the peer's address on a datagram can send them: they must
	// end nothing. First, before the flood fills the DTLS queue.
	for _, rec := range plainRecords {
		if err := write(rec); err != nil {
			return err
		}
	}
	for _, c := range [][2]int{{0, 4}, {20, 64}, {128, 192}, {4, 20}, {64, 128}, {192, 256}} {
		for i := 0; i < 700; i++ {
			n := 1 + int(next()%1500)
			for j := range n {
				rnd[j] = byte(next())
			}
			rnd[0] = byte(c[0] + int(next()%uint64(c[1]-c[0])))
			if err := write(rnd[:n]); err != nil {
				return err
			}
		}
	}
	big := make([]byte, 1600)
	big[0] = 0x80
	return write(big)
}

// TestGarbageFlood: thousands of random datagrams of every first-byte
// class (STUN, DTLS, SRTP, the rest), plaintext DTLS alerts and
// oversized datagrams, from an unknown address and from the validated
// one at once, leave a connected pair connected and carrying audio both
// ways, none of it reaching a callback.
func TestGarbageFlood(t *testing.T) {
	a, b := listenT(t, Config{Readers: 1}), listenT(t, Config{Readers: 2})
	var gotA, gotB atomic.Int64
	da, sb := dialPair(t, a, b, &gotA, &gotB)
	validated := a.socks[0] // the answering session's peer address
	stranger := udpT(t)
	seed := uint64(time.Now().UnixNano()) | 1
	t.Logf("seed %d", seed)
	errs := make(chan error, 2)
	go func() {
		errs <- flood(seed, func(p []byte) error {
			_, err := stranger.WriteToUDPAddrPort(p, b.Addr())
			return err
		})
	}()
	go func() { errs <- flood(seed*3, func(p []byte) error { return validated.writeTo(p, b.Addr()) }) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "the flood counted", func() bool {
		return b.Stats.Unknown.Load() > 0 && b.Stats.BadChecks.Load() > 0 && b.Stats.BadSRTP.Load() > 0
	})
	if isDone(da) || isDone(sb) {
		t.Fatalf("the flood ended a session: %v / %v", da.Err(), sb.Err())
	}
	sendAudio(t, da, &rtp.Header{Version: 2, SSRC: 5}, 20)
	sendAudio(t, sb, &rtp.Header{Version: 2, SSRC: 6}, 20)
	testwait.For(t, 5*time.Second, "20 packets each way after the flood", func() bool { return gotA.Load() == 20 && gotB.Load() == 20 })
}

// TestSSRCBound: a peer sending each packet under a new SSRC (each
// authenticating: it has the keys) has its first maxSSRCs sources taken
// and the rest refused before decryption (BadSRTP), so pion/srtp's
// per-source replay state stays bounded; a taken source still flows.
func TestSSRCBound(t *testing.T) {
	a, b := listenT(t, Config{Readers: 1}), listenT(t, Config{Readers: 1})
	da, err := a.NewSession(true, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	offer, err := ParseSDP(WriteOffer(da.Local(), a.Fingerprint(), "sendonly", pcmu, 77))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[uint32]int{}
	sb, err := b.NewSession(false, func(p *rtp.Packet) {
		mu.Lock()
		seen[p.SSRC]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start(offer.Remote, nil); err != nil {
		t.Fatal(err)
	}
	ans, err := ParseSDP(WriteAnswer(Answer{Offer: offer, Local: sb.Local(), Fingerprint: b.Fingerprint(), Direction: "recvonly",
		Formats: pcmu, Candidates: []netip.AddrPort{b.Addr()}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := da.Start(ans.Remote, ans.Candidates); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, da, sb)
	const sources = 200
	bad := b.Stats.BadSRTP.Load()
	for ssrc := uint32(1); ssrc <= sources; ssrc++ {
		sendAudio(t, da, &rtp.Header{Version: 2, SSRC: ssrc}, 1)
	}
	testwait.For(t, 5*time.Second, "the sources past the bound refused", func() bool {
		return b.Stats.BadSRTP.Load() == bad+sources-maxSSRCs
	})
	mu.Lock()
	taken := len(seen)
	mu.Unlock()
	if taken != maxSSRCs {
		t.Fatalf("%d sources taken, want %d", taken, maxSSRCs)
	}
	h := rtp.Header{Version: 2, SSRC: 1, SequenceNumber: 1}
	sendAudio(t, da, &h, 5)
	testwait.For(t, 5*time.Second, "a taken source to flow on", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[1] == 6
	})
}

// TestTruncatedDatagram: a datagram longer than the reader's buffer
// (truncated by recvmmsg) from the validated address is dropped whole,
// not handed on as its first 1500 bytes: the SRTP-looking one after it
// from a stranger is counted, it is not.
func TestTruncatedDatagram(t *testing.T) {
	a, b := listenT(t, Config{Readers: 1}), listenT(t, Config{Readers: 1})
	var gotA, gotB atomic.Int64
	dialPair(t, a, b, &gotA, &gotB)
	big := make([]byte, maxDatagram+100)
	big[0] = 0x80
	unknown, bad := b.Stats.Unknown.Load(), b.Stats.BadSRTP.Load()
	if err := a.socks[0].writeTo(big, b.Addr()); err != nil {
		t.Fatal(err)
	}
	send(t, udpT(t), b.Addr(), big[:100]) // one socket: read in this order
	testwait.For(t, 5*time.Second, "the stranger's datagram", func() bool { return b.Stats.Unknown.Load() == unknown+1 })
	if n := b.Stats.BadSRTP.Load() - bad; n != 0 {
		t.Fatalf("the truncated datagram was taken as SRTP (%d)", n)
	}
}

// TestBoundKeepsRoute: a peer checking from more addresses than a
// session keeps (maxBound) loses the oldest ones, never the nominated
// one media goes to.
func TestBoundKeepsRoute(t *testing.T) {
	p := listenT(t, Config{Readers: 1})
	s := startedSession(t, p, func(*rtp.Packet) {})
	l := s.Local()
	user := l.Ufrag + ":" + remoteParams.Ufrag
	check := func(c *net.UDPConn, nominate bool) {
		t.Helper()
		setters := []stun.Setter{stun.TransactionID, stun.BindingRequest, stun.NewUsername(user),
			ice.PriorityAttr(0x6e0001ff), ice.AttrControlling(42)}
		if nominate {
			setters = append(setters, ice.UseCandidate())
		}
		m, err := stun.Build(append(setters, stun.NewShortTermIntegrity(l.Pwd), stun.Fingerprint)...)
		if err != nil {
			t.Fatal(err)
		}
		send(t, c, p.Addr(), m.Raw)
		buf := make([]byte, 1500)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(buf); err != nil { // the answer: the check was taken
			t.Fatalf("no answer to a valid check: %v", err)
		}
	}
	route := udpT(t)
	check(route, true)
	others := make([]*net.UDPConn, maxBound+2)
	for i := range others {
		others[i] = udpT(t)
		check(others[i], false)
	}
	if got := p.session(addrOf(route)); got != s {
		t.Fatalf("the nominated address was evicted from its session (%v)", got)
	}
	if got := s.path.Load().addr; got != addrOf(route) {
		t.Fatalf("media goes to %v, want the nominated %v", got, addrOf(route))
	}
	if p.session(addrOf(others[0])) != nil || p.session(addrOf(others[len(others)-1])) != s {
		t.Fatalf("want the oldest unnominated address gone and the newest bound")
	}
}
