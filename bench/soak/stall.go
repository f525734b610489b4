package main

import (
	"context"
	"sync"
	"time"
)

// span is an interval of wall-clock time.
type span struct{ from, to time.Time }

// stallWatch records when the load generator itself did not run on time
// (a 10 ms ticker late by more than 50 ms): the machine's other jobs or
// this process's own pauses. A listener's gap that overlaps such a stall
// cannot be blamed on the server; the report counts those apart.
type stallWatch struct {
	mu     sync.Mutex
	stalls []span
}

func (w *stallWatch) run(ctx context.Context) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	prev := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		if now.Sub(prev) > 60*time.Millisecond {
			w.mu.Lock()
			w.stalls = append(w.stalls, span{prev, now})
			w.mu.Unlock()
		}
		prev = now
	}
}

// stallMargin widens each stall: a hiccup of the machine starts a little
// before the ticker notices it.
const stallMargin = 100 * time.Millisecond

// overlaps reports whether a stall (widened by stallMargin) overlaps s.
func (w *stallWatch) overlaps(s span) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stalls {
		if st.from.Add(-stallMargin).Before(s.to) && s.from.Before(st.to.Add(stallMargin)) {
			return true
		}
	}
	return false
}

func (w *stallWatch) count() (n int, total time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.stalls {
		total += st.to.Sub(st.from)
	}
	return len(w.stalls), total
}
