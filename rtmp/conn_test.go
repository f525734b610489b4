package rtmp

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/flashvox/flashvox/rtmp/message"
)

// TestWriteQueueFull: media drops the oldest media; a queue of commands
// refuses more with ErrQueueFull; nothing blocks.
func TestWriteQueueFull(t *testing.T) {
	c := &Conn{cfg: ConnConfig{WriteQueue: 2}, wake: make(chan struct{}, 1), log: slog.New(slog.DiscardHandler)}
	c.enqueue(&message.Message{Type: message.TypeAudio, Timestamp: 1})
	c.enqueue(&message.Message{Type: message.TypeCommandAMF0})
	if err := c.enqueue(&message.Message{Type: message.TypeAudio, Timestamp: 2}); err != nil {
		t.Fatal(err)
	}
	if c.Dropped() != 1 || c.q[0].Type != message.TypeCommandAMF0 || c.q[1].Timestamp != 2 {
		t.Fatalf("queue %+v dropped %d", c.q, c.Dropped())
	}
	c.q = c.q[:0]
	c.enqueue(&message.Message{Type: message.TypeCommandAMF0})
	c.enqueue(&message.Message{Type: message.TypeCommandAMF0})
	if err := c.enqueue(&message.Message{Type: message.TypeAudio}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("err %v", err)
	}
}

// TestWriteQueueDropsOldestForLong: a subscriber that never drains keeps the
// newest WriteQueue frames in order, and the queue's memory stays bounded
// however many frames it loses.
func TestWriteQueueDropsOldestForLong(t *testing.T) {
	const size = 8
	c := &Conn{cfg: ConnConfig{WriteQueue: size}, wake: make(chan struct{}, 1), log: slog.New(slog.DiscardHandler)}
	for i := range 10000 {
		if err := c.enqueue(&message.Message{Type: message.TypeAudio, Timestamp: uint32(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.q) != size || c.Dropped() != 10000-size {
		t.Fatalf("queue of %d, dropped %d", len(c.q), c.Dropped())
	}
	for i, m := range c.q {
		if want := uint32(10000 - size + i); m.Timestamp != want {
			t.Fatalf("queue[%d] has timestamp %d, want %d", i, m.Timestamp, want)
		}
	}
	if cap(c.q) > 8*size {
		t.Fatalf("queue capacity grew to %d", cap(c.q))
	}
}
