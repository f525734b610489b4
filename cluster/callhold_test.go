package cluster

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// callEvents are the call events of user's log on s (no presence).
func callEvents(s *call.Service, user string) []call.Event {
	var out []call.Event
	for _, e := range s.Log(user).Since(0, 0).Events {
		if ce, ok := e.Event.(call.Event); ok && ce.Type != call.EvPresence {
			out = append(out, ce)
		}
	}
	return out
}

// publishRaw sends b to node's call subject as any member could.
func publishRaw(t *testing.T, from *node, to string, b []byte) {
	t.Helper()
	if err := from.c.nc.Publish(subjCallPre+to, b); err != nil {
		t.Fatal(err)
	}
}

func rawMsg(t *testing.T, m callMsg) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRingRemoteHold: a trunk's caller on a holds and resumes its call
// with bob on b twice (sendonly, then inactive): bob's log on b gets
// hold, unhold, hold, unhold in that order, with the reasons and the
// caller as by, as for a trunk call on one node. Forged and malformed
// holds sent before them (another node's, bob's own node's, an unknown
// call's, a bad reason, an unhold with a reason, an oversized or broken
// message) change nothing; a hold sent to the caller's node is not an
// event for the trunk; one made before the answer reaches nobody.
func TestRingRemoteHold(t *testing.T) {
	a, b := startCallNodes(t)
	bob := b.svc.Attach("bob", "rtmp")
	testwait.For(t, 5*time.Second, "a to see bob on b", func() bool { return a.c.Gateway().Routes("bob") })
	got := &sipEvents{}
	const caller = "+15550100"
	rc, ok := a.c.RingRemote(caller, "bob", got.add)
	if !ok {
		t.Fatal("RingRemote refused bob online on b")
	}
	var id string
	testwait.For(t, 5*time.Second, "bob's incoming call", func() bool {
		ev := callEvents(b.svc, "bob")
		if len(ev) == 0 || ev[len(ev)-1].Type != call.EvIncoming {
			return false
		}
		id = ev[len(ev)-1].Call
		return true
	})
	rc.Hold(true, holdSendOnly) // before the answer: nothing for bob (checked below: his events after accepted)
	if _, err := b.svc.Accept(bob, id, ""); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "the caller's accepted", func() bool { return got.last().Type == call.EvAccepted })
	// b's call list names the caller's transport: a trunk's, sip.
	if cs := b.svc.Calls(); len(cs) != 1 || cs[0].FromKind != call.KindSIP {
		t.Fatalf("b's calls: %+v, want one from kind sip", cs)
	}

	big := rawMsg(t, callMsg{Op: "hold", Call: rc.ID(), From: "a", Reason: holdSendOnly, Caller: strings.Repeat("x", maxControl)})
	for _, raw := range [][]byte{
		rawMsg(t, callMsg{Op: "hold", Call: rc.ID(), From: "mallory", Reason: holdSendOnly}), // no party
		rawMsg(t, callMsg{Op: "hold", Call: rc.ID(), From: "b", Reason: holdSendOnly}),       // b's own name
		rawMsg(t, callMsg{Op: "hold", Call: "xunknown", From: "a", Reason: holdSendOnly}),    // no such call
		rawMsg(t, callMsg{Op: "hold", Call: rc.ID(), From: "a", Reason: "evil"}),             // not an SDP direction
		rawMsg(t, callMsg{Op: "hold", Call: rc.ID(), From: "a"}),                             // no reason
		rawMsg(t, callMsg{Op: "unhold", Call: rc.ID(), From: "a", Reason: holdInactive}),     // unhold with a reason
		big,                            // over maxControl
		[]byte(`{"op":"hold","call":`), // broken JSON
	} {
		publishRaw(t, a.node, "b", raw)
	}
	// b (bob's node) cannot make the trunk's side hold: a ignores it.
	publishRaw(t, b.node, "a", rawMsg(t, callMsg{Op: "hold", Call: rc.ID(), From: "b", Reason: holdSendOnly}))

	rc.Hold(true, holdSendOnly)
	rc.Hold(false, "")
	rc.Hold(true, holdInactive)
	rc.Hold(false, "")
	rc.DTMF("7") // after the holds on a's connection: bob's dtmf means they all arrived
	testwait.For(t, 5*time.Second, "bob's dtmf", func() bool {
		ev := callEvents(b.svc, "bob")
		return ev[len(ev)-1].Type == call.EvDTMF
	})
	ev := callEvents(b.svc, "bob")
	i := slices.IndexFunc(ev, func(e call.Event) bool { return e.Type == call.EvAccepted })
	var seq []string
	for _, e := range ev[i+1:] {
		seq = append(seq, e.Type+":"+e.Reason)
		if e.Call != id || (e.Type != call.EvDTMF && e.By != caller) {
			t.Errorf("bob's %s: call %q by %q, want call %q by %q", e.Type, e.Call, e.By, id, caller)
		}
	}
	want := []string{"hold:sendonly", "unhold:", "hold:inactive", "unhold:", "dtmf:"}
	if !slices.Equal(seq, want) {
		t.Fatalf("bob's events after the answer: %v, want %v", seq, want)
	}
	// The hold b sent to a did not reach the trunk's side.
	got.mu.Lock()
	for _, e := range got.ev {
		if e.Type == call.EvHold || e.Type == call.EvUnhold {
			t.Errorf("the trunk's side got %s from b", e.Type)
		}
	}
	got.mu.Unlock()
	_ = b.svc.Hangup(bob, id)
	testwait.For(t, 5*time.Second, "the caller's bye", func() bool { return got.last().Type == call.EvBye })
}

// TestCallAcrossNodesNoHold: in a call between two users (alice's RTMPT
// phone on a, bob on b) a hold from a, the caller's node, is dropped: a
// user cannot hold, so only a SIP caller's node may send one. b's call
// lists name alice's and bob's transports, not sip.
func TestCallAcrossNodesNoHold(t *testing.T) {
	a, b := startCallNodes(t)
	alice := a.svc.Attach("alice", call.KindRTMPT)
	bob := b.svc.Attach("bob", call.KindRTMP)
	testwait.For(t, 5*time.Second, "a to see bob on b", func() bool { return a.c.Gateway().Routes("bob") })
	id, err := a.svc.Invite(alice, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	var inID string
	testwait.For(t, 5*time.Second, "bob's incoming call", func() bool {
		types, cid := events(b.svc, "bob")
		inID = cid
		return slices.Contains(types, call.EvIncoming)
	})
	if _, err := b.svc.Accept(bob, inID, ""); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "alice's accepted", func() bool { types, _ := events(a.svc, "alice"); return slices.Contains(types, call.EvAccepted) })
	// Each node names the other node's party by its device's kind.
	for _, n := range []callNode{a, b} {
		if cs := n.svc.Calls(); len(cs) != 1 || cs[0].FromKind != call.KindRTMPT || cs[0].ToKind != call.KindRTMP {
			t.Fatalf("%s's calls: %+v, want one from rtmpt to rtmp", n.c.o.Node, cs)
		}
	}
	publishRaw(t, a.node, "b", rawMsg(t, callMsg{Op: "hold", Call: id, From: "a", Reason: holdSendOnly}))
	if err := a.svc.DTMF(alice, id, "3"); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "bob's dtmf", func() bool { types, _ := events(b.svc, "bob"); return slices.Contains(types, call.EvDTMF) })
	if types, _ := events(b.svc, "bob"); slices.Contains(types, call.EvHold) {
		t.Fatalf("a hold for a user's call reached bob: %v", types)
	}
}
