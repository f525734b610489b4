package cluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/store"
)

// cutLeases is a node's way to the lease store, which a test can cut (the
// store unreachable from that node only).
type cutLeases struct {
	Leases
	cut atomic.Bool
	// releases pass while cut: a store that failed this node's renewal
	// but answers its release (or a node cut off from NATS, which renews
	// nothing).
	releases atomic.Bool
}

var errCut = errors.New("test: store cut off")

func (c *cutLeases) AcquireRoomLease(ctx context.Context, room, node string, epoch int64, ttl time.Duration) (string, int64, error) {
	if c.cut.Load() {
		return "", 0, errCut
	}
	return c.Leases.AcquireRoomLease(ctx, room, node, epoch, ttl)
}

func (c *cutLeases) RenewRoomLeases(ctx context.Context, node string, epoch int64, ttl time.Duration) ([]string, error) {
	if c.cut.Load() {
		return nil, errCut
	}
	return c.Leases.RenewRoomLeases(ctx, node, epoch, ttl)
}

func (c *cutLeases) ReleaseRoomLease(ctx context.Context, room, node string, epoch int64) error {
	if c.cut.Load() && !c.releases.Load() {
		return errCut
	}
	return c.Leases.ReleaseRoomLease(ctx, room, node, epoch)
}

func (c *cutLeases) ReleaseRoomLeases(ctx context.Context, node string, epoch int64) error {
	if c.cut.Load() && !c.releases.Load() {
		return errCut
	}
	return c.Leases.ReleaseRoomLeases(ctx, node, epoch)
}

// leaseDB is the lease store of a throwaway PostgreSQL, and a plain SQL
// connection to it for what no node may do (a theft, the database's clock).
type leaseDB struct {
	*store.DB
	raw *sql.DB
}

func startLeaseDB(t *testing.T) leaseDB {
	t.Helper()
	pg := testpeer.StartPostgres(t)
	ctx := context.Background()
	db, err := store.Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return leaseDB{db, raw}
}

// live reports whether room's lease has not lapsed, by the database's clock.
func (d leaseDB) live(t *testing.T, room string) bool {
	t.Helper()
	var ok bool
	err := d.raw.QueryRow(`SELECT expires_ms > (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT FROM room_leases WHERE room = $1`, room).Scan(&ok)
	if err != nil {
		t.Fatalf("lease of %s: %v", room, err)
	}
	return ok
}

// startLeaseNodes starts conference nodes that share db's room leases;
// rehome bounds their members' moves (0: the default).
func startLeaseNodes(t *testing.T, db Leases, hb, rehome time.Duration, names ...string) ([]confNode, []*cutLeases) {
	t.Helper()
	cuts := make([]*cutLeases, len(names))
	ns := startNodesWith(t, names, func(i int, o *Options) {
		cuts[i] = &cutLeases{Leases: db}
		o.Leases, o.Heartbeat = cuts[i], hb
	})
	return confNodesWith(t, ns, names, func(o *conference.Options) { o.RehomeFor = rehome }), cuts
}

func byName(ns []confNode, name string) confNode {
	for _, n := range ns {
		if n.c.Node() == name {
			return n
		}
	}
	panic("no node " + name)
}

// TestPeerRoomLease: conference rooms of a cluster placed by leases in a
// real PostgreSQL.
func TestPeerRoomLease(t *testing.T) {
	testpeer.SkipShort(t, "postgresql")
	db := startLeaseDB(t)
	t.Run("disagreeing tables", func(t *testing.T) { testLeaseDisagreeingTables(t, db) })
	t.Run("owner lost", func(t *testing.T) { testLeaseOwnerLost(t, db) })
	t.Run("lease lost", func(t *testing.T) { testLeaseLost(t, db) })
	t.Run("handover", func(t *testing.T) { testLeaseHandover(t, db) })
}

// testLeaseDisagreeingTables: a does not see b in its node table (b
// joined a moment ago), so rendezvous hashing picks a on a and b on b;
// first joins of the same new room on both at once make one room with
// both members.
func testLeaseDisagreeingTables(t *testing.T, db leaseDB) {
	ns, _ := startLeaseNodes(t, db, 200*time.Millisecond, 0, "a", "b")
	a, b := ns[0], ns[1]
	room := ""
	for i := 0; room == ""; i++ {
		if r := fmt.Sprint("split", i); rendezvous(r, b.c.Nodes()) == "b" {
			room = r
		}
	}
	for try := 0; ; try++ {
		a.c.nodes.remove("b")
		if rendezvous(room, a.c.Nodes()) == "a" && rendezvous(room, b.c.Nodes()) == "b" {
			break // the tables disagree on the room's node
		}
		if try == 100 {
			t.Fatal("could not make the node tables disagree")
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	ms := make([]*conference.Member, 2)
	errs := make([]error, 2)
	for i, n := range ns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ms[i], _, errs[i] = n.svc.Join(room, conference.JoinOptions{User: "u" + n.c.Node()})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("join on %s: %v", ns[i].c.Node(), err)
		}
	}
	own := owners(ns, room)
	if len(own) != 1 {
		t.Fatalf("room held by %v, want exactly one node", own)
	}
	info, err := byName(ns, own[0]).svc.Room(room)
	if err != nil || len(info.Members) != 2 {
		t.Fatalf("room on %s: %+v %v, want both members", own[0], info, err)
	}
	l, err := db.RoomLease(context.Background(), room)
	if err != nil || l.Holder != own[0] {
		t.Fatalf("lease %+v %v, want held by %s", l, err, own[0])
	}
	// The room ends: its lease is released within two heartbeats, and
	// the next first join may begin it anywhere.
	for _, m := range ms {
		m.Leave()
	}
	testwait.For(t, 5*time.Second, "the ended room's lease released", func() bool {
		_, err := db.RoomLease(context.Background(), room)
		return errors.Is(err, store.ErrNotFound)
	})
}

