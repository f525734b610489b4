package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// After a burst (a flood of hostile connections, a crowd that left) the Go
// runtime keeps the garbage until its next collection, which an idle server
// may not reach for two minutes, and then returns freed pages to the system
// only slowly (its scavenger keeps ~10 % over the heap goal and releases at
// a fixed pace). A server that must come back to its resting size after an
// attack (docs/SECURITY.md, BENCHMARKS.md "Soak") gives that memory back
// itself: every memoryCheckEvery it looks at what a collection would free
// plus what is free and not yet returned, and when that is at least
// memoryReturnMin and more than twice what the program allocated since the
// last look (a busy server would take it back at once: returning it would
// only cost page faults), it collects and returns it (debug.FreeOSMemory).
const (
	memoryCheckEvery = 5 * time.Second
	memoryReturnMin  = 2 << 20
)

// memoryReturner owns the goroutine that returns memory; run stops with ctx.
type memoryReturner struct {
	log      *slog.Logger
	returned atomic.Uint64
	samples  []metrics.Sample
	allocs   uint64 // cumulative bytes allocated at the last look
}

func newMemoryReturner(reg prometheus.Registerer, log *slog.Logger) *memoryReturner {
	m := &memoryReturner{
		log: log,
		samples: []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"}, // live and dead objects not yet swept
			{Name: "/gc/heap/live:bytes"},                // marked live by the last collection
			{Name: "/memory/classes/heap/free:bytes"},    // free, not yet returned
			{Name: "/gc/heap/allocs:bytes"},              // allocated since the start
		},
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "flashvox_memory_returned_total",
		Help: "Times the server collected and returned idle memory to the system after a burst.",
	}, func() float64 { return float64(m.returned.Load()) }))
	return m
}

func (m *memoryReturner) run(ctx context.Context) {
	t := time.NewTicker(memoryCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.check()
		}
	}
}

// check returns memory when the last interval allocated less than half of
// what a collection would give back.
func (m *memoryReturner) check() {
	metrics.Read(m.samples)
	objects, live, free, allocs := m.samples[0].Value.Uint64(), m.samples[1].Value.Uint64(), m.samples[2].Value.Uint64(), m.samples[3].Value.Uint64()
	recent := allocs - m.allocs
	m.allocs = allocs
	reclaimable := free
	if objects > live {
		reclaimable += objects - live
	}
	if reclaimable < memoryReturnMin || 2*recent >= reclaimable {
		return
	}
	debug.FreeOSMemory()
	m.returned.Add(1)
	m.log.Debug("returned idle memory", "reclaimable_bytes", reclaimable, "allocated_bytes", recent)
}
