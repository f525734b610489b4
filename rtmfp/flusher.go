package rtmfp

import (
	"context"
	"sync"
	"time"
)

// corkDelay is how long a session's media waits before it is sent, so
// that the frames a publisher fans out in one burst (ffmpeg writes four
// 16 ms Nellymoser frames at once, Flash several per RTMP chunk read) leave
// in one packet per player instead of one each. rtmfp-cpp gets the same
// effect from its run loop: a flow written during one turn is sent when
// the interface becomes writable, after every handler of that turn ran.
// Each packet costs a sendto, its checksum and AES-CBC, and the player's
// acknowledgement of it; the profile of bench/rtmfp with 200 players was
// dominated by those (BENCHMARKS.md). 2 ms is small beside the frames'
// own 16–20 ms and the audio lifetime; Go timers below a millisecond are
// not kept precisely when the process is idle anyway.
const corkDelay = 2 * time.Millisecond

// flusher sends the media queued by Conn.WriteMessage of many sessions
// from one goroutine, corkDelay after the first write of a burst.
type flusher struct {
	mu      sync.Mutex
	pending []*session // sessions with s.flushQueued set
	spare   []*session
	wake    chan struct{}
}

func newFlusher() *flusher { return &flusher{wake: make(chan struct{}, 1)} }

// add queues s to be transmitted (called with s.mu held).
func (f *flusher) add(s *session) {
	if s.flushQueued {
		return
	}
	s.flushQueued = true
	f.mu.Lock()
	f.pending = append(f.pending, s)
	first := len(f.pending) == 1
	f.mu.Unlock()
	if first {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// run is the flusher's goroutine; it ends with ctx.
func (f *flusher) run(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
		t.Reset(corkDelay)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f.mu.Lock()
		batch := f.pending
		f.pending, f.spare = f.spare[:0], nil
		f.mu.Unlock()
		now := time.Now()
		for _, s := range batch {
			s.mu.Lock()
			s.flushQueued = false
			if s.state == stateOpen {
				s.transmit(now)
			}
			s.mu.Unlock()
		}
		clear(batch)
		f.mu.Lock()
		if f.spare == nil && cap(batch) <= 4096 {
			f.spare = batch[:0]
		}
		f.mu.Unlock()
	}
}
