package web

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/store"
)

// TestLiveHistoryStored: the chart samples go to the store; a new Live
// over the same store (a restart) starts with them; another node's
// samples are not shown; the store keeps only the window.
func TestLiveHistoryStored(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.URLForDataDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	other := time.Now().Add(-time.Second).Truncate(time.Second)
	if err := db.AddSample(ctx, "other", store.Sample{At: other, Calls: 42}, time.Hour); err != nil {
		t.Fatal(err)
	}
	serve := func(l *Live, until func() bool) {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = l.Serve(sctx) }()
		testwait.For(t, 10*time.Second, "samples", until)
		cancel()
		<-done
	}
	first := &Live{Store: db, Node: "n1", Sample: time.Second, Keep: 5}
	serve(first, func() bool { return len(first.History()) >= 2 })
	before := first.History()
	again := &Live{Store: db, Node: "n1", Sample: time.Second, Keep: 5}
	serve(again, func() bool { return len(again.History()) >= len(before)+1 })
	after := again.History()
	t.Logf("before the restart %d samples, after it %d", len(before), len(after))
	for i, s := range before {
		if !after[i].At.Equal(s.At) || after[i].Calls != 0 {
			t.Fatalf("sample %d after the restart %+v, before %+v", i, after[i], s)
		}
	}
	stored, err := db.Samples(ctx, "n1", time.Time{}, 100)
	if err != nil || len(stored) != len(after) || len(stored) > 6 {
		t.Fatalf("stored %d samples (%v), shown %d; keep 5 s", len(stored), err, len(after))
	}
}
