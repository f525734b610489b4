package call

import (
	"errors"
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
