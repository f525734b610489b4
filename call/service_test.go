package call

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flashvox/flashvox/events"
	"github.com/flashvox/flashvox/presence"
)

// reader follows one user's log from its head, as a device does.
type reader struct {
	t      *testing.T
	log    *events.Log
	cursor uint64
}

func newReader(t *testing.T, s *Service, user string) *reader {
	l := s.Log(user)
	return &reader{t: t, log: l, cursor: l.Head()}
}

// next returns the next event that is not presence, waiting up to 2 s.
func (r *reader) next() Event {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for {
		p, err := r.log.Wait(ctx, r.cursor, 1)
		if err != nil {
			r.t.Fatalf("no event within 2s: %v", err)
		}
		r.cursor = p.Next
		if e, ok := p.Events[0].Event.(Event); ok {
			return e // presence events skipped
		}
	}
}

func (r *reader) expect(typ, reason string) Event {
	r.t.Helper()
	e := r.next()
	if e.Type != typ || e.Reason != reason {
		r.t.Fatalf("got %s/%s, want %s/%s (%+v)", e.Type, e.Reason, typ, reason, e)
	}
	return e
}

func newTestService(ring time.Duration) *Service {
	return NewService(Options{RingTimeout: ring}, "alice", "bob", "carol")
}

func TestCallAcceptAndHangup(t *testing.T) {
	s := newTestService(time.Minute)
	ra, rb := newReader(t, s, "alice"), newReader(t, s, "bob")
	a, b := s.Attach("alice", KindRTMP), s.Attach("bob", KindRTMP)
	id, err := s.Invite(a, "bob", "peerA")
	if err != nil {
		t.Fatal(err)
	}
	if e := rb.expect(EvIncoming, ""); e.Call != id || e.From != "alice" || e.PeerID != "" {
		t.Fatalf("incoming: %+v", e)
	}
	ra.expect(EvRinging, "")
	if got := s.Presence(); got["alice"] != Busy || got["bob"] != Busy || got["carol"] != Offline {
		t.Fatalf("presence while ringing: %v", got)
	}
	if _, err := s.Accept(a, id, ""); !errors.Is(err, ErrState) {
		t.Fatalf("caller accepting: %v", err)
	}
	acc, err := s.Accept(b, id, "peerB")
	if err != nil {
		t.Fatal(err)
	}
	ea := ra.expect(EvAccepted, "")
	eb := rb.expect(EvAccepted, "")
	if eb != acc || ea.Publish != eb.Play || ea.Play != eb.Publish || ea.Publish == ea.Play || len(ea.Publish) != 32 {
		t.Fatalf("names: caller %+v callee %+v", ea, eb)
	}
	if ea.Mode != ModeRelay || ea.PeerID != "" || eb.PeerID != "" || ea.Device != b.ID { // relayed: no peer IDs
		t.Fatalf("mode/peer ids: %+v %+v", ea, eb)
	}
	// Stream rules: each party publishes its own name and plays the other's.
	for _, tc := range []struct {
		user, name string
		publish    bool
		ok         bool
	}{
		{"alice", ea.Publish, true, true}, {"alice", ea.Play, false, true},
		{"bob", eb.Publish, true, true}, {"bob", eb.Play, false, true},
		{"alice", ea.Play, true, false}, {"bob", eb.Play, true, false},
		{"carol", ea.Publish, false, false}, {"carol", ea.Publish, true, false},
		{"alice", "guess", false, false},
	} {
		key, err := s.StreamKey(tc.user, tc.name, tc.publish)
		if (err == nil) != tc.ok || (tc.ok && key != "phone/"+tc.name) {
			t.Errorf("%s publish=%v %s: key %q err %v", tc.user, tc.publish, tc.name, key, err)
		}
	}
	if err := s.DTMF(a, id, "12#"); err != nil {
		t.Fatal(err)
	}
	if e := rb.next(); e.Type != EvDTMF || e.Digits != "12#" || e.By != "alice" {
		t.Fatalf("dtmf: %+v", e)
	}
	if err := s.DTMF(a, id, "x"); !errors.Is(err, ErrBadDTMF) {
		t.Fatalf("bad dtmf: %v", err)
	}
	if err := s.Hangup(b, id); err != nil {
		t.Fatal(err)
	}
	if e := ra.expect(EvBye, ReasonHangup); e.By != "bob" {
		t.Fatalf("bye: %+v", e)
	}
	rb.expect(EvBye, ReasonHangup)
	if _, err := s.StreamKey("alice", ea.Publish, true); !errors.Is(err, ErrStreamDenied) {
		t.Fatalf("names must die with the call: %v", err)
	}
	if err := s.Hangup(a, id); !errors.Is(err, ErrNoCall) {
		t.Fatalf("second hangup: %v", err)
	}
	if got := s.Presence(); got["alice"] != Online || got["bob"] != Online {
		t.Fatalf("presence after: %v", got)
	}
}

