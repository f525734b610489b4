package call

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestZeroExternal: a handle InviteExternal did not issue (a refused
// invitation's) is no call, and says so instead of panicking.
func TestZeroExternal(t *testing.T) {
	var x External
	if err := x.Ringing(); !errors.Is(err, ErrNoCall) {
		t.Fatalf("Ringing: %v", err)
	}
	if _, err := x.Answer(); !errors.Is(err, ErrNoCall) {
		t.Fatalf("Answer: %v", err)
	}
	if err := x.Hangup(ReasonHangup); !errors.Is(err, ErrNoCall) {
		t.Fatalf("Hangup: %v", err)
	}
}

// TestInviteExternalHandle: the handle of an invitation from a gateway
// ends the call it names, and only that one.
func TestInviteExternalHandle(t *testing.T) {
	s := newTestService(time.Minute)
	rb := newReader(t, s, "bob")
	s.Attach("bob", KindRTMP)
	x, reason, err := s.InviteExternal("ext:15550001", "bob", legFunc(func(Event) {}))
	if err != nil || reason != "" || x.ID == "" {
		t.Fatalf("invite: %+v %q %v", x, reason, err)
	}
	rb.expect(EvIncoming, "")
	if err := x.Hangup(ReasonCanceled); err != nil {
		t.Fatal(err)
	}
	if e := rb.expect(EvCanceled, ReasonCanceled); e.Call != x.ID {
		t.Fatalf("cancelled %s, want %s", e.Call, x.ID)
	}
	if err := x.Hangup(ReasonCanceled); !errors.Is(err, ErrNoCall) {
		t.Fatalf("second hangup: %v", err)
	}
	if _, reason, _ := s.InviteExternal("ext:1", "carol", legFunc(func(Event) {})); reason != ReasonOffline {
		t.Fatalf("offline callee: %q", reason)
	}
}

type legFunc func(Event)

func (f legFunc) Event(e Event) { f(e) }

// TestInviteExternalKindRecord: a gateway's caller whose transport is
// known (a user of another node of a cluster) is recorded with it; one
// through InviteExternal is a SIP party; the leg learns the answering
// device's kind. Dial learns the calling user's device kind, and a callee
// answered through AnswerKind is recorded with that kind.
func TestInviteExternalKindRecord(t *testing.T) {
	var recs records
	gw := &kindGateway{}
	s := NewService(Options{Records: &recs, Gateway: gw}, "alice", "bob")
	defer s.Close()
	bob := s.Attach("bob", KindHTTP)
	for _, tc := range []struct{ kind, want string }{{KindRTMPT, KindRTMPT}, {"", KindSIP}} {
		var x External
		var err error
		var told Event // the accepted the gateway's leg gets
		leg := legFunc(func(e Event) {
			if e.Type == EvAccepted {
				told = e
			}
		})
		if tc.kind == "" {
			x, _, err = s.InviteExternal("+15550100", "bob", leg)
		} else {
			x, _, err = s.InviteExternalKind("alice", tc.kind, "bob", leg)
		}
		if err != nil || x.ID == "" {
			t.Fatalf("invite %q: %v", tc.kind, err)
		}
		if _, err := s.Accept(bob, x.ID, ""); err != nil {
			t.Fatal(err)
		}
		if told.Kind != KindHTTP {
			t.Errorf("the leg's accepted names the kind %q, want bob's %s", told.Kind, KindHTTP)
		}
		if err := s.Hangup(bob, x.ID); err != nil {
			t.Fatal(err)
		}
		if r := recs[len(recs)-1]; r.Call != x.ID || r.FromKind != tc.want || r.ToKind != KindHTTP {
			t.Errorf("record of a call from kind %q: %+v, want from %s", tc.kind, r, tc.want)
		}
	}
	alice := s.Attach("alice", KindRTMFP)
	id, err := s.Invite(alice, "+15550199", "")
	if err != nil {
		t.Fatal(err)
	}
	if gw.x.UserKind != KindRTMFP {
		t.Fatalf("Dial's UserKind %q, want %s", gw.x.UserKind, KindRTMFP)
	}
	// Answered by a device the gateway names (another node's user on RTMPT).
	if _, err := gw.x.AnswerKind(KindRTMPT); err != nil {
		t.Fatal(err)
	}
	if err := s.Hangup(alice, id); err != nil {
		t.Fatal(err)
	}
	if r := recs[len(recs)-1]; r.Call != id || r.FromKind != KindRTMFP || r.ToKind != KindRTMPT {
		t.Errorf("record of alice's call answered as rtmpt: %+v", r)
	}
}

// kindGateway routes numbers and keeps the handle Dial got.
type kindGateway struct{ x External }

func (g *kindGateway) Routes(to string) bool { return strings.HasPrefix(to, "+") }

func (g *kindGateway) Dial(x External, _, _ string) (Leg, error) {
	g.x = x
	return legFunc(func(Event) {}), nil
}
