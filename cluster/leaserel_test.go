package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/store"
)

// Released leases (lease.go giveUp, stop): the room's next node takes a
// lease its holder gave up at once, not after the lapse. The nodes share
// one SQLite store in this process: the same statements as on PostgreSQL
// (TestPeerRoomLease), without a server to start.

// sqliteLeases is a lease store in a throwaway SQLite file; it closes
// after the nodes that use it stopped (cleanups run last first).
func sqliteLeases(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.URLForDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	return db
}

// noRecentLease waits until n took no lease lately: a lease it took lately is
// kept at a handover (a join may be beginning the room again).
func noRecentLease(t *testing.T, n confNode) {
	t.Helper()
	testwait.For(t, 10*time.Second, n.c.Node()+"'s acquisitions no longer recent", func() bool {
		l := n.c.leases.Load()
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.taken) == 0
	})
}

// mustJoin joins room on n, failing the test if it cannot (a room's node
// reached before its subscriptions crossed the routes is retried by the
// cluster itself: rooms.request).
func mustJoin(t *testing.T, n confNode, room string, o conference.JoinOptions) *conference.Member {
	t.Helper()
	m, _, err := n.svc.Join(room, o)
	if err != nil {
		t.Fatalf("join on %s: %v", n.c.Node(), err)
	}
	return m
}

