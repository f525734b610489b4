package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
)

// lapsed reports whether room's lease lapsed by the database's clock.
func lapsed(t *testing.T, d *DB, room string) bool {
	t.Helper()
	var n int
	if err := d.db.QueryRow(`SELECT COUNT(*) FROM room_leases WHERE room = $1 AND expires_ms <= `+d.nowMS(), room).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// testLeases: one holder at a time, renewals only by the holder before
// the lapse, takeover only after it, releases only by the holder; many
// nodes acquiring one new room at once agree on one holder.
func testLeases(t *testing.T, d *DB, _ string) {
	ctx := context.Background()
	if _, err := d.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	acquire := func(room, node string, epoch int64, ttl time.Duration) (string, int64) {
		t.Helper()
		h, e, err := d.AcquireRoomLease(ctx, room, node, epoch, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return h, e
	}
	renew := func(node string, epoch int64, ttl time.Duration) []string {
		t.Helper()
		rs, err := d.RenewRoomLeases(ctx, node, epoch, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	if h, e := acquire("r1", "a", 1, time.Minute); h != "a" || e != 1 {
		t.Fatalf("first acquire: %s/%d, want a/1", h, e)
	}
	l, err := d.RoomLease(ctx, "r1")
	if err != nil || l.Holder != "a" || l.Epoch != 1 || l.Expires.Sub(l.Acquired) != time.Minute {
		t.Fatalf("lease: %+v %v, want a's for a minute", l, err)
	}
	if h, _ := acquire("r1", "b", 7, time.Minute); h != "a" {
		t.Fatalf("b's acquire of a's lease: holder %s", h)
	}
	// a restarted (same name, another start time) does not take its
	// previous life's lease before it lapses.
	if h, e := acquire("r1", "a", 2, time.Minute); h != "a" || e != 1 {
		t.Fatalf("a restarted: %s/%d, want a/1", h, e)
	}
	if h, e := acquire("r1", "a", 1, time.Minute); h != "a" || e != 1 {
		t.Fatalf("a again: %s/%d", h, e)
	}
	if rs := renew("a", 1, time.Minute); len(rs) != 1 || rs[0] != "r1" {
		t.Fatalf("a's renewal: %v", rs)
	}
	if rs := renew("a", 2, time.Minute); len(rs) != 0 {
		t.Fatalf("a restarted renews its previous life's lease: %v", rs)
	}
	if err := d.ReleaseRoomLease(ctx, "r1", "b", 7); err != nil {
		t.Fatal(err)
	}
	if l, err := d.RoomLease(ctx, "r1"); err != nil || l.Holder != "a" {
		t.Fatalf("b released a's lease: %+v %v", l, err)
	}
	if err := d.ReleaseRoomLease(ctx, "r1", "a", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RoomLease(ctx, "r1"); err != ErrNotFound {
		t.Fatalf("a's released lease: %v", err)
	}

	// Attack: a stale holder renews after the lapse, before and after a
	// takeover; only the new holder renews.
	const ttl = 150 * time.Millisecond
	acquire("r2", "a", 1, ttl)
	acquire("r3", "a", 1, time.Minute)
	testwait.For(t, 5*time.Second, "a's short lease to lapse", func() bool { return lapsed(t, d, "r2") })
	if rs := renew("a", 1, time.Minute); len(rs) != 1 || rs[0] != "r3" {
		t.Fatalf("a's renewal after r2 lapsed: %v, want r3 only", rs)
	}
	if h, e := acquire("r2", "b", 7, time.Minute); h != "b" || e != 7 {
		t.Fatalf("takeover of a lapsed lease: %s/%d", h, e)
	}
	if rs := renew("a", 1, time.Minute); len(rs) != 1 || rs[0] != "r3" {
		t.Fatalf("a's renewal after b took r2: %v", rs)
	}
	if h, _ := acquire("r2", "a", 1, time.Minute); h != "b" {
		t.Fatalf("a's acquire of b's lease: %s", h)
	}
	// Attack: a releases its lease late (after b took it), b's restart
	// releases its previous life's: both delete nothing.
	for _, who := range []struct {
		node  string
		epoch int64
	}{{"a", 1}, {"b", 8}} {
		if err := d.ReleaseRoomLease(ctx, "r2", who.node, who.epoch); err != nil {
			t.Fatal(err)
		}
		if l, err := d.RoomLease(ctx, "r2"); err != nil || l.Holder != "b" || l.Epoch != 7 {
			t.Fatalf("b's lease after %s/%d's release: %+v %v", who.node, who.epoch, l, err)
		}
	}
	if rs := renew("b", 7, time.Minute); len(rs) != 1 || rs[0] != "r2" {
		t.Fatalf("b's renewal: %v", rs)
	}
	if err := d.ReleaseRoomLeases(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RoomLease(ctx, "r3"); err != ErrNotFound {
		t.Fatalf("a's leases after its graceful stop: %v", err)
	}
	if l, err := d.RoomLease(ctx, "r2"); err != nil || l.Holder != "b" {
		t.Fatalf("b's lease after a's graceful stop: %+v %v", l, err)
	}

	// Eight nodes acquire one new room at once: one holder, all agree.
	var wg sync.WaitGroup
	got := make([]string, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _, errs[i] = d.AcquireRoomLease(ctx, "race", fmt.Sprint("n", i), int64(i), time.Minute)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("node n%d: holder %q %v; node n0: %q", i, got[i], errs[i], got[0])
		}
	}
	if _, _, err := d.AcquireRoomLease(ctx, "", "a", 1, time.Minute); err == nil {
		t.Fatal("a lease of no room was taken")
	}
}
