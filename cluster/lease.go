package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flashvox/flashvox/conference"
)

// Room leases (docs/CLUSTER.md "Conferences"): with a store shared by
// every node (Options.Leases: PostgreSQL), a room is held by the node
// whose lease the store has, not by the node the node tables pick. The
// node of a room's first join takes the lease for itself (one atomic
// statement: the first of two racing nodes wins, the other is told the
// winner and forwards its join there), so two nodes whose node tables
// disagree still make one room, and a node's loss moves only the rooms it
// held. The holder renews all its leases in one statement every
// heartbeat; a lease lapses after three heartbeats without renewal (as a
// silent node is lost), on the store's clock. Survivors re-home a lost
// node's room only once its lease lapsed: the first to take it holds it.
// A holder whose renewal fails, or that finds another node holding its
// room, stops holding the room before the lease can lapse, so two nodes
// never hold one room, and hands it over: its members, and the other
// nodes', rejoin it at the node that takes the lease next
// (conference/handover.go). Once it no longer holds the room it releases
// the lease where the store still answers (only while the lease is still
// this node's), so the next node takes it at once; else the lease lapses.
// A node that stops gracefully releases all its leases.

// Leases is the store of room leases shared by the cluster's nodes
// (store.DB on PostgreSQL). epoch is the node's start time (Unix ms): a
// node restarted under its name is another holder.
type Leases interface {
	// AcquireRoomLease takes room for node for ttl when free, lapsed or
	// node's already, atomically, and returns the holder after it.
	AcquireRoomLease(ctx context.Context, room, node string, epoch int64, ttl time.Duration) (holder string, holderEpoch int64, err error)
	// RenewRoomLeases extends node's leases that did not lapse; it
	// returns their rooms.
	RenewRoomLeases(ctx context.Context, node string, epoch int64, ttl time.Duration) ([]string, error)
	// ReleaseRoomLease and ReleaseRoomLeases give node's leases up.
	ReleaseRoomLease(ctx context.Context, room, node string, epoch int64) error
	ReleaseRoomLeases(ctx context.Context, node string, epoch int64) error
}

// leaseWait bounds one acquisition (a join waits for it).
const leaseWait = 3 * time.Second

// leases is this node's side of the room leases; Serve runs its renewals.
type leases struct {
	c       *Cluster
	store   Leases
	epoch   int64
	hb, ttl time.Duration
	// claim orders this node's acquisitions and releases: a release
	// checks that no join took the lease again since the renewal that
	// found it orphaned.
	claim sync.Mutex

	mu sync.Mutex
	// taken is the rooms whose lease this node took lately: a join under
	// way holds the lease before the room exists here; it is not an
	// orphan to release until two heartbeats later.
	taken    map[string]time.Time
	lastOK   time.Time // when the last renewal that succeeded was sent
	stopping bool
}

func newLeases(c *Cluster) *leases {
	return &leases{c: c, store: c.o.Leases, epoch: c.started.UnixMilli(), hb: c.o.Heartbeat, ttl: 3 * c.o.Heartbeat,
		taken: map[string]time.Time{}, lastOK: time.Now()}
}

// owner takes room's lease for this node, or tells who holds it ("" =
// this node).
func (l *leases) owner(room string) (string, error) {
	if !conference.ValidRoomName(room) {
		return "", conference.ErrBadRoom
	}
	me := l.c.o.Node
	if l.isStopping() {
		return "", conference.ErrClosed
	}
	if !l.c.nc.IsConnected() {
		// A node cut off from the others does not keep their rooms
		// (renew), nor take them: it would give them up again at its
		// next renewal, its lease keeping the others out meanwhile.
		return "", fmt.Errorf("cluster: lease %s: %w", room, errNotConnected)
	}
	ctx, cancel := context.WithTimeout(context.Background(), leaseWait)
	defer cancel()
	l.claim.Lock()
	defer l.claim.Unlock()
	if l.isStopping() { // stop released every lease while this one waited
		return "", conference.ErrClosed
	}
	holder, epoch, err := l.store.AcquireRoomLease(ctx, room, me, l.epoch, l.ttl)
	if err != nil {
		return "", fmt.Errorf("cluster: lease %s: %w", room, err)
	}
	if holder != me {
		return holder, nil
	}
	if epoch != l.epoch {
		// This node's previous life (restarted under its name) holds it
		// until the lease lapses: its room is gone, not here.
		return "", conference.ErrMoving
	}
	l.mu.Lock()
	l.taken[room] = time.Now()
	l.mu.Unlock()
	return "", nil
}

// renewLeases renews the room leases every heartbeat until ctx ends
// (none until ServeRooms set them up).
func (c *Cluster) renewLeases(ctx context.Context) {
	if c.o.Leases == nil {
		return
	}
	t := time.NewTicker(c.o.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if l := c.leases.Load(); l != nil {
				l.renew(ctx)
			}
		}
	}
}

