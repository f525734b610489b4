package media

import (
	"context"
	"sync"
	"sync/atomic"
)

// Inline is a Receiver that hands each frame to its owner's deliver at
// once, on the goroutine that produces it (a publisher's, a
// transcoder's), when nothing is queued before it and the owner is not
// busy with its own sending; otherwise the frame goes to a bounded Queue
// that the owner's goroutine drains, as for any queued subscriber. A
// pass-through frame then costs no goroutine hand-off (no park, no
// wake-up) on its way to a player's socket.
//
// deliver must not block and must not call the hub, as Receive; it
// returns false for a frame it leaves to the owner's goroutine (which
// then finds it in Queue, in order). Only a write that cannot wait for
// its peer belongs in deliver: a UDP socket's (SRTP to a browser, RTP to
// a phone). deliver is never called twice at once, nor while the owner
// holds Lock; the owner holds Lock while it takes a frame from Queue and
// sends it, and while it touches what deliver uses, so frames leave in
// the order they came and a slow owner never holds up the producer (its
// frames are queued and, when the queue is full, the oldest dropped).
type Inline struct {
	q       *Queue
	mu      sync.Mutex
	deliver func(*Frame) bool
	closed  atomic.Bool
	inline  atomic.Uint64
	// fanout is how many receivers the stream has (set by the hub).
	fanout atomic.Int32
}

// InlineMaxFanout is the most receivers a stream may have for an Inline
// to deliver on the producer's goroutine: beyond it each frame is queued
// for its owner, as for a Queue, so one publisher's goroutine does not
// encrypt and send a frame to a crowd of players one after the other
// (the last would wait for all the others) but their goroutines share
// the cores. A call's stream has one or two.
const InlineMaxFanout = 8

// NewInline makes an Inline receiver whose queue holds capacity frames
// (0 or less: the hub's subscriber queue length).
func (h *Hub) NewInline(capacity int, deliver func(f *Frame) bool) *Inline {
	return &Inline{q: h.NewQueue(capacity), deliver: deliver}
}

// Receive delivers f at once when it can, else queues it.
func (in *Inline) Receive(f *Frame) {
	if !in.closed.Load() && in.fanout.Load() <= InlineMaxFanout && in.mu.TryLock() {
		ok := !in.closed.Load() && in.q.q.empty() && in.deliver(f)
		in.mu.Unlock()
		if ok {
			in.inline.Add(1)
			return
		}
	}
	in.q.Receive(f)
}

// Next waits for the next queued frame and returns it with Lock held:
// the owner sends it, then calls Unlock. It fails with ErrClosed once the
// subscription is closed and the queue is empty, or with ctx's error.
func (in *Inline) Next(ctx context.Context) (*Frame, error) {
	for {
		in.mu.Lock()
		f, closed := in.q.q.pop()
		if f != nil {
			in.q.dropBurst.Store(false)
			return f, nil
		}
		in.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-in.q.q.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Queue is where the frames deliver did not take wait for the owner.
func (in *Inline) Queue() *Queue { return in.q }

// Lock keeps deliver from running until Unlock: the owner holds it while
// it sends a frame taken from Queue, or anything else on the state
// deliver uses. After the subscription's Close, Lock waits out a delivery
// in progress; none starts after it.
func (in *Inline) Lock() { in.mu.Lock() }

// Unlock lets deliver run again.
func (in *Inline) Unlock() { in.mu.Unlock() }

// Delivered is how many frames deliver took on the producer's goroutine.
func (in *Inline) Delivered() uint64 { return in.inline.Load() }

// close stops deliveries and closes the queue (the hub's Close of the
// subscription).
func (in *Inline) close() {
	in.closed.Store(true)
	in.q.close()
}
