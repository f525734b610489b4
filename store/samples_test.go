package store

import (
	"testing"
	"time"
)

// testSamples: samples come back per node, oldest first, from since, at
// most max; a sample at a kept instant is ignored; those older than keep
// are forgotten.
func testSamples(t *testing.T, d *DB, _ string) {
	ctx := migrated(t, d)
	t0 := time.UnixMilli(1_765_000_000_000)
	for i := range 10 {
		if err := d.AddSample(ctx, "a", Sample{At: t0.Add(time.Duration(i) * 10 * time.Second), Calls: i, Streams: 2 * i}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddSample(ctx, "a", Sample{At: t0.Add(90 * time.Second), Calls: 99}, time.Minute); err != nil { // again: ignored
		t.Fatal(err)
	}
	if err := d.AddSample(ctx, "b", Sample{At: t0, Calls: 7}, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := d.Samples(ctx, "a", time.Time{}, 100)
	if err != nil || len(got) != 7 || got[0].Calls != 3 || got[6].Calls != 9 || got[6].Streams != 18 || !got[6].At.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("node a: %+v %v (want 3..9: a minute kept)", got, err)
	}
	if got, err := d.Samples(ctx, "a", t0.Add(50*time.Second), 3); err != nil || len(got) != 3 || got[0].Calls != 7 || got[2].Calls != 9 {
		t.Fatalf("node a, the 3 newest since 50 s: %+v %v", got, err)
	}
	if got, err := d.Samples(ctx, "b", time.Time{}, 100); err != nil || len(got) != 1 || got[0].Calls != 7 {
		t.Fatalf("node b: %+v %v", got, err)
	}
}
