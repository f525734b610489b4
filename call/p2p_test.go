package call

import (
	"errors"
	"testing"
	"time"
)

// TestP2PMode: a call is p2p only between two direct (RTMFP) devices that
// both reported peer IDs and are not under the no-p2p policy; p2pFailed
// switches it to relay once, telling both parties.
func TestP2PMode(t *testing.T) {
	for _, tc := range []struct {
		name             string
		directA, directB bool
		peerA, peerB     string
		noP2P            []string
		disable          bool
		want             string
	}{
		{"both rtmfp", true, true, "pa", "pb", nil, false, ModeP2P},
		{"caller on rtmp", false, true, "pa", "pb", nil, false, ModeRelay},
		{"callee reported no peer id", true, true, "pa", "", nil, false, ModeRelay},
		{"callee under no-p2p policy", true, true, "pa", "pb", []string{"bob"}, false, ModeRelay},
		{"p2p disabled", true, true, "pa", "pb", nil, true, ModeRelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewService(Options{RingTimeout: time.Minute, NoP2P: tc.noP2P, DisableP2P: tc.disable}, "alice", "bob")
			t.Cleanup(s.Close)
			ra, rb := newReader(t, s, "alice"), newReader(t, s, "bob")
			a, b := s.Attach("alice", KindRTMP), s.Attach("bob", KindRTMP)
			if tc.directA {
				s.SetDirect(a)
			}
			if tc.directB {
				s.SetDirect(b)
			}
			id, err := s.Invite(a, "bob", tc.peerA)
			if err != nil {
				t.Fatal(err)
			}
			if e := rb.expect(EvIncoming, ""); e.PeerID != "" {
				t.Errorf("incoming carries the caller's peer ID %q before any answer", e.PeerID)
			}
			ra.expect(EvRinging, "")
			if st, err := s.CallState(b, id); err != nil || st.State != StateRinging || st.Mode != "" {
				t.Errorf("ringing record %+v, %v", st, err)
			}
			acc, err := s.Accept(b, id, tc.peerB)
			if err != nil {
				t.Fatal(err)
			}
			// Peer IDs (addresses) are handed over only for a p2p call.
			wantA, wantB := "", ""
			if tc.want == ModeP2P {
				wantA, wantB = tc.peerA, tc.peerB
			}
			if ea := ra.expect(EvAccepted, ""); acc.Mode != tc.want || ea.Mode != tc.want || ea.PeerID != wantB || acc.PeerID != wantA {
				t.Fatalf("accepted: caller %+v callee %+v, want mode %s", ea, acc, tc.want)
			}
			if got := s.P2PPeers(tc.peerB, tc.peerA); got != (tc.want == ModeP2P) {
				t.Errorf("P2PPeers(callee, caller) = %v in mode %s", got, tc.want)
			}
			if s.P2PPeers("intruder", tc.peerA) || s.P2PPeers(tc.peerA, "") {
				t.Error("P2PPeers introduces someone who is not the other party")
			}
			rb.expect(EvAccepted, "")
			if st, err := s.CallState(a, id); err != nil || s.Mode(id) != tc.want || st != (State{Call: id, From: "alice", To: "bob", State: StateActive, Mode: tc.want}) {
				t.Errorf("call record %+v, %v; mode %q", st, err, s.Mode(id))
			}
			if err := s.P2PFailed(a, id); err != nil {
				t.Fatal(err)
			}
			if s.P2PPeers(tc.peerA, tc.peerB) {
				t.Error("P2PPeers still true after the call fell back to relay")
			}
			if tc.want == ModeP2P {
				for _, r := range []*reader{ra, rb} {
					if e := r.expect(EvMedia, ReasonP2PFailed); e.Mode != ModeRelay || e.By != "alice" {
						t.Errorf("media event %+v", e)
					}
				}
				if st := s.CallStates("bob"); len(st) != 1 || st[0].Mode != ModeRelay || !st[0].FellBack {
					t.Errorf("record after the fallback %+v", st)
				}
				if s.Stats().P2PCalls.Load() != 1 || s.Stats().P2PFallbacks.Load() != 1 {
					t.Errorf("stats %d calls %d fallbacks", s.Stats().P2PCalls.Load(), s.Stats().P2PFallbacks.Load())
				}
			}
			if err := s.P2PFailed(b, id); err != nil || s.Mode(id) != ModeRelay || s.Stats().P2PFallbacks.Load() > 1 {
				t.Errorf("second p2pFailed: %v, mode %s", err, s.Mode(id))
			}
			if err := s.Hangup(a, id); err != nil {
				t.Fatal(err)
			}
			// The bye records the mode that carried the media at the end.
			if e := ra.expect(EvBye, ReasonHangup); e.Call != id || e.Mode != ModeRelay {
				t.Errorf("bye %+v", e)
			}
			if _, err := s.CallState(a, id); !errors.Is(err, ErrNoCall) || len(s.CallStates("alice")) != 0 {
				t.Errorf("ended call still recorded: %v", err)
			}
		})
	}
}
