package app

import (
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

var sink [][]byte

// TestMemoryReturner: garbage left by a burst is collected and returned at
// the next look; a server that allocates more than it could return is left
// to the runtime.
func TestMemoryReturner(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but ours
	m := newMemoryReturner(prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	runtime.GC()
	m.check() // the first look may return what the test binary's start left
	m.returned.Store(0)
	burst := func() {
		for range 64 {
			sink = append(sink, make([]byte, 256<<10))
		}
		sink = nil
	}

	burst() // 16 MiB of garbage, allocated since the last look: busy, leave it
	m.check()
	if n := m.returned.Load(); n != 0 {
		t.Fatalf("returned %v times while the program allocated as much as it could give back", n)
	}
	m.check() // a quiet interval: now return it
	if n := m.returned.Load(); n != 1 {
		t.Fatalf("returned %v times after a quiet interval, want 1", n)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if idle := ms.HeapIdle - ms.HeapReleased; idle > memoryReturnMin {
		t.Errorf("%d bytes of idle heap not returned", idle)
	}
	m.check() // nothing left to return
	if n := m.returned.Load(); n != 1 {
		t.Fatalf("returned %v times with nothing to return", n)
	}
}
