package plane

import (
	"net/netip"
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
	s, err := p.NewSession(false, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(remoteParams, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	from := addrOf(udpT(t))
	s.checked(p.socks[0], from, true)
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
