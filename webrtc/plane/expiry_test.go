package plane

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// closeWithin closes p and fails t if that takes longer than within: a
// goroutine of the plane's (a session's handshake) did not end.
func closeWithin(t *testing.T, p *Plane, within time.Duration) {
	t.Helper()
	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	testwait.For(t, within, "the plane to close (its goroutines to end)", func() bool {
		select {
		case <-closed:
			return true
		default:
			return false
		}
	})
}

// TestHandshakeTimeout: a started session nobody checks, and one whose
// peer passes ICE but never starts DTLS (its handshake goroutine
// waiting), both end with an error within Config.Handshake (the watch
// ticks once a second), counted Expired; the plane is left empty and its
// goroutines end.
func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	const hs = time.Second
	p := listenT(t, Config{Handshake: hs, Readers: 1})
	silent, err := p.NewSession(false, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := silent.Start(remoteParams, nil); err != nil {
		t.Fatal(err)
	}
	iceOnly, err := p.NewSession(false, func(*rtp.Packet) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := iceOnly.Start(remoteParams, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c := udpT(t)
	l := iceOnly.Local()
	send(t, c, p.Addr(), stunCheck(t, l.Ufrag+":"+remoteParams.Ufrag, l.Pwd, true, true).Raw)
	testwait.For(t, 5*time.Second, "the check to bind its address", func() bool { return p.session(addrOf(c)) == iceOnly })
	testwait.For(t, hs+3*time.Second, "both sessions to end", func() bool { return isDone(silent) && isDone(iceOnly) })
	if took := time.Since(start); took < hs-100*time.Millisecond {
		t.Errorf("ended after %v, before the handshake time %v", took, hs)
	}
	for _, s := range []*Session{silent, iceOnly} {
		if err := s.Err(); err == nil || !strings.Contains(err.Error(), "not done in time") {
			t.Errorf("session ended with %v, want a handshake timeout", err)
		}
	}
	if n := p.Stats.Expired.Load(); n != 2 {
		t.Errorf("Expired %d, want 2", n)
	}
	if n := p.Sessions(); n != 0 {
		t.Errorf("%d sessions left", n)
	}
	if p.session(addrOf(c)) != nil {
		t.Error("the expired session's address is still bound")
	}
	closeWithin(t, p, 5*time.Second)
}

// TestConsentExpiry: two connected pairs on one answering plane with a
// short Consent; one dialler checks every second, the other (a long
// ConsentInterval) stops after connecting. The silent one's answering
// session ends on consent, counted Expired, and sends no more; the
// checking one's lives.
func TestConsentExpiry(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	t.Parallel()
	b := listenT(t, Config{Consent: 2500 * time.Millisecond})
	checking := listenT(t, Config{ConsentInterval: 100 * time.Millisecond})
	silent := listenT(t, Config{ConsentInterval: time.Hour})
	var g1, g2, g3, g4 atomic.Int64
	_, alive := dialPair(t, checking, b, &g1, &g2)
	_, lapsing := dialPair(t, silent, b, &g3, &g4)
	testwait.For(t, 8*time.Second, "the silent peer's session to end", func() bool { return isDone(lapsing) })
	if err := lapsing.Err(); err == nil || !strings.Contains(err.Error(), "consent") {
		t.Fatalf("ended with %v, want consent expiry", err)
	}
	if isDone(alive) {
		t.Fatalf("the checking peer's session ended too: %v", alive.Err())
	}
	// Without consent nothing more is sent to that peer.
	if _, err := lapsing.WriteRTP(&rtp.Header{Version: 2, SSRC: 6}, make([]byte, 160)); err == nil {
		t.Error("a session whose consent lapsed still sends")
	}
	if _, err := alive.WriteRTP(&rtp.Header{Version: 2, SSRC: 6}, make([]byte, 160)); err != nil {
		t.Errorf("the live session cannot send: %v", err)
	}
	if n := b.Stats.Expired.Load(); n != 1 {
		t.Errorf("Expired %d, want 1", n)
	}
	if n := b.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// TestWrongFingerprint: a dialler whose answer carries another
// certificate's fingerprint, and an answerer whose offer does, refuse
// the peer's DTLS certificate: neither pair connects, and the side that
// checked ends naming the fingerprint.
func TestWrongFingerprint(t *testing.T) {
	t.Parallel()
	_, other, err := newCertificate()
	if err != nil {
		t.Fatal(err)
	}
	forged := "sha-256 " + hexColons(other)
	for _, side := range []string{"dialler", "answerer"} {
		a, b := listenT(t, Config{Handshake: 3 * time.Second}), listenT(t, Config{Handshake: 3 * time.Second})
		da, err := a.NewSession(true, func(*rtp.Packet) {})
		if err != nil {
			t.Fatal(err)
		}
		offer := WriteOffer(da.Local(), a.Fingerprint(), "sendrecv", pcmu, 77)
		if side == "answerer" {
			offer = strings.Replace(offer, a.Fingerprint(), forged, 1)
		}
		var got atomic.Int64
		sb, ans := answer(t, b, offer, "sendrecv", &got)
		if side == "dialler" {
			ans = strings.Replace(ans, b.Fingerprint(), forged, 1)
		}
		d, err := ParseSDP(ans)
		if err != nil {
			t.Fatal(err)
		}
		if err := da.Start(d.Remote, d.Candidates); err != nil {
			t.Fatal(err)
		}
		checker := da
		if side == "answerer" {
			checker = sb
		}
		testwait.For(t, 6*time.Second, side+" refusing the certificate", func() bool { return isDone(checker) })
		if err := checker.Err(); !strings.Contains(err.Error(), "fingerprint") {
			t.Errorf("%s ended with %v, want the fingerprint named", side, err)
		}
		for _, s := range []*Session{da, sb} {
			select {
			case <-s.Connected():
				t.Errorf("%s's pair connected", side)
			default:
			}
		}
		testwait.For(t, 6*time.Second, "the other side to end too", func() bool { return isDone(da) && isDone(sb) })
	}
}
