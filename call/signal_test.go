package call

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestBrowserP2PMode: a call is p2p between two pages only when both are
// HTTP devices that reported PeerWebRTC and p2p is allowed for both users.
func TestBrowserP2PMode(t *testing.T) {
	for _, tc := range []struct {
		name         string
		kindB        string
		peerA, peerB string
		noP2P        []string
		disable      bool
		want         string
	}{
		{"two pages", KindHTTP, PeerWebRTC, PeerWebRTC, nil, false, ModeP2P},
		{"page and rtmp phone", KindRTMP, PeerWebRTC, PeerWebRTC, nil, false, ModeRelay},
		{"callee page without webrtc", KindHTTP, PeerWebRTC, "", nil, false, ModeRelay},
		{"callee under no-p2p", KindHTTP, PeerWebRTC, PeerWebRTC, []string{"bob"}, false, ModeRelay},
		{"p2p disabled", KindHTTP, PeerWebRTC, PeerWebRTC, nil, true, ModeRelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewService(Options{RingTimeout: time.Minute, NoP2P: tc.noP2P, DisableP2P: tc.disable}, "alice", "bob")
			t.Cleanup(s.Close)
			a, _ := s.HTTPBegin("alice")
			b := s.Attach("bob", tc.kindB)
			if tc.kindB == KindHTTP {
				b, _ = s.HTTPBegin("bob")
			}
			id, err := s.Invite(a, "bob", tc.peerA)
			if err != nil {
				t.Fatal(err)
			}
			acc, err := s.Accept(b, id, tc.peerB)
			if err != nil {
				t.Fatal(err)
			}
			if acc.Mode != tc.want {
				t.Fatalf("mode %q, want %q", acc.Mode, tc.want)
			}
			err = s.Signal(a, id, `{"type":"offer"}`)
			if (tc.want == ModeP2P) != (err == nil) {
				t.Fatalf("signal in a %s call: %v", acc.Mode, err)
			}
			if s.P2PPeers(PeerWebRTC, PeerWebRTC) {
				t.Fatal("the RTMFP rendezvous would introduce two pages")
			}
		})
	}
}

// TestSignal: signals reach only the other party, as sent; nobody else
// may send; a fallback to relay stops them; floods are refused.
func TestSignal(t *testing.T) {
	now := time.Unix(1000, 0)
	s := NewService(Options{RingTimeout: time.Minute, Now: func() time.Time { return now }}, "alice", "bob", "carol")
	t.Cleanup(s.Close)
	ra, rb := newReader(t, s, "alice"), newReader(t, s, "bob")
	a, _ := s.HTTPBegin("alice")
	b, _ := s.HTTPBegin("bob")
	c, _ := s.HTTPBegin("carol")
	id, err := s.Invite(a, "bob", PeerWebRTC)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(b, id, PeerWebRTC); err != nil {
		t.Fatal(err)
	}
	ra.expect(EvRinging, "")
	ra.expect(EvAccepted, "")
	rb.expect(EvIncoming, "")
	rb.expect(EvAccepted, "")

	if err := s.Signal(a, id, `{"type":"offer","sdp":"v=0"}`); err != nil {
		t.Fatal(err)
	}
	if e := rb.expect(EvSignal, ""); e.Signal != `{"type":"offer","sdp":"v=0"}` || e.By != "alice" {
		t.Fatalf("bob got %+v", e)
	}
	if err := s.Signal(b, id, `{"type":"answer"}`); err != nil {
		t.Fatal(err)
	}
	if e := ra.expect(EvSignal, ""); e.Signal != `{"type":"answer"}` || e.By != "bob" {
		t.Fatalf("alice got %+v", e)
	}
	for _, tc := range []struct {
		name string
		d    *Device
		id   string
		data string
		want error
	}{
		{"not a party", c, id, "{}", ErrNotParty},
		{"unknown call", a, "nope", "{}", ErrNoCall},
		{"empty", a, id, "", ErrBadSignal},
		{"too large", a, id, strings.Repeat("x", MaxSignalBytes+1), ErrBadSignal},
	} {
		if err := s.Signal(tc.d, tc.id, tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	// A burst beyond the bucket is refused; time refills it; the total is bounded.
	sent := 1
	for ; sent < 2*signalBurst; sent++ {
		if err := s.Signal(a, id, "{}"); err != nil {
			if !errors.Is(err, ErrSignalLimit) {
				t.Fatal(err)
			}
			break
		}
	}
	if sent != signalBurst {
		t.Fatalf("burst of %d signals passed, want %d", sent, signalBurst)
	}
	for i := 0; i < 2*maxSignals; i++ {
		now = now.Add(time.Second)
		if err := s.Signal(a, id, "{}"); err != nil {
			if !errors.Is(err, ErrSignalLimit) || i < maxSignals-signalBurst-1 {
				t.Fatalf("signal %d: %v", i, err)
			}
			break
		}
	}
	if err := s.Signal(a, id, "{}"); !errors.Is(err, ErrSignalLimit) {
		t.Fatalf("after %d signals: %v", maxSignals, err)
	}

	// After the fallback, no more signals: the call relays.
	if err := s.P2PFailed(b, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Signal(b, id, "{}"); !errors.Is(err, ErrState) {
		t.Fatalf("signal after the fallback: %v", err)
	}
	if st, _ := s.CallState(a, id); st.Mode != ModeRelay || !st.FellBack {
		t.Fatalf("after the fallback %+v", st)
	}
}