// TestLeaseReleasedAtHandover: a's renewals fail but its store still
// answers a release; a stops holding the room, releases its lease, and
// the room's next node takes it within a heartbeat, before a's lease
// would have lapsed (without the release it could take it only after). Never two owners. Then releases in a's name, late or forged,
// delete nothing of the new holder's lease.
func TestLeaseReleasedAtHandover(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	const hb = 500 * time.Millisecond // a's lease lapses 3 heartbeats after its last renewal
	db := sqliteLeases(t)
	ns, cuts := startLeaseNodes(t, db, hb, 0, "a", "b", "c")
	a := ns[0]
	const room = "released"
	ms := map[string]*conference.Member{}
	for _, n := range ns { // a's join first: a holds the room
		ms[n.c.Node()] = mustJoin(t, n, room, conference.JoinOptions{User: "u" + n.c.Node()})
	}
	if own := owners(ns, room); !slices.Equal(own, []string{"a"}) {
		t.Fatalf("room held by %v, want a (the first join's node)", own)
	}
	noRecentLease(t, a)

	gaveUp := make(chan time.Time, 1)
	sampler := sampleOwners(ns, room, "a", func() { gaveUp <- time.Now() })
	cuts[0].releases.Store(true)
	cuts[0].cut.Store(true)
	var lastExpiry time.Time // a's lease as last seen
	var next confNode
	want := []string{ms["a"].ID, ms["b"].ID, ms["c"].ID}
	slices.Sort(want)
	testwait.ForDetail(t, 10*time.Second, "the room held by b or c with the three members", func() bool {
		l, err := db.RoomLease(context.Background(), room)
		if err == nil && l.Holder == "a" {
			lastExpiry = l.Expires
			return false
		}
		var ok bool
		next, ok = heldElsewhere(ns, room, "a", want)
		return ok
	}, func() string { return fmt.Sprint("owners ", owners(ns, room)) })
	samples, two := sampler.end()
	if len(two) > 0 {
		t.Fatalf("two owners at %d of %d samples: %v", len(two), samples, two)
	}
	if lastExpiry.IsZero() {
		t.Fatal("a's lease was never seen")
	}
	l, err := db.RoomLease(context.Background(), room)
	if err != nil || l.Holder != next.c.Node() {
		t.Fatalf("lease %+v %v, want held by %s", l, err, next.c.Node())
	}
	left := <-gaveUp
	took := l.Acquired.Sub(left)
	early := lastExpiry.Sub(l.Acquired)
	t.Logf("%s took the lease %v after a gave the room up, %v before a's lease would have lapsed", l.Holder, took, early)
	// Without the release the lease is taken no earlier than it lapsed
	// (the acquisition's SQL), about a heartbeat after a gave it up.
	if took >= hb || early <= 0 {
		t.Fatalf("%s took the lease %v after a gave the room up (want under a heartbeat, %v), %v before a's lapsed (want before)",
			l.Holder, took, hb, early)
	}
	if n := a.c.Stats.RoomLeasesLost.Load(); n != 1 {
		t.Fatalf("a counted %d lost leases, want 1", n)
	}

	// Attack: releases in a's name after the takeover — a's own late
	// release, a forged one, a's graceful stop, a restarted node under
	// the new holder's name — leave the new holder's lease.
	aEpoch := a.c.started.UnixMilli()
	al := a.c.leases.Load()
	al.claim.Lock()
	err = al.releaseGivenUp(context.Background(), room)
	al.claim.Unlock()
	if err != nil {
		t.Fatalf("a's late release: %v", err)
	}
	ctx := context.Background()
	for _, release := range []func() error{
		func() error { return db.ReleaseRoomLease(ctx, room, "a", aEpoch) },
		func() error { return db.ReleaseRoomLeases(ctx, "a", aEpoch) },
		func() error { return db.ReleaseRoomLease(ctx, room, next.c.Node(), next.c.started.UnixMilli()+1) },
	} {
		if err := release(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.RoomLease(ctx, room)
	if err != nil || got.Holder != next.c.Node() || got.Acquired != l.Acquired {
		t.Fatalf("lease after the stale releases: %+v %v, want %s's taken at %v", got, err, next.c.Node(), l.Acquired)
	}
	// The new holder goes on renewing it and holding the room.
	testwait.For(t, 5*time.Second, "the new holder's renewal after the stale releases", func() bool {
		now, err := db.RoomLease(ctx, room)
		return err == nil && now.Holder == next.c.Node() && now.Expires.After(got.Expires)
	})
	if own := owners(ns, room); !slices.Equal(own, []string{next.c.Node()}) {
		t.Fatalf("room held by %v after the stale releases, want %s", own, next.c.Node())
	}
}

// TestLeaseReleasedAtStop: a node stopping gracefully ends its rooms and
// releases their leases: another node begins the room at the next join,
// well before the stopped node's lease would have lapsed (without the
// release the join is sent to the stopped node until then).
func TestLeaseReleasedAtStop(t *testing.T) {
	const hb = 500 * time.Millisecond
	db := sqliteLeases(t)
	ns, _ := startLeaseNodes(t, db, hb, 0, "a", "b")
	a, b := ns[0], ns[1]
	const room = "stopped"
	if _, _, err := a.svc.Join(room, conference.JoinOptions{User: "ua"}); err != nil {
		t.Fatal(err)
	}
	mb := mustJoin(t, b, room, conference.JoinOptions{User: "ub"})
	if own := owners(ns, room); !slices.Equal(own, []string{"a"}) {
		t.Fatalf("room held by %v, want a", own)
	}
	ctx := context.Background()
	before, err := db.RoomLease(ctx, room)
	if err != nil || before.Holder != "a" {
		t.Fatalf("lease %+v %v, want a's", before, err)
	}
	a.stop() // Serve returns: the rooms ended, the leases released
	stopped := time.Now()
	if _, err := db.RoomLease(ctx, room); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a's lease after its graceful stop: %v, want released", err)
	}
	testwait.For(t, 5*time.Second, "b's member told the room ended", func() bool {
		select {
		case <-mb.Done():
			return true
		default:
			return false
		}
	})
	if _, _, err := b.svc.Join(room, conference.JoinOptions{User: "ub2"}); err != nil {
		t.Fatalf("join on b after a stopped: %v", err)
	}
	if !b.svc.Owns(room) {
		t.Fatal("b does not hold the room it began")
	}
	l, err := db.RoomLease(ctx, room)
	if err != nil || l.Holder != "b" {
		t.Fatalf("lease %+v %v, want b's", l, err)
	}
	// a's lease, renewed every heartbeat for three, had at least two
	// heartbeats to live when it was read before the stop.
	t.Logf("b took the lease %v after a stopped, %v before a's would have lapsed", l.Acquired.Sub(stopped), before.Expires.Sub(l.Acquired))
	if l.Acquired.Sub(stopped) > hb || before.Expires.Sub(l.Acquired) < hb {
		t.Fatalf("b took the lease at %v: a stopped at %v, its lease lapsing at %v", l.Acquired, stopped, before.Expires)
	}
}
