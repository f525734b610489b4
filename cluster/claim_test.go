package cluster

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

func TestClaimRefusedOnAnotherNode(t *testing.T) {
	ns := startNodes(t, "a", "b", "c")
	a, b, c := ns[0], ns[1], ns[2]
	pub, err := a.hub.PublishClient("live/x")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node{b, c} {
		if p, err := n.hub.PublishClient("live/x"); !errors.Is(err, media.ErrBadName) {
			if p != nil {
				p.Close()
			}
			t.Fatalf("%s: publish of a name published on a: %v, want ErrBadName", n.c.Node(), err)
		}
	}
	if b.c.Stats.ClaimsRefused.Load() != 1 || c.c.Stats.ClaimsRefused.Load() != 1 {
		t.Fatalf("refusals counted: b %d, c %d", b.c.Stats.ClaimsRefused.Load(), c.c.Stats.ClaimsRefused.Load())
	}
	// Another name is free, at once (every node answers "not held").
	start := time.Now()
	other, err := b.hub.PublishClient("live/y")
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= claimWait {
		t.Fatalf("a free name took %v: every node's answer must end the wait", d)
	}
	other.Close()
	// a's publisher leaves: b may publish the name, and then a may not.
	pub.Close()
	pub, err = b.hub.PublishClient("live/x")
	if err != nil {
		t.Fatalf("b after a's publisher left: %v", err)
	}
	defer pub.Close()
	if _, err := a.hub.PublishClient("live/x"); !errors.Is(err, media.ErrBadName) {
		t.Fatalf("a after b took the name: %v", err)
	}
	if n := a.c.Stats.ClaimsUnchecked.Load() + b.c.Stats.ClaimsUnchecked.Load(); n != 0 {
		t.Fatalf("%d claims went unanswered", n)
	}
}

// claimAnswers sends a raw claim from node from's connection and
// collects the answers for a while.
func claimAnswers(t *testing.T, from *node, q claim) map[string]bool {
	t.Helper()
	ch := make(chan *nats.Msg, 16)
	inbox := nats.NewInbox()
	sub, err := from.c.nc.ChanSubscribe(inbox, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	b, _ := json.Marshal(q)
	if err := from.c.nc.PublishRequest(subjClaim, inbox, b); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	deadline := time.After(claimWait)
	for {
		select {
		case m := <-ch:
			var a claimAnswer
			if err := json.Unmarshal(m.Data, &a); err != nil || a.Key != q.Key {
				t.Fatalf("answer %q: %v", m.Data, err)
			}
			got[a.Node] = a.Held
		case <-deadline:
			return got
		}
	}
}

func TestClaimRelaysAndHostile(t *testing.T) {
	ns := startNodes(t, "a", "b", "c")
	a, b, c := ns[0], ns[1], ns[2]
	pub, err := b.hub.PublishClient("live/r")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	stop := make(chan struct{})
	defer close(stop)
	go pump(pub, stop)
	play := &collector{}
	defer c.hub.Subscribe("live/r", play).Close()
	testwait.For(t, 10*time.Second, "c relays b's stream", func() bool { return play.count() > 5 })
	// c publishes live/r as a relay: only b holds the name.
	got := claimAnswers(t, a, claim{Node: "z", Key: "live/r", At: 1})
	if len(got) != 3 || !got["b"] || got["c"] || got["a"] {
		t.Fatalf("answers %v, want b held, a and c (a relay) not", got)
	}
	// A claim from a name that breaks subjects, or without a key, gets
	// no answer; nor does one of a key longer than maxKey.
	for _, q := range []claim{{Node: "x.>", Key: "live/r"}, {Node: "z", Key: ""}, {Node: "z", Key: string(make([]byte, maxKey+1))}} {
		if got := claimAnswers(t, a, q); len(got) != 0 {
			t.Fatalf("claim %+v answered: %v", q.Node, got)
		}
	}
}

// TestClaimCrossing: a's claim meets one of b's in flight (b's pending
// entry, as while b waits for answers): the earlier claim wins on both.
func TestClaimCrossing(t *testing.T) {
	ns := startNodes(t, "a", "b")
	a, b := ns[0], ns[1]
	for i, bEarlier := range []bool{true, false} {
		key := "live/cross" + strconv.Itoa(i)
		at := time.Now().Add(-time.Hour).UnixNano() // earlier than a's
		if !bEarlier {
			at = time.Now().Add(time.Hour).UnixNano()
		}
		p := &pending{claim: claim{Node: "b", Key: key, At: at}}
		b.c.claims.mu.Lock()
		b.c.claims.m[key] = p
		b.c.claims.mu.Unlock()
		pub, err := a.hub.PublishClient(key)
		b.c.claims.mu.Lock()
		lost := p.lost
		delete(b.c.claims.m, key)
		b.c.claims.mu.Unlock()
		if bEarlier {
			if !errors.Is(err, media.ErrBadName) || lost {
				t.Fatalf("b's claim earlier: a got %v, b's claim lost %v; want a refused, b kept", err, lost)
			}
			continue
		}
		if err != nil || !lost {
			t.Fatalf("a's claim earlier: a got %v, b's claim lost %v; want a published, b's lost", err, lost)
		}
		pub.Close()
	}
	if at, bt := (claim{Node: "a", At: 5}), (claim{Node: "b", At: 5}); !at.before(bt) || bt.before(at) {
		t.Fatal("same instant: the lower node name must win on every node")
	}
}

// marker is a player that records the first payload byte of each audio
// frame: which publisher it hears.
type marker struct {
	mu   sync.Mutex
	seen map[byte]int
}

func (m *marker) Receive(f *media.Frame) {
	if f.Kind != media.KindAudio || len(f.Payload) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen[f.Payload[0]]++
}

func (m *marker) heard() map[byte]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := make(map[byte]int, len(m.seen))
	for k, v := range m.seen {
		c[k] = v
	}
	return c
}

