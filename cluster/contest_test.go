package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// client is a client's publication on one node: its frames carry mark,
// ended gets End's reason (what the session tells its client).
type client struct {
	pub   *media.Publisher
	ended chan error
}

func publishClient(t *testing.T, n *node, key string, mark byte) *client {
	t.Helper()
	pub, err := n.hub.PublishClient(key)
	if err != nil {
		t.Fatalf("%s: publish %s: %v", n.c.Node(), key, err)
	}
	cl := &client{pub: pub, ended: make(chan error, 1)}
	pub.OnEnd(func(why error) { cl.ended <- why })
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); pumpMarked(pub, stop, mark) }()
	t.Cleanup(func() { close(stop); <-done; pub.Close() })
	return cl
}

func (cl *client) endedWith() error {
	select {
	case why := <-cl.ended:
		cl.ended <- why
		return why
	default:
		return nil
	}
}

// local reports whether n publishes key for a client (not as a relay).
func local(n *node, key string) bool { return n.hub.Published(key) && !n.c.isRelayed(key) }

// settled waits until a keeps key and b's publisher was ended, then
// checks that every node agrees and that the players hear a only.
func settled(t *testing.T, ns []*node, key string, pa, pb *client, players []*marker) {
	t.Helper()
	a, b, c := ns[0], ns[1], ns[2]
	testwait.ForDetail(t, 10*time.Second, "b's publisher ends, a's stays", func() bool { return pb.endedWith() != nil },
		func() string {
			return fmt.Sprintf("a lost %d double %d, b lost %d double %d", a.c.Stats.ClaimsLost.Load(), a.c.Stats.DoublePublished.Load(),
				b.c.Stats.ClaimsLost.Load(), b.c.Stats.DoublePublished.Load())
		})
	if why := pb.endedWith(); !errors.Is(why, errLost) {
		t.Fatalf("b's client was told %v, want %v", why, errLost)
	}
	if pa.endedWith() != nil || pa.pub.Closed() {
		t.Fatal("a's publisher (the earlier claim) ended too")
	}
	// Both count the double publication they heard of; a may not hear
	// of b's claim at all (b may end before it announces).
	if a.c.Stats.ClaimsLost.Load() != 0 || b.c.Stats.ClaimsLost.Load() != 1 || b.c.Stats.DoublePublished.Load() != 1 {
		t.Fatalf("lost a %d b %d, double b %d: want 0, 1, 1", a.c.Stats.ClaimsLost.Load(), b.c.Stats.ClaimsLost.Load(), b.c.Stats.DoublePublished.Load())
	}
	// The players (b's, whose publisher ended, and c's) follow a; a new
	// player on c hears a only.
	testwait.For(t, 10*time.Second, "the players on b and c hear a", func() bool {
		for _, p := range players {
			if p.heard()['a'] < 5 {
				return false
			}
		}
		return true
	})
	fresh := &marker{seen: map[byte]int{}}
	defer c.hub.Subscribe(key, fresh).Close()
	testwait.For(t, 10*time.Second, "a new player on c hears a", func() bool { return fresh.heard()['a'] >= 20 })
	if h := fresh.heard(); len(h) != 1 {
		t.Fatalf("a new player on c heard %v, want a only", h)
	}
	// One publisher of the name, the same on every node; b's client may
	// not take it back (its claim is refused now), and nothing flapped.
	for i, n := range ns {
		if local(n, key) != (i == 0) {
			t.Fatalf("%s publishes %s itself: %v", n.c.Node(), key, local(n, key))
		}
	}
	if p, err := b.hub.PublishClient(key); !errors.Is(err, media.ErrBadName) {
		if p != nil {
			p.Close()
		}
		t.Fatalf("b's client again: %v, want refused", err)
	}
	if pa.pub.Closed() || a.c.Stats.ClaimsLost.Load() != 0 || b.c.Stats.ClaimsLost.Load() != 1 {
		t.Fatal("the winner's publisher ended afterwards")
	}
}