func TestCallFailures(t *testing.T) {
	s := newTestService(100 * time.Millisecond)
	ra, rb := newReader(t, s, "alice"), newReader(t, s, "bob")
	a, b := s.Attach("alice", KindRTMP), s.Attach("bob", KindRTMP)

	t.Run("reject", func(t *testing.T) {
		id, _ := s.Invite(a, "bob", "")
		rb.expect(EvIncoming, "")
		ra.expect(EvRinging, "")
		if err := s.Reject(a, id, ""); !errors.Is(err, ErrState) {
			t.Fatalf("caller rejecting: %v", err)
		}
		if err := s.Reject(b, id, "whatever"); err != nil {
			t.Fatal(err)
		}
		ra.expect(EvRejected, ReasonRejected)
		rb.expect(EvRejected, ReasonRejected)
	})
	t.Run("cancel", func(t *testing.T) {
		id, _ := s.Invite(a, "bob", "")
		rb.expect(EvIncoming, "")
		ra.expect(EvRinging, "")
		if err := s.Hangup(a, id); err != nil {
			t.Fatal(err)
		}
		rb.expect(EvCanceled, ReasonCanceled)
		ra.expect(EvCanceled, ReasonCanceled)
		if _, err := s.Accept(b, id, ""); !errors.Is(err, ErrNoCall) {
			t.Fatalf("accepting a cancelled call: %v", err)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		start := time.Now()
		s.Invite(a, "bob", "")
		rb.expect(EvIncoming, "")
		ra.expect(EvRinging, "")
		rb.expect(EvCanceled, ReasonNoAnswer)
		ra.expect(EvCanceled, ReasonNoAnswer)
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Fatalf("ended after %v, before the ring timeout", d)
		}
	})
	t.Run("offline", func(t *testing.T) {
		s.Invite(a, "carol", "")
		ra.expect(EvRejected, ReasonOffline)
		s.Invite(a, "nobody", "")
		ra.expect(EvRejected, ReasonOffline)
	})
	t.Run("busy", func(t *testing.T) {
		c := s.Attach("carol", KindRTMP)
		defer s.Detach(c)
		rc := newReader(t, s, "carol")
		id, _ := s.Invite(a, "bob", "")
		rb.expect(EvIncoming, "")
		ra.expect(EvRinging, "")
		s.Invite(c, "bob", "")
		rc.expect(EvRejected, ReasonBusy)
		if _, err := s.Invite(a, "carol", ""); !errors.Is(err, ErrInCall) {
			t.Fatalf("second call while in one: %v", err)
		}
		if _, err := s.Invite(a, "alice", ""); !errors.Is(err, ErrSelfCall) {
			t.Fatalf("self call: %v", err)
		}
		if err := s.Hangup(c, id); !errors.Is(err, ErrNotParty) {
			t.Fatalf("third party hangup: %v", err)
		}
		s.Hangup(a, id)
		rb.expect(EvCanceled, ReasonCanceled)
		ra.expect(EvCanceled, ReasonCanceled)
	})
	t.Run("device gone mid-call", func(t *testing.T) {
		id, _ := s.Invite(a, "bob", "")
		rb.expect(EvIncoming, "")
		ra.expect(EvRinging, "")
		if _, err := s.Accept(b, id, ""); err != nil {
			t.Fatal(err)
		}
		ra.expect(EvAccepted, "")
		rb.expect(EvAccepted, "")
		s.Detach(b)
		if e := ra.expect(EvBye, ReasonGone); e.By != "bob" {
			t.Fatalf("%+v", e)
		}
		rb.expect(EvBye, ReasonGone)
		if got := s.Presence()["bob"]; got != Offline {
			t.Fatalf("bob presence %s", got)
		}
	})
}

func TestFirstAcceptWins(t *testing.T) {
	s := newTestService(time.Minute)
	ra, rb := newReader(t, s, "alice"), newReader(t, s, "bob")
	a := s.Attach("alice", KindRTMP)
	b1, b2 := s.Attach("bob", KindRTMP), s.Attach("bob", KindRTMP)
	id, _ := s.Invite(a, "bob", "")
	rb.expect(EvIncoming, "")
	ra.expect(EvRinging, "")
	if _, err := s.Accept(b2, id, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Accept(b1, id, ""); !errors.Is(err, ErrAnswered) {
		t.Fatalf("second accept: %v", err)
	}
	if e := rb.expect(EvAccepted, ""); e.Device != b2.ID {
		t.Fatalf("accepted names the answering device: %+v", e)
	}
	// The other device going away does not end the call; the answering one does.
	s.Detach(b1)
	if s.Presence()["bob"] != Busy {
		t.Fatal("bob must stay busy")
	}
	s.Detach(b2)
	ra.expect(EvAccepted, "")
	ra.expect(EvBye, ReasonGone)
}

func TestPresenceEvents(t *testing.T) {
	s := newTestService(time.Minute)
	l := s.Log("carol")
	s.Attach("alice", KindRTMP)
	p := l.Since(l.Head()-1, 0)
	if len(p.Events) != 1 || p.Events[0].Event != (presence.Event{User: "alice", Status: Online}) {
		t.Fatalf("%+v", p)
	}
}

func TestHTTPDeviceExpires(t *testing.T) {
	s := NewService(Options{HTTPPresenceTimeout: 30 * time.Millisecond}, "alice")
	r := newReader(t, s, "bob")
	d, done := s.HTTPBegin("alice")
	d2, done2 := s.HTTPBegin("alice")
	if d != d2 || s.Presence()["alice"] != Online {
		t.Fatal("one HTTP device per user")
	}
	done()
	done2()
	deadline := time.Now().Add(2 * time.Second)
	for s.Presence()["alice"] != Offline {
		if time.Now().After(deadline) {
			t.Fatal("HTTP device did not expire")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		r.log.Wait(ctx, r.cursor, 0)
		r.cursor = r.log.Head()
		cancel()
	}
}
