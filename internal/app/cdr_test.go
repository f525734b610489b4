package app

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/store"
)

func openTestStore(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), store.URLForDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestCDRWriter: records queued while calls end are all in the store
// after close; with the store failing they are retried, then dropped and
// counted at close, and CallEnded never blocks.
func TestCDRWriter(t *testing.T) {
	db := openTestStore(t)
	defer db.Close()
	w := newCDRWriter(db, slog.New(slog.DiscardHandler))
	now := time.Now()
	for _, id := range []string{"a", "b", "c"} {
		w.CallEnded(call.Record{Call: id, From: "alice", To: "bob", Started: now, Ended: now, Event: call.EvBye, Reason: "shutdown"})
	}
	w.close()
	if cs, err := db.CDRs(context.Background(), store.CDRFilter{}); err != nil || len(cs) != 3 || cs[0].Reason != "shutdown" || w.Written.Load() != 3 {
		t.Fatalf("after close: %+v %v (written %d)", cs, err, w.Written.Load())
	}

	broken := openTestStore(t)
	broken.Close() // every write fails
	w = newCDRWriter(broken, slog.New(slog.DiscardHandler))
	start := time.Now()
	for range 1000 {
		w.CallEnded(call.Record{Call: "x", Started: now, Ended: now})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("CallEnded blocked: %v for 1000", d)
	}
	w.close()
	if w.Dropped.Load() != 1000 || w.Written.Load() != 0 {
		t.Fatalf("written %d, dropped %d", w.Written.Load(), w.Dropped.Load())
	}
	var none *cdrWriter
	if none.recorder() != nil {
		t.Fatal("no store, but a recorder")
	}
	none.close()
}