// TestContestAfterPartition: a and b hear nobody (their heartbeats still
// go out): they forget every node, and each accepts a client's publish
// of one name alone. Once they hear each other again, b (the later
// claim) ends its publisher, players everywhere follow a.
func TestContestAfterPartition(t *testing.T) {
	ns := startNodes(t, "a", "b", "c")
	a, b, c := ns[0], ns[1], ns[2]
	const key = "live/twice"
	a.c.deaf.Store(true)
	b.c.deaf.Store(true)
	testwait.For(t, 10*time.Second, "a and b alone", func() bool { return len(a.c.Nodes()) == 1 && len(b.c.Nodes()) == 1 })
	pa := publishClient(t, a, key, 'a')
	pb := publishClient(t, b, key, 'b')
	players := []*marker{{seen: map[byte]int{}}, {seen: map[byte]int{}}}
	defer b.hub.Subscribe(key, players[0]).Close()
	defer c.hub.Subscribe(key, players[1]).Close()
	testwait.For(t, 10*time.Second, "b's player hears b", func() bool { return players[0].heard()['b'] > 0 })
	a.c.deaf.Store(false)
	b.c.deaf.Store(false)
	settled(t, ns, key, pa, pb, players)
	if n := a.c.Stats.ClaimsUnchecked.Load() + b.c.Stats.ClaimsUnchecked.Load(); n != 0 {
		t.Fatalf("%d claims unchecked, want 0 (each node was alone)", n)
	}
}

// TestContestUnchecked: a and b stay in each other's table but do not
// answer claims for a moment: each accepts the name unchecked after
// claimWait. The unchecked claims are announced every heartbeat until
// settled.
func TestContestUnchecked(t *testing.T) {
	ns := startNodesWith(t, []string{"a", "b", "c"}, func(_ int, o *Options) { o.Heartbeat = time.Second })
	a, b, c := ns[0], ns[1], ns[2]
	const key = "live/unchecked"
	players := []*marker{{seen: map[byte]int{}}, {seen: map[byte]int{}}}
	defer b.hub.Subscribe(key, players[0]).Close()
	defer c.hub.Subscribe(key, players[1]).Close()
	a.c.deaf.Store(true)
	b.c.deaf.Store(true)
	pa := publishClient(t, a, key, 'a')
	pb := publishClient(t, b, key, 'b')
	a.c.deaf.Store(false)
	b.c.deaf.Store(false)
	if a.c.Stats.ClaimsUnchecked.Load() != 1 || b.c.Stats.ClaimsUnchecked.Load() != 1 {
		t.Fatalf("unchecked a %d b %d, want 1 each", a.c.Stats.ClaimsUnchecked.Load(), b.c.Stats.ClaimsUnchecked.Load())
	}
	settled(t, ns, key, pa, pb, players)
}

// TestContestHostile: announces that do not hold together end nothing:
// a claim of a node that answered "not held" to ours, earlier than ours;
// one before its sender's run began; one of an unknown node; a derived
// key. A member that joins later and says it publishes the name only
// makes a answer with its earlier claim.
func TestContestHostile(t *testing.T) {
	ns := startNodes(t, "a", "b", "c")
	a, c := ns[0], ns[2]
	const key = "live/mine"
	pa := publishClient(t, a, key, 'a')
	at := a.c.heldAt(key)
	if at == 0 {
		t.Fatal("a holds no claim of its publication")
	}
	send := func(subject string, f found) {
		b, _ := json.Marshal(f)
		if err := c.c.nc.Publish(subject, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []found{
		{Node: "b", Key: key, At: at - 1},   // b answered "not held" to a's claim
		{Node: "c", Key: key, At: 1},        // before c's run began
		{Node: "zz", Key: key, At: at - 1},  // no such node
		{Node: "c", Key: key + "#x", At: 1}, // a derived key
	} {
		send(subjAnnounce, f)
	}
	send(subjHerePre+"a", found{Node: "b", Key: key, At: at - 2}) // the same, point to point
	send(subjAnnounce, found{Node: "a", Key: key, At: 1})         // a itself
	send(subjAnnounce, found{Node: "x.>", Key: key, At: 1})       // a name that breaks subjects
	testwait.For(t, 5*time.Second, "a ignores them", func() bool { return a.c.Stats.BadContests.Load() >= 5 })
	// A member that joins now says it publishes every name: its claim is
	// later than a's (its run began after), so a keeps its own.
	started := time.Now().UTC()
	hb, _ := json.Marshal(heartbeat{Node: "d", Started: started})
	if err := c.c.nc.Publish(subjHeartbeat, hb); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "a sees d", func() bool { _, ok := a.c.nodes.started("d"); return ok })
	send(subjAnnounce, found{Node: "d", Key: key, At: started.UnixNano()})
	testwait.For(t, 5*time.Second, "a hears d's claim", func() bool { return a.c.Stats.DoublePublished.Load() == 1 })
	if pa.endedWith() != nil || pa.pub.Closed() || !local(a, key) {
		t.Fatal("a's publication ended")
	}
	for _, n := range ns {
		if n.c.Stats.ClaimsLost.Load() != 0 {
			t.Fatalf("%s ended a publisher", n.c.Node())
		}
	}
	if n := a.c.Stats.BadContests.Load(); n != 5 {
		t.Fatalf("bad contests on a: %d, want 5", n)
	}
}
