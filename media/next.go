package media

import "context"

// Next returns the next frame or event, blocking until one arrives, ctx ends
// or the subscriber is closed.
func (s *Subscriber) Next(ctx context.Context) (*Frame, error) {
	f, err := s.q.next(ctx)
	if err == nil {
		s.dropBurst.Store(false)
	}
	return f, err
}

// TryNext returns the next frame without blocking, or nil.
func (s *Subscriber) TryNext() *Frame {
	f, _ := s.q.pop()
	return f
}

// Ready is signalled when frames may be waiting; pair it with TryNext in a
// select loop that also watches other channels.
func (s *Subscriber) Ready() <-chan struct{} { return s.q.ready }

// Discard drops the media frames waiting in the queue (events stay), so a
// resumed live player starts at the live point instead of replaying.
func (s *Subscriber) Discard() { s.q.discardMedia() }
