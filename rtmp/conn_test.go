package rtmp

import (
	"errors"
	"log/slog"
	"testing"
)

// TestWriteQueueFull: media drops the oldest media; a queue of commands
// refuses more with ErrQueueFull; nothing blocks.
func TestWriteQueueFull(t *testing.T) {
	c := &Conn{cfg: ConnConfig{WriteQueue: 2}, wake: make(chan struct{}, 1), log: slog.New(slog.DiscardHandler)}
	c.enqueue(&Message{Type: TypeAudio, Timestamp: 1})
	c.enqueue(&Message{Type: TypeCommandAMF0})
	if err := c.enqueue(&Message{Type: TypeAudio, Timestamp: 2}); err != nil {
		t.Fatal(err)
	}
	if c.Dropped() != 1 || c.q[0].Type != TypeCommandAMF0 || c.q[1].Timestamp != 2 {
		t.Fatalf("queue %+v dropped %d", c.q, c.Dropped())
	}
	c.q = c.q[:0]
	c.enqueue(&Message{Type: TypeCommandAMF0})
	c.enqueue(&Message{Type: TypeCommandAMF0})
	if err := c.enqueue(&Message{Type: TypeAudio}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("err %v", err)
	}
}
