package cluster

import (
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// callNode is a node with its own call service (users alice and bob).
type callNode struct {
	*node
	svc *call.Service
}

func startCallNodes(t *testing.T) (a, b callNode) {
	t.Helper()
	var svcs [2]atomic.Pointer[call.Service]
	online := func(i int) func() map[string]string {
		return func() map[string]string {
			s := svcs[i].Load()
			if s == nil {
				return nil
			}
			return s.LocalPresence()
		}
	}
	ns := startNodesWith(t, []string{"a", "b"}, func(i int, o *Options) {
		o.Users = online(i)
		o.Presence = func(remote map[string]string) {
			if s := svcs[i].Load(); s != nil {
				s.SetRemotePresence(remote)
			}
		}
	})
	out := make([]callNode, 2)
	for i, n := range ns {
		svc := call.NewService(call.Options{Gateway: n.c.Gateway(), RingTimeout: 10 * time.Second}, "alice", "bob")
		t.Cleanup(svc.Close)
		if err := n.c.ServeCalls(svc); err != nil {
			t.Fatal(err)
		}
		svcs[i].Store(svc)
		out[i] = callNode{n, svc}
	}
	return out[0], out[1]
}

// events are the types in user's log on s, and the last event's call id.
func events(s *call.Service, user string) ([]string, string) {
	var types []string
	id := ""
	for _, e := range s.Log(user).Since(0, 0).Events {
		if ce, ok := e.Event.(call.Event); ok && ce.Type != call.EvPresence {
			types = append(types, ce.Type)
			id = ce.Call
		}
	}
	return types, id
}

func TestCallAcrossNodes(t *testing.T) {
	a, b := startCallNodes(t)
	alice := a.svc.Attach("alice", "rtmp")
	bob := b.svc.Attach("bob", "rtmp")
	testwait.For(t, 5*time.Second, "a to see bob online on b", func() bool { return a.c.nodes.userNode("bob", "a") == "b" })
	if a.c.nodes.userNode("alice", "a") != "" {
		t.Fatal("alice is on a itself: no other node may route her")
	}
	testwait.For(t, 5*time.Second, "bob online in a's presence", func() bool { return a.svc.Presence()["bob"] == call.Online })
	id, err := a.svc.Invite(alice, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	var inID string
	testwait.For(t, 5*time.Second, "bob's incoming call on b", func() bool {
		types, cid := events(b.svc, "bob")
		inID = cid
		return slices.Contains(types, call.EvIncoming)
	})
	testwait.For(t, 5*time.Second, "alice's ringing", func() bool { types, _ := events(a.svc, "alice"); return slices.Contains(types, call.EvRinging) })
	acc, err := b.svc.Accept(bob, inID, "")
	if err != nil {
		t.Fatal(err)
	}
	var aliceAcc call.Event
	testwait.For(t, 5*time.Second, "alice's accepted", func() bool {
		for _, e := range a.svc.Log("alice").Since(0, 0).Events {
			if ce, ok := e.Event.(call.Event); ok && ce.Type == call.EvAccepted {
				aliceAcc = ce
				return true
			}
		}
		return false
	})
	// bob's audio on b reaches what alice plays on a, and alice's what bob plays.
	toAlice, toBob := &collector{}, &collector{}
	defer a.hub.Subscribe("phone/"+aliceAcc.Play, toAlice).Close()
	defer b.hub.Subscribe("phone/"+acc.Play, toBob).Close()
	bobPub, err := b.hub.Publish("phone/" + acc.Publish)
	if err != nil {
		t.Fatal(err)
	}
	alicePub, err := a.hub.Publish("phone/" + aliceAcc.Publish)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go pump(bobPub, stop)
	go pump(alicePub, stop)
	testwait.For(t, 10*time.Second, "audio both ways", func() bool { return toAlice.count() > 10 && toBob.count() > 10 })
	// alice hangs up on a: bob hears bye on b.
	if err := a.svc.Hangup(alice, id); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "bob's bye", func() bool { types, _ := events(b.svc, "bob"); return slices.Contains(types, call.EvBye) })
	// bob leaves b: a's watchers see him offline.
	b.svc.Detach(bob)
	testwait.For(t, 5*time.Second, "bob offline in a's presence", func() bool { return a.svc.Presence()["bob"] == call.Offline })
	testwait.For(t, 5*time.Second, "the forwarders to stop", func() bool {
		return !a.hub.Published("phone/"+aliceAcc.Play) && !b.hub.Published("phone/"+acc.Play)
	})
}

func TestCallAcrossNodesRefusals(t *testing.T) {
	a, b := startCallNodes(t)
	alice := a.svc.Attach("alice", "rtmp")
	// carol is nowhere: the call is not routed to another node.
	if a.c.Gateway().Routes("carol") {
		t.Fatal("a routes a user nobody has")
	}
	// bob is online on b, then leaves before the call arrives: offline.
	bob := b.svc.Attach("bob", "rtmp")
	testwait.For(t, 5*time.Second, "a to see bob on b", func() bool { return a.c.Gateway().Routes("bob") })
	b.svc.Detach(bob)
	if _, err := a.svc.Invite(alice, "bob", ""); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "alice's rejected", func() bool { types, _ := events(a.svc, "alice"); return slices.Contains(types, call.EvRejected) })
	// b keeps nothing of the refused call.
	b.c.calls.mu.Lock()
	n := len(b.c.calls.byID)
	b.c.calls.mu.Unlock()
	if n != 0 {
		t.Fatalf("b keeps %d calls after the refusal", n)
	}
}

// TestRoutesPrefersHere: a user another node's last heartbeat lists
// (a node just lost, say) but who is connected here now — a page or a
// phone that failed over — is not routed away: the call rings here.
func TestRoutesPrefersHere(t *testing.T) {
	svc := call.NewService(call.Options{RingTimeout: time.Second}, "alice", "bob")
	t.Cleanup(svc.Close)
	c := &Cluster{o: Options{Node: "b"}, nodes: nodeTable{nodes: map[string]*NodeInfo{
		"a": {Node: "a", users: nodeUsers{users: map[string]userClaim{"alice": {status: call.Online}}}},
		"b": {Node: "b", Self: true},
	}}}
	cs := &calls{c: c, svc: svc, byID: map[string]*xcall{}}
	if !cs.Routes("alice") {
		t.Fatal("alice, on a only, must be routed to a")
	}
	if cs.Routes("bob") {
		t.Fatal("bob is online nowhere: not routed")
	}
	d := svc.Attach("alice", "http")
	if cs.Routes("alice") {
		t.Fatal("alice connected here too: rung here, not routed to a")
	}
	svc.Detach(d)
	if !cs.Routes("alice") {
		t.Fatal("alice gone from here again: routed to a")
	}
}