// renew extends this node's leases and hands over the rooms held here
// whose lease it lost; it releases the leases of rooms that ended here.
func (l *leases) renew(ctx context.Context) {
	svc, me := l.c.roomSvc, l.c.o.Node
	held := svc.Held() // before the renewal: each had its lease taken before it began
	sent := time.Now()
	var renewed []string
	err := errNotConnected
	if l.c.nc.IsConnected() { // a node cut off from the others does not keep their rooms
		cctx, cancel := context.WithTimeout(ctx, l.hb/2)
		renewed, err = l.store.RenewRoomLeases(cctx, me, l.epoch, l.ttl)
		cancel()
	}
	if ctx.Err() != nil {
		return // stopping: stop ends the rooms and releases the leases
	}
	l.mu.Lock()
	if err != nil {
		// The lease may lapse before the next heartbeat's renewal is
		// done (it comes a heartbeat from now, a tick maybe a little
		// early, and may take half a heartbeat): stop holding the rooms
		// now, while no other node can have them.
		lapsing := !time.Now().Add(l.hb + l.hb/2).Before(l.lastOK.Add(l.ttl))
		l.mu.Unlock()
		if len(held) == 0 { // nothing at stake: no log every heartbeat while the store is down
			l.c.log.Debug("cluster: room leases not renewed", "err", err)
			return
		}
		l.c.log.Warn("cluster: room leases not renewed", "err", err, "rooms", len(held), "ending", lapsing)
		if lapsing {
			l.giveUp(ctx, held)
		}
		return
	}
	l.lastOK = sent
	have := make(map[string]bool, len(held))
	for _, room := range held {
		have[room] = true
	}
	var orphans []string
	for _, room := range renewed {
		if !have[room] && sent.Sub(l.taken[room]) > 2*l.hb {
			orphans = append(orphans, room) // the room ended here (or its first join failed)
		}
		delete(have, room)
	}
	for room, at := range l.taken {
		if sent.Sub(at) > 2*l.hb {
			delete(l.taken, room)
		}
	}
	l.mu.Unlock()
	for room := range have {
		// Nothing to release: the lease is another node's, or lapsed
		// and anyone's to take.
		l.lost(room, "held by another node or lapsed", nil)
	}
	for _, room := range orphans {
		l.release(ctx, room)
	}
}

// release gives up the lease of room, which ended here, unless a join
// took it again meanwhile.
func (l *leases) release(ctx context.Context, room string) {
	l.claim.Lock()
	defer l.claim.Unlock()
	l.mu.Lock()
	_, again := l.taken[room]
	l.mu.Unlock()
	if again || l.c.roomSvc.Owns(room) {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, l.hb/2)
	defer cancel()
	if err := l.store.ReleaseRoomLease(cctx, room, l.c.o.Node, l.epoch); err != nil {
		l.c.log.Warn("cluster: room lease not released", "room", room, "err", err)
	}
}

var errNotConnected = errors.New("cluster: not connected to nats")

// lost stops holding room, whose lease this node no longer has (or may
// lose before its next renewal), and moves it to its next node
// (conference/handover.go); release, if not nil, gives the lease up once
// the room is no longer held here, before the other nodes are told. The
// claim lock keeps this node's own acquisitions (its members' move)
// until after the release.
func (l *leases) lost(room, why string, release func()) {
	l.c.Stats.RoomLeasesLost.Add(1)
	l.c.log.Warn("cluster: room lease lost: the room moves to its next node", "room", room, "why", why)
	if release == nil {
		l.c.roomSvc.HandOver(room, nil)
		return
	}
	l.claim.Lock()
	defer l.claim.Unlock()
	l.c.roomSvc.HandOver(room, release)
}

// giveUp hands over rooms, held here, whose leases may lapse before the
// next renewal can succeed, and releases each lease once its room is no
// longer held here: what failed the renewal (this node cut off from NATS,
// a store that timed out once) may not fail the release, and a released
// lease is taken by the room's next node at its first try instead of
// after the lapse. A lease the store does not release lapses as before;
// after one failure the others are not tried (each would wait out the
// timeout while joins wait for the claim lock).
func (l *leases) giveUp(ctx context.Context, rooms []string) {
	rctx, cancel := context.WithTimeout(ctx, l.hb/2)
	defer cancel()
	failed := false
	for _, room := range rooms {
		l.lost(room, "renewal failed", func() {
			if failed {
				return
			}
			if err := l.releaseGivenUp(rctx, room); err != nil {
				failed = true
				l.c.log.Warn("cluster: room lease not released at its handover: the room moves once it lapsed", "room", room, "err", err)
			}
		})
	}
}

// releaseGivenUp releases the lease of room, which this node just stopped
// holding, with l.claim held (no acquisition of this node under way). The
// store deletes the lease only while it is this node's (this name and
// start time), never a newer holder's. It keeps the lease when a join
// here took it lately (that join may be beginning the room here again),
// or the room is held here again (a join that found it held just before
// the handover began it anew).
func (l *leases) releaseGivenUp(ctx context.Context, room string) error {
	l.mu.Lock()
	at, again := l.taken[room]
	l.mu.Unlock()
	if (again && time.Since(at) <= 2*l.hb) || l.c.roomSvc.Owns(room) {
		return nil
	}
	if err := l.store.ReleaseRoomLease(ctx, room, l.c.o.Node, l.epoch); err != nil {
		return fmt.Errorf("cluster: lease %s: release: %w", room, err)
	}
	return nil
}

func (l *leases) isStopping() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopping
}

// stop ends the rooms held here (reason shutdown) while the other nodes
// still hear their events, and releases every lease, so the rooms may
// begin again elsewhere at once.
func (l *leases) stop() {
	l.claim.Lock() // an acquisition under way ends first: its lease is released below
	l.mu.Lock()
	l.stopping = true
	l.mu.Unlock()
	l.claim.Unlock()
	for _, room := range l.c.roomSvc.Held() {
		l.c.roomSvc.EndHeld(room, conference.ReasonShutdown)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.store.ReleaseRoomLeases(ctx, l.c.o.Node, l.epoch); err != nil {
		l.c.log.Warn("cluster: room leases not released", "err", err)
	}
}
