package cluster

import (
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/presence"
)

var presenceUsers = []string{"alice", "bob", "carol", "dave"}

// startPresenceNodes starts call nodes wired as internal/app does: the
// heartbeat's list, the whole list each heartbeat, the changes at once
// both ways.
func startPresenceNodes(t *testing.T, names []string, hb time.Duration) []callNode {
	t.Helper()
	svcs := make([]atomic.Pointer[call.Service], len(names))
	ns := startNodesWith(t, names, func(i int, o *Options) {
		o.Heartbeat = hb
		o.Users = func() map[string]string {
			if s := svcs[i].Load(); s != nil {
				return s.LocalPresence()
			}
			return nil
		}
		o.Presence = func(remote map[string]string) {
			if s := svcs[i].Load(); s != nil {
				s.SetRemotePresence(remote)
			}
		}
		o.PresenceChanged = func(changed map[string]string) {
			if s := svcs[i].Load(); s != nil {
				s.UpdateRemotePresence(changed)
			}
		}
	})
	out := make([]callNode, len(names))
	for i, n := range ns {
		svc := call.NewService(call.Options{Gateway: n.c.Gateway(), RingTimeout: 10 * time.Second}, presenceUsers...)
		t.Cleanup(svc.Close)
		svc.WatchLocalPresence(n.c.LocalPresence)
		if err := n.c.ServeCalls(svc); err != nil {
			t.Fatal(err)
		}
		svcs[i].Store(svc)
		out[i] = callNode{n, svc}
	}
	return out
}

// kill cuts n off without a goodbye, as a dead node: its connection and
// embedded server close first, so that its "leaving" goes nowhere.
func (n *node) kill() {
	n.c.Close()
	n.stop()
}

// sawPresence reports whether watcher's log on s holds user's status.
func sawPresence(s *call.Service, watcher, user, status string) bool {
	for _, e := range s.Log(watcher).Since(0, 0).Events {
		if pe, ok := e.Event.(presence.Event); ok && pe.User == user && pe.Status == status {
			return true
		}
	}
	return false
}

// TestPresenceAtOnce: with 5 s heartbeats, so that no heartbeat can carry
// it, a user signing in on b is callable from a and shown to a's watcher
// within a few hundred ms; a user who moves from a dead node (a, cut off
// without a goodbye) to b is routed to b by c at once — the call rings on
// b, while c still lists a (it drops a only after 15 s).
func TestPresenceAtOnce(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	ns := startPresenceNodes(t, []string{"a", "b", "c"}, 5*time.Second)
	a, b, c := ns[0], ns[1], ns[2]
	// Let the start-up heartbeats pass: from here, only presence messages.
	sent := b.c.Stats.PresenceSent.Load()
	start := time.Now()
	b.svc.Attach("bob", call.KindRTMP)
	testwait.For(t, 500*time.Millisecond, "a to route bob to b and its watcher alice to hear him online", func() bool {
		return a.c.calls.Routes("bob") && a.c.nodes.userNode("bob", "a") == "b" && sawPresence(a.svc, "alice", "bob", call.Online)
	})
	t.Logf("bob online on b seen by a after %v", time.Since(start).Round(time.Millisecond))
	if b.c.Stats.PresenceSent.Load() != sent+1 {
		t.Fatalf("b sent %d presence messages for one sign-in", b.c.Stats.PresenceSent.Load()-sent)
	}

	// carol on a; a dies; carol signs in on b; dave on c calls her.
	a.svc.Attach("carol", call.KindRTMP)
	testwait.For(t, time.Second, "c to see carol on a", func() bool { return c.c.nodes.userNode("carol", "c") == "a" })
	a.kill()
	start = time.Now()
	b.svc.Attach("carol", call.KindHTTP)
	testwait.For(t, 500*time.Millisecond, "c to route carol to b", func() bool { return c.c.nodes.userNode("carol", "c") == "b" })
	t.Logf("carol moved to b seen by c after %v", time.Since(start).Round(time.Millisecond))
	dave := c.svc.Attach("dave", call.KindRTMP)
	if _, err := c.svc.Invite(dave, "carol", ""); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 2*time.Second, "carol's call ringing on b", func() bool {
		types, _ := events(b.svc, "carol")
		return slices.Contains(types, call.EvIncoming)
	})
	if !slices.ContainsFunc(c.c.Nodes(), func(n NodeInfo) bool { return n.Node == "a" }) {
		t.Fatal("c dropped a already: the test would not tell the presence message from the loss")
	}
	if types, _ := events(c.svc, "dave"); slices.Contains(types, call.EvRejected) || slices.Contains(types, call.EvBye) {
		t.Fatalf("dave's call ended: %v", types)
	}
}

