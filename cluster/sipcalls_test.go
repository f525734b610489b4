package cluster

import (
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// sipEvents collects a RemoteCall's events.
type sipEvents struct {
	mu sync.Mutex
	ev []call.Event
}

func (s *sipEvents) add(e call.Event) { s.mu.Lock(); s.ev = append(s.ev, e); s.mu.Unlock() }

func (s *sipEvents) last() call.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ev) == 0 {
		return call.Event{}
	}
	return s.ev[len(s.ev)-1]
}

// TestRingRemote: a trunk's caller on a rings bob on b, for each way the
// call can go; a node that is no party to the call cannot end it.
func TestRingRemote(t *testing.T) {
	a, b := startCallNodes(t)
	if _, ok := a.c.RingRemote("+15550100", "bob", func(call.Event) {}); ok {
		t.Fatal("bob is online nowhere: RingRemote must refuse")
	}
	bob := b.svc.Attach("bob", "rtmp")
	testwait.For(t, 5*time.Second, "a to see bob on b", func() bool { return a.c.Gateway().Routes("bob") })
	incoming := func() string {
		var id string
		testwait.For(t, 5*time.Second, "bob's incoming call", func() bool {
			types, cid := events(b.svc, "bob")
			id = cid
			return len(types) > 0 && types[len(types)-1] == call.EvIncoming
		})
		return id
	}
	var got *sipEvents
	for _, tc := range []struct {
		name string
		do   func(rc *RemoteCall, id string) // what bob or the caller do
		want string                          // the caller's last event
	}{
		{"bob rejects", func(_ *RemoteCall, id string) { _ = b.svc.Reject(bob, id, "") }, call.EvRejected},
		{"caller cancels", func(rc *RemoteCall, _ string) { rc.Hangup(call.ReasonCanceled) }, call.EvRinging},
		{"a stranger's hangup is ignored", func(rc *RemoteCall, _ string) {
			spoof, _ := json.Marshal(callMsg{Op: "hangup", Call: rc.ID(), From: "mallory", Reason: "spoofed"})
			_ = a.c.nc.Publish(subjCallPre+"a", spoof)
			// b's DTMF after it: a subscription's messages arrive in order.
			barrier, _ := json.Marshal(callMsg{Op: "dtmf", Call: rc.ID(), From: "b", Digits: "5"})
			_ = a.c.nc.Publish(subjCallPre+"a", barrier)
			testwait.For(t, 5*time.Second, "b's dtmf", func() bool { return got.last().Type == call.EvDTMF })
			if rc.end() {
				rc.ended = false // still up: the spoofed hangup did nothing
			} else {
				t.Fatal("a stranger node's hangup ended the call")
			}
			rc.Hangup(call.ReasonCanceled)
		}, call.EvDTMF},
		{"bob answers, then hangs up", func(_ *RemoteCall, id string) {
			acc, err := b.svc.Accept(bob, id, "")
			if err != nil {
				t.Fatal(err)
			}
			_ = acc
		}, call.EvAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = &sipEvents{}
			rc, ok := a.c.RingRemote("+15550100", "bob", got.add)
			if !ok {
				t.Fatal("RingRemote refused bob online on b")
			}
			id := incoming()
			testwait.For(t, 5*time.Second, "the caller's ringing", func() bool { return got.last().Type != "" })
			tc.do(rc, id)
			testwait.For(t, 5*time.Second, "the caller's "+tc.want, func() bool { return got.last().Type == tc.want })
			if tc.want == call.EvAccepted {
				acc := got.last()
				if acc.Publish == acc.Play || len(acc.Publish) < len(remoteSIPPrefix)+32 {
					t.Fatalf("keys: publish %q play %q", acc.Publish, acc.Play)
				}
				_ = b.svc.Hangup(bob, id)
				testwait.For(t, 5*time.Second, "the caller's bye", func() bool { return got.last().Type == call.EvBye })
			}
			testwait.For(t, 5*time.Second, "both nodes to forget the call", func() bool {
				types, _ := events(b.svc, "bob")
				a.c.calls.mu.Lock()
				na := len(a.c.calls.byID)
				a.c.calls.mu.Unlock()
				b.c.calls.mu.Lock()
				nb := len(b.c.calls.byID)
				b.c.calls.mu.Unlock()
				return na == 0 && nb == 0 && slices.Contains(types, call.EvIncoming) && b.svc.Presence()["bob"] == call.Online
			})
		})
	}
}
