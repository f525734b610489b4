package media

import (
	"context"
	"errors"
	"sync"
)

// ErrClosed is returned by Subscriber.Next after Close.
var ErrClosed = errors.New("media: subscriber closed")

// queue is a bounded ring of frames. push never blocks: when full, the oldest
// frame is overwritten and counted as dropped. Events (publish/unpublish) are
// never the victims of a drop: a full queue of events is not a real case, and
// losing one would leave a player waiting forever.
type queue struct {
	mu      sync.Mutex
	buf     []*Frame
	head    int // index of the oldest frame
	n       int
	dropped uint64
	closed  bool
	ready   chan struct{} // capacity 1: "something changed"
}

func newQueue(capacity int) *queue {
	return &queue{buf: make([]*Frame, capacity), ready: make(chan struct{}, 1)}
}

// push appends f and reports whether an old frame was dropped for it.
func (q *queue) push(f *Frame) (dropped bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	if q.n == len(q.buf) {
		victim := q.head
		if k := q.buf[victim].Kind; k == KindPublish || k == KindUnpublish {
			// Keep the event; drop the oldest media frame after it instead.
			for i := 1; i < q.n; i++ {
				j := (q.head + i) % len(q.buf)
				if k := q.buf[j].Kind; k != KindPublish && k != KindUnpublish {
					victim = j
					break
				}
			}
		}
		// Remove victim by shifting the frames between head and it one step.
		for i := victim; i != q.head; {
			prev := (i - 1 + len(q.buf)) % len(q.buf)
			q.buf[i] = q.buf[prev]
			i = prev
		}
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		q.dropped++
		dropped = true
	}
	q.buf[(q.head+q.n)%len(q.buf)] = f
	q.n++
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// pop removes the oldest frame, or returns nil when empty.
func (q *queue) pop() (*Frame, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil, q.closed
	}
	f := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return f, false
}

// next blocks until a frame arrives, the queue closes, or ctx ends.
func (q *queue) next(ctx context.Context) (*Frame, error) {
	for {
		f, closed := q.pop()
		if f != nil {
			return f, nil
		}
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// empty reports whether no frame is waiting.
func (q *queue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n == 0
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *queue) droppedCount() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
