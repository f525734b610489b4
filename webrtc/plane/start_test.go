package plane

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/stun/v4"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// TestUnansweredDial: a dialling session whose candidates never answer
// keeps at most maxCandidates checks in flight however many candidates
// it is given and however many rounds it sends, and none once it has
// expired.
func TestUnansweredDial(t *testing.T) {
	t.Parallel()
	p := listenT(t, Config{Handshake: time.Second, Readers: 1})
	hole := udpT(t)
	cands := make([]netip.AddrPort, 3*maxCandidates)
	for i := range cands {
		cands[i] = addrOf(hole)
	}
	s, err := p.NewSession(true, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(remoteParams, cands); err != nil {
		t.Fatal(err)
	}
	most := 0
	testwait.For(t, 5*time.Second, "the session to expire", func() bool {
		p.mu.RLock()
		most = max(most, len(p.byTx))
		p.mu.RUnlock()
		return isDone(s)
	})
	if most == 0 || most > maxCandidates {
		t.Errorf("at most %d checks in flight, want 1 to %d", most, maxCandidates)
	}
	p.mu.RLock()
	left := len(p.byTx)
	p.mu.RUnlock()
	if left != 0 {
		t.Errorf("%d checks still in flight after the session ended", left)
	}
	if n := p.Stats.Expired.Load(); n != 1 {
		t.Errorf("Expired %d, want 1", n)
	}
}

// TestStartOnce: a second Start, a Start after Close and a Start on a
// closed plane are refused (a second dial goroutine would race the
// first on the peer's parameters; one after Plane.Close would be added
// to a WaitGroup already waited on).
func TestStartOnce(t *testing.T) {
	p := listenT(t, Config{Readers: 1})
	hole := []netip.AddrPort{addrOf(udpT(t))}
	s, err := p.NewSession(true, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(remoteParams, hole); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(remoteParams, hole); err == nil {
		t.Error("a second Start was taken")
	}
	closed, err := p.NewSession(true, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if err := closed.Start(remoteParams, hole); err == nil {
		t.Error("Start after Close was taken")
	}
	late, err := p.NewSession(true, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	closeWithin(t, p, 5*time.Second)
	if err := late.Start(remoteParams, hole); err == nil {
		t.Error("Start on a closed plane was taken")
	}
	if _, err := p.NewSession(false, func(*rtp.Packet) {}); err == nil {
		t.Error("NewSession on a closed plane")
	}
}

// TestCheckedAfterEnd: a check taken for a session that ended
// meanwhile (looked up just before) makes it no pipe, route, binding or
// handshake goroutine.
func TestCheckedAfterEnd(t *testing.T) {
	p := listenT(t, Config{Readers: 1})
	s := startedSession(t, p, func(*rtp.Packet) {})
	s.Close()
	from := addrOf(udpT(t))
	if s.checked(p.socks[0], from, true) {
		t.Error("an ended session took a check")
	}
	s.mu.Lock()
	pp, bound := s.pipe, len(s.bound)
	s.mu.Unlock()
	if pp != nil || bound != 0 || s.path.Load() != nil || p.session(from) != nil {
		t.Fatalf("an ended session took a check: pipe %v, %d bound, route %v", pp != nil, bound, s.path.Load())
	}
}

// TestForgedAnswer: a Binding success naming a dialling session's check
// in flight but from another address, or unsigned, is refused and does
// not cancel the check: the real answer is still taken.
func TestForgedAnswer(t *testing.T) {
	p := listenT(t, Config{Readers: 1})
	s, err := p.NewSession(true, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	peer, forger := addrOf(udpT(t)), addrOf(udpT(t))
	// Started by hand: no dial goroutine rotating the transactions.
	s.remote = remoteParams
	s.started.Store(true)
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest)
	p.mu.Lock()
	p.byTx[req.TransactionID] = txEntry{s: s, to: peer}
	p.mu.Unlock()
	answerFor := func(pwd string) []byte {
		return stun.MustBuild(stun.NewTransactionIDSetter(req.TransactionID), stun.BindingSuccess,
			&stun.XORMappedAddress{IP: p.Addr().Addr().AsSlice(), Port: int(p.Addr().Port())},
			stun.NewShortTermIntegrity(pwd), stun.Fingerprint).Raw
	}
	var in inbound
	checks := p.Stats.BadChecks.Load()
	p.dispatch(p.socks[0], &in, answerFor(remoteParams.Pwd), forger)
	p.dispatch(p.socks[0], &in, answerFor("a guess at the password"), peer)
	if n := p.Stats.BadChecks.Load() - checks; n != 2 {
		t.Fatalf("%d forged answers refused, want 2", n)
	}
	if p.session(forger) != nil || p.session(peer) != nil {
		t.Fatal("a forged answer bound an address")
	}
	p.dispatch(p.socks[0], &in, answerFor(remoteParams.Pwd), peer)
	if p.session(peer) != s {
		t.Fatal("the real answer was not taken after the forged ones")
	}
	p.mu.RLock()
	_, left := p.byTx[req.TransactionID]
	p.mu.RUnlock()
	if left {
		t.Error("the answered check is still in flight")
	}
}

// TestLiveAddressNotTaken: a session's peer signing a check with its own
// session's password from another live session's address (spoofed, or
// behind the same NAT mapping) is refused — no answer, BadChecks — and
// the address stays with the session it was bound to, whose audio flows
// on. Once the holder has had no check for half of Consent, an address
// moves (a NAT reusing the port for a new peer).
func TestLiveAddressNotTaken(t *testing.T) {
	a, b := listenT(t, Config{Readers: 1}), listenT(t, Config{Readers: 1})
	var gotA, gotB atomic.Int64
	da, sb := dialPair(t, a, b, &gotA, &gotB)
	thief, err := b.NewSession(false, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := thief.Start(remoteParams, nil); err != nil {
		t.Fatal(err)
	}
	l := thief.Local()
	check := stunCheck(t, l.Ufrag+":"+remoteParams.Ufrag, l.Pwd, true, true).Raw
	checks := b.Stats.BadChecks.Load()
	victim := a.socks[0] // the dialler's port: sb's peer address
	if err := victim.writeTo(check, b.Addr()); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the check refused", func() bool { return b.Stats.BadChecks.Load() == checks+1 })
	if got := b.session(a.Addr()); got != sb {
		t.Fatalf("the live session's address went to %p (victim %p, thief %p)", got, sb, thief)
	}
	sendAudio(t, da, &rtp.Header{Version: 2, SSRC: 5}, 10)
	testwait.For(t, 5*time.Second, "the victim's audio", func() bool { return gotB.Load() == 10 })

	// A holder gone quiet: c's address is bound to idle by a check, and
	// taken by next once idle has had none for half of Consent.
	b = listenT(t, Config{Readers: 1, Consent: time.Second})
	idle, err := b.NewSession(false, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	next, err := b.NewSession(false, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Session{idle, next} {
		if err := s.Start(remoteParams, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := udpT(t)
	il, nl := idle.Local(), next.Local()
	send(t, c, b.Addr(), stunCheck(t, il.Ufrag+":"+remoteParams.Ufrag, il.Pwd, true, true).Raw)
	testwait.For(t, 5*time.Second, "the first session bound", func() bool { return b.session(addrOf(c)) == idle })
	bound := time.Unix(0, idle.lastCheck.Load())
	testwait.For(t, 5*time.Second, "the address to move once the holder is quiet", func() bool {
		send(t, c, b.Addr(), stunCheck(t, nl.Ufrag+":"+remoteParams.Ufrag, nl.Pwd, true, true).Raw)
		return b.session(addrOf(c)) == next
	})
	if took := time.Since(bound); took < 500*time.Millisecond {
		t.Errorf("moved after %v, before half of Consent", took)
	}
}
