package media

import (
	"context"
	"sync/atomic"
)

// Queue is the one queued Receiver: a bounded ring of frames for a reader
// on its own goroutine (Next, TryNext, Ready). Receive never blocks: when
// the ring is full the oldest media frame is dropped (never a publish or
// unpublish event), counted in Dropped and in the hub's
// Stats.DroppedFrame, and warned once per burst of drops. The hub's Close
// of its subscription closes it.
type Queue struct {
	q         *queue
	hub       *Hub
	key       atomic.Pointer[string] // the stream, for the drop warning
	dropBurst atomic.Bool            // a drop was logged and no frame was read since
}

// NewQueue makes a Queue of capacity frames (0 or less: the hub's
// subscriber queue length) whose drops the hub counts.
func (h *Hub) NewQueue(capacity int) *Queue {
	if capacity <= 0 {
		capacity = h.queueLen
	}
	return &Queue{q: newQueue(capacity), hub: h}
}

// Name sets the stream the drop warning names, for a Queue the hub sees
// behind another Receiver (a wrapper that also notes the queue's news).
func (q *Queue) Name(key string) { q.key.Store(&key) }

// Receive queues f, dropping the oldest media frame when full.
func (q *Queue) Receive(f *Frame) {
	if !q.q.push(f) {
		return
	}
	q.hub.Stats.DroppedFrame.Add(1)
	if !q.dropBurst.Swap(true) && q.hub.log != nil {
		key := ""
		if k := q.key.Load(); k != nil {
			key = *k
		}
		q.hub.log.Warn("slow subscriber is losing frames", "stream", key)
	}
}

// Next returns the next frame or event, blocking until one arrives, ctx ends
// or the subscription is closed (ErrClosed).
func (q *Queue) Next(ctx context.Context) (*Frame, error) {
	f, err := q.q.next(ctx)
	if err == nil {
		q.dropBurst.Store(false)
	}
	return f, err
}

// TryNext returns the next frame without blocking, or nil.
func (q *Queue) TryNext() *Frame {
	f, _ := q.q.pop()
	if f != nil {
		q.dropBurst.Store(false)
	}
	return f
}

// Ready receives a value when frames may be waiting, for a reader that
// selects on other channels too; it then drains with TryNext.
func (q *Queue) Ready() <-chan struct{} { return q.q.ready }

// Dropped is how many frames this queue lost because it was full.
func (q *Queue) Dropped() uint64 { return q.q.droppedCount() }

func (q *Queue) close() { q.q.close() }