// TestPresenceOrder: messages and heartbeats applied out of order never
// bring back an older state (table level: every interleaving of a test).
func TestPresenceOrder(t *testing.T) {
	t0 := time.Now()
	started := t0.Add(-time.Hour)
	tab := nodeTable{nodes: map[string]*NodeInfo{}}
	hb := func(seq uint64, users map[string]string, at time.Duration) {
		tab.seen(heartbeat{Node: "b", Started: started, Seq: seq, Users: users}, false, t0.Add(at))
	}
	msg := func(seq uint64, users map[string]string, at time.Duration) presenceResult {
		_, res := tab.applyPresence(presenceMsg{Node: "b", Started: started, Seq: seq, Users: users}, false, t0.Add(at))
		return res
	}
	status := func() string {
		tab.mu.Lock()
		defer tab.mu.Unlock()
		return tab.nodes["b"].users.users["bob"].status
	}
	hb(0, nil, 0)
	if msg(2, map[string]string{"bob": call.Busy}, 1) != presenceApplied || status() != call.Busy {
		t.Fatalf("message 2: %q", status())
	}
	if msg(1, map[string]string{"bob": call.Offline}, 2) != presenceStale || status() != call.Busy {
		t.Fatalf("an older message (1, offline) after 2: %q", status())
	}
	hb(1, map[string]string{}, 3) // a list taken before message 2
	if status() != call.Busy {
		t.Fatalf("a heartbeat of seq 1 after message 2 (busy): %q", status())
	}
	if msg(3, map[string]string{"bob": call.Offline}, 4) != presenceApplied || status() != "" {
		t.Fatalf("message 3 (offline): %q", status())
	}
	hb(2, map[string]string{"bob": call.Busy}, 5) // a list taken before message 3
	if status() != "" {
		t.Fatalf("a heartbeat of seq 2 (busy) after message 3 (offline): %q", status())
	}
	hb(3, map[string]string{}, 6)
	tab.mu.Lock()
	gone := len(tab.nodes["b"].users.gone)
	tab.mu.Unlock()
	if gone != 0 {
		t.Fatalf("a list as of 3 keeps %d offline marks", gone)
	}
	if msg(3, map[string]string{"bob": call.Online}, 7) != presenceStale || status() != "" {
		t.Fatalf("message 3 again after the list as of 3: %q", status())
	}
	if msg(4, map[string]string{"bob": call.Online}, 8) != presenceApplied || status() != call.Online {
		t.Fatalf("message 4 (online): %q", status())
	}
	hb(4, map[string]string{"bob": call.Busy}, 9) // busy since 4: the list is the truth
	if status() != call.Busy {
		t.Fatalf("heartbeat of seq 4 (busy): %q", status())
	}
	// Another run of b (a restart) starts over from its own list.
	tab.seen(heartbeat{Node: "b", Started: t0, Seq: 0, Users: map[string]string{}}, false, t0.Add(10))
	if status() != "" || msg(5, map[string]string{"bob": call.Online}, 11) != presenceUnknown {
		t.Fatal("a message of b's former run is believed")
	}

	// The most recent claim wins the route, wherever the older one is.
	tab.seen(heartbeat{Node: "a", Started: started, Users: map[string]string{"carol": call.Busy}}, false, t0.Add(20))
	tab.seen(heartbeat{Node: "c", Started: started}, false, t0.Add(20))
	if tab.userNode("carol", "z") != "a" {
		t.Fatal("carol is on a only")
	}
	if _, res := tab.applyPresence(presenceMsg{Node: "b", Started: t0, Seq: 1, Users: map[string]string{"carol": call.Online}}, false, t0.Add(30)); res != presenceApplied || tab.userNode("carol", "z") != "b" || tab.remoteUsers("z")["carol"] != call.Online {
		t.Fatalf("carol's newer claim on b: routed to %q, shown %q", tab.userNode("carol", "z"), tab.remoteUsers("z")["carol"])
	}
	if tab.userNode("carol", "b") != "" {
		t.Fatal("b itself lists carol: not routed elsewhere")
	}
}

