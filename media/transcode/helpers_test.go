package transcode

import (
	"context"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// newHub makes a hub of queueLen-frame queues and its transcoding service.
func newHub(queueLen int) (*media.Hub, *Service) {
	h := media.NewHub(queueLen, nil)
	return h, New(h, nil)
}

// queued is a subscription read through a media.Queue.
type queued struct {
	sub interface{ Close() }
	*media.Queue
}

// Close closes the subscription (and so the queue).
func (q queued) Close() { q.sub.Close() }

func subQ(h *media.Hub, key string) queued {
	q := h.NewQueue(0)
	return queued{h.Subscribe(key, q), q}
}

func subCodecQ(s *Service, key string, id codec.ID, rate int) (queued, error) {
	q := s.hub.NewQueue(0)
	x, err := s.Subscribe(key, Target{Codec: id, Rate: rate}, q)
	if err != nil {
		return queued{}, err
	}
	return queued{x, q}, nil
}

func next(t *testing.T, s queued) *media.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	f, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	return f
}