// testLeaseOwnerLost: the room's node dies (no NATS, no renewals); the
// other nodes' members follow the room to exactly one survivor, and no
// survivor holds it before the dead node's lease lapsed.
func testLeaseOwnerLost(t *testing.T, db leaseDB) {
	const hb = 200 * time.Millisecond
	ns, _ := startLeaseNodes(t, db, hb, 0, "a", "b", "c")
	const room = "moving"
	var ms []*conference.Member
	for _, n := range []confNode{ns[1], ns[0], ns[2]} { // b's join first: b holds it
		m, _, err := n.svc.Join(room, conference.JoinOptions{User: "u" + n.c.Node()})
		if err != nil {
			t.Fatalf("join on %s: %v", n.c.Node(), err)
		}
		ms = append(ms, m)
	}
	if own := owners(ns, room); !slices.Equal(own, []string{"b"}) {
		t.Fatalf("room held by %v, want b (the first join's node)", own)
	}
	b := ns[1]
	b.c.Close() // b dies: its NATS goes, its renewals stop
	rest := []confNode{ns[0], ns[2]}
	var lastExpiry time.Time // b's lease as last seen
	var early []string
	testwait.ForDetail(t, 15*time.Second, "the room held by one survivor with both members", func() bool {
		// The owners first, then the lease: a node holds a room only
		// after it took its lease, so a room seen held under b's lease
		// read after it is two owners.
		o := owners(rest, room)
		l, err := db.RoomLease(context.Background(), room)
		if err != nil {
			return false
		}
		if l.Holder == "b" {
			lastExpiry = l.Expires
			if len(o) > 0 {
				early = append(early, fmt.Sprintf("%v hold the room while b's lease is live: %v", o, db.live(t, room)))
			}
			return false
		}
		if len(o) != 1 || o[0] != l.Holder {
			return false
		}
		info, err := byName(rest, o[0]).svc.Room(room)
		if err != nil || len(info.Members) != 2 {
			return false
		}
		if l.Acquired.Before(lastExpiry) {
			early = append(early, fmt.Sprintf("%s took the lease at %v, before b's lapsed at %v", l.Holder, l.Acquired, lastExpiry))
		}
		return true
	}, func() string { return fmt.Sprint("owners ", owners(rest, room)) })
	if len(early) > 0 {
		t.Fatal(early)
	}
	if lastExpiry.IsZero() {
		t.Fatal("b's lease was never seen")
	}
	for _, m := range []*conference.Member{ms[1], ms[2]} {
		select {
		case <-m.Done():
			t.Fatalf("member %s out after the move", m.ID)
		default:
		}
	}
}

// testLeaseLost: a node whose lease is taken by a holder that is no node
// of the cluster stops holding the room before its lease can lapse; its
// members, and the other nodes', cannot follow the room there and are
// ended (lease_lost) after the move's bound; the old holder's renewals
// never get the lease back.
func testLeaseLost(t *testing.T, db leaseDB) {
	const hb = 300 * time.Millisecond
	ns, _ := startLeaseNodes(t, db, hb, time.Second, "a", "b")
	a, b := ns[0], ns[1]
	join := func(n confNode, room string) (*conference.Member, *eventLog) {
		t.Helper()
		log := &eventLog{}
		m, _, err := n.svc.Join(room, conference.JoinOptions{User: "u" + n.c.Node(), Notify: log.notify})
		if err != nil {
			t.Fatalf("join %s on %s: %v", room, n.c.Node(), err)
		}
		return m, log
	}
	endedLost := func(m *conference.Member, log *eventLog) bool {
		select {
		case <-m.Done():
		default:
			return false
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		return slices.ContainsFunc(log.ev, func(e conference.Event) bool {
			return e.Type == conference.EvEnded && e.Reason == conference.ReasonLeaseLost
		})
	}

	// Another holder takes a's lease behind its back (what a node that
	// wrongly thought it lapsed would do).
	ma, la := join(a, "stolen")
	mb, lb := join(b, "stolen")
	if own := owners(ns, "stolen"); !slices.Equal(own, []string{"a"}) {
		t.Fatalf("stolen held by %v, want a", own)
	}
	if _, err := db.raw.Exec(`UPDATE room_leases SET holder = 'mallory', epoch = 1, expires_ms = expires_ms + 60000 WHERE room = 'stolen'`); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "a to stop holding the stolen room", func() bool { return len(owners(ns, "stolen")) == 0 })
	testwait.For(t, 5*time.Second, "both members told the room ended (lease_lost)", func() bool {
		return endedLost(ma, la) && endedLost(mb, lb)
	})
	if own := owners(ns, "stolen"); len(own) != 0 {
		t.Fatalf("stolen still held by %v", own)
	}
	if a.c.Stats.RoomLeasesLost.Load() != 1 {
		t.Fatalf("a counted %d lost leases, want 1", a.c.Stats.RoomLeasesLost.Load())
	}
	// a's renewals (it goes on renewing its other leases) do not get it back.
	if rs, err := db.RenewRoomLeases(context.Background(), "a", a.c.started.UnixMilli(), time.Minute); err != nil || slices.Contains(rs, "stolen") {
		t.Fatalf("a's renewal: %v %v", rs, err)
	}
	if l, err := db.RoomLease(context.Background(), "stolen"); err != nil || l.Holder != "mallory" {
		t.Fatalf("stolen's lease: %+v %v, want mallory's", l, err)
	}
}