// TestPresenceFloodCoalesced: 40 users going on and off 25 times each on
// a, as fast as the service takes it, cross in a message per 100 ms at
// most, and b ends with each user's last state.
func TestPresenceFloodCoalesced(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	ns := startPresenceNodes(t, []string{"a", "b"}, 5*time.Second)
	a, b := ns[0], ns[1]
	var msgs atomic.Int64
	sub, err := b.c.nc.Subscribe(subjPresence, func(m *nats.Msg) {
		if strings.Contains(string(m.Data), `"node":"a"`) {
			msgs.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe() //nolint:errcheck
	if err := b.c.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range 40 {
		names = append(names, "u"+string(rune('a'+i/10))+string(rune('a'+i%10)))
	}
	start := time.Now()
	changes := 0
	for range 25 {
		for _, n := range names {
			a.svc.Detach(a.svc.Attach(n, call.KindRTMP))
			changes += 2
		}
	}
	for _, n := range names[:10] { // the last state: ten online
		a.svc.Attach(n, call.KindRTMP)
		changes++
	}
	elapsed := time.Since(start)
	testwait.For(t, 2*time.Second, "b to see the ten online, the thirty offline", func() bool {
		r := b.c.nodes.remoteUsers("b")
		return len(r) == 10 && r[names[0]] == call.Online && r[names[9]] == call.Online && r[names[10]] == ""
	})
	sent := msgs.Load()
	// One message at once, then at most one per 100 ms (and the last).
	bound := int64(elapsed/presenceEvery) + 2
	t.Logf("%d changes in %v crossed in %d messages (bound %d)", changes, elapsed.Round(time.Millisecond), sent, bound)
	if sent > bound || sent == 0 {
		t.Fatalf("%d messages for %d changes in %v: not coalesced (bound %d)", sent, changes, elapsed, bound)
	}
	if got := int64(a.c.Stats.PresenceSent.Load()); got < sent {
		t.Fatalf("a counts %d sent, b received %d", got, sent)
	}
}

// TestPresenceHostile: an insider's presence messages that break the
// bounds — a name too long, too many users, a bad status, too big, not
// JSON, an unknown node, another run of a node, b's own name — change
// nothing and are counted; a stale one is counted as stale.
func TestPresenceHostile(t *testing.T) {
	ns := startPresenceNodes(t, []string{"a", "b"}, 200*time.Millisecond)
	a, b := ns[0], ns[1]
	a.svc.Attach("alice", call.KindRTMP)
	testwait.For(t, 2*time.Second, "b to see alice on a", func() bool { return b.c.nodes.userNode("alice", "b") == "a" })
	a.c.pres.sendMu.Lock()
	seq := a.c.pres.seq
	a.c.pres.sendMu.Unlock()
	many := map[string]string{}
	for i := range maxPresenceUsers + 1 {
		many["u"+strings.Repeat("x", i%50)+string(rune('a'+i%26))+string(rune('a'+i/26))] = call.Online
	}
	bigName := map[string]string{strings.Repeat("m", 65): call.Online}
	mk := func(node string, started time.Time, seq uint64, users map[string]string) []byte {
		b, _ := json.Marshal(presenceMsg{Node: node, Started: started, Seq: seq, Users: users})
		return b
	}
	off := map[string]string{"alice": call.Offline}
	bad := [][]byte{
		mk("a", a.c.started, seq+10, bigName),
		mk("a", a.c.started, seq+10, many),
		mk("a", a.c.started, seq+10, map[string]string{"alice": "away"}),
		mk("a", a.c.started, seq+10, map[string]string{"al ice": call.Offline}),
		mk("a", a.c.started, 0, off),
		mk("a", a.c.started, seq+10, nil),
		mk("a.*", a.c.started, seq+10, off),
		mk("z", a.c.started, seq+10, off),                // not in the table
		mk("a", a.c.started.Add(time.Hour), seq+10, off), // another run of a
		append(mk("a", a.c.started, seq+10, off), make([]byte, maxPresenceMsg)...),
		[]byte("{not json"),
	}
	insider := a.c.nc // a member's connection, as an insider would have
	for _, m := range bad {
		if err := insider.Publish(subjPresence, m); err != nil {
			t.Fatal(err)
		}
	}
	// b's own name from another connection: b ignores it as its own (not counted).
	if err := insider.Publish(subjPresence, mk("b", b.c.started, 99, map[string]string{"bob": call.Online})); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 2*time.Second, "b to count every hostile message", func() bool { return b.c.Stats.PresenceBad.Load() == uint64(len(bad)) })
	// A replay of an old message (seq 1: alice online) is stale.
	if err := insider.Publish(subjPresence, mk("a", a.c.started, 1, off)); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 2*time.Second, "b to count the replay stale", func() bool { return b.c.Stats.PresenceStale.Load() >= 1 })
	if b.c.nodes.userNode("alice", "b") != "a" || b.c.nodes.remoteUsers("b")["alice"] != call.Online {
		t.Fatalf("alice on b's table after the junk: %q %q", b.c.nodes.userNode("alice", "b"), b.c.nodes.remoteUsers("b")["alice"])
	}
	if b.svc.Presence()["bob"] != call.Offline {
		t.Fatal("a message under b's own name made bob online on b")
	}
	// The hostile names were never added anywhere.
	for u := range b.c.nodes.remoteUsers("b") {
		if u != "alice" {
			t.Fatalf("b lists %q online", u)
		}
	}
}
