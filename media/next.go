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