func TestClaimSimultaneous(t *testing.T) {
	ns := startNodes(t, "a", "b", "c")
	for round := range 5 {
		key := "live/both" + strconv.Itoa(round)
		players := make([]*marker, len(ns))
		for i, n := range ns {
			players[i] = &marker{seen: map[byte]int{}}
			sub := n.hub.Subscribe(key, players[i])
			defer sub.Close()
		}
		go1 := make(chan struct{})
		pubs := make([]*media.Publisher, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-go1
				pubs[i], errs[i] = ns[i].hub.PublishClient(key)
			}()
		}
		close(go1)
		wg.Wait()
		won := -1
		for i := range 2 {
			switch {
			case errs[i] == nil && won >= 0:
				t.Fatalf("round %d: a and b both publish %s", round, key)
			case errs[i] == nil:
				won = i
			case !errors.Is(errs[i], media.ErrBadName):
				t.Fatalf("round %d: %s: %v", round, ns[i].c.Node(), errs[i])
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither a nor b publishes: %v", round, errs)
		}
		mark := byte('a' + won)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { defer close(done); pumpMarked(pubs[won], stop, mark) }()
		testwait.ForDetail(t, 10*time.Second, "players on a, b and c hear the winner", func() bool {
			for _, p := range players {
				if p.heard()[mark] < 5 {
					return false
				}
			}
			return true
		}, func() string { return "" })
		for i, p := range players {
			if h := p.heard(); len(h) != 1 {
				t.Fatalf("round %d: the player on %s heard %v, want only %c", round, ns[i].c.Node(), h, mark)
			}
		}
		// Every node agrees: only the winner holds the name.
		for i, n := range ns {
			local := n.hub.Published(key) && !n.c.isRelayed(key)
			if local != (i == won) {
				t.Fatalf("round %d: node %s holds %s: %v", round, n.c.Node(), key, local)
			}
		}
		close(stop)
		<-done
		pubs[won].Close()
	}
}

func TestClaimWithoutAnswers(t *testing.T) {
	ns := startNodes(t, "a", "b")
	a := ns[0]
	// A member that never answers claims (an older build, a stuck node):
	// its heartbeats keep it in a's table. a waits claimWait, then
	// accepts with a warning.
	stop := make(chan struct{})
	beats := make(chan struct{})
	go func() {
		defer close(beats)
		tk := time.NewTicker(50 * time.Millisecond)
		defer tk.Stop()
		for {
			hb, _ := json.Marshal(heartbeat{Node: "mute", Started: time.Now()})
			_ = a.c.nc.Publish(subjHeartbeat, hb)
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	testwait.For(t, 5*time.Second, "a sees the mute node", func() bool { return len(a.c.Nodes()) == 3 })
	start := time.Now()
	pub, err := a.hub.PublishClient("live/m")
	took := time.Since(start)
	close(stop)
	<-beats
	if err != nil {
		t.Fatalf("unanswered claim: %v, want accepted", err)
	}
	pub.Close()
	if took < claimWait || took > claimWait+time.Second {
		t.Fatalf("unanswered claim took %v, want about %v", took, claimWait)
	}
	if n := a.c.Stats.ClaimsUnchecked.Load(); n != 1 {
		t.Fatalf("unchecked claims %d, want 1", n)
	}
	// NATS down: accepted at once, with a warning (nobody can hear).
	a.c.ns.Shutdown()
	testwait.For(t, 5*time.Second, "a's connection down", func() bool { return !a.c.nc.IsConnected() })
	start = time.Now()
	pub, err = a.hub.PublishClient("live/down")
	if err != nil || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("NATS down: %v after %v, want accepted at once", err, time.Since(start))
	}
	pub.Close()
	if n := a.c.Stats.ClaimsUnchecked.Load(); n != 2 {
		t.Fatalf("unchecked claims %d, want 2", n)
	}
}

// TestClaimStaleYields: a claim of b's in flight yields to an earlier one
// that comes late (its node "z" already refused and gone: nobody holds
// the name) but still comes first for every later claim, so a's later
// claim is answered "held" by b. Yielding no longer refuses b's own claim
// by itself: only a "held" answer does (claim.go; CI once saw a stale
// claim refuse a publish of a name nobody held).
func TestClaimStaleYields(t *testing.T) {
	ns := startNodes(t, "a", "b")
	a, b := ns[0], ns[1]
	key := "live/stale"
	p := &pending{claim: claim{Node: "b", Key: key, At: b.c.claimTime()}}
	b.c.claims.mu.Lock()
	b.c.claims.m[key] = p
	b.c.claims.mu.Unlock()
	defer func() {
		b.c.claims.mu.Lock()
		delete(b.c.claims.m, key)
		b.c.claims.mu.Unlock()
	}()
	if got := claimAnswers(t, a, claim{Node: "z", Key: key, At: p.At - int64(time.Second)}); got["b"] {
		t.Fatalf("b answered the earlier claim %v, want not held (b yields)", got)
	}
	b.c.claims.mu.Lock()
	lost := p.lost
	b.c.claims.mu.Unlock()
	if !lost {
		t.Fatal("b's claim did not yield to an earlier one")
	}
	if pub, err := a.hub.PublishClient(key); !errors.Is(err, media.ErrBadName) {
		if pub != nil {
			pub.Close()
		}
		t.Fatalf("a's later claim while b's (yielded) is in flight: %v, want refused", err)
	}
}
