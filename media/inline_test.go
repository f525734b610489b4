package media

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestInlineDeliversOnProducer: with an idle owner every frame is
// delivered inside the publisher's Write, nothing is queued; a frame
// deliver refuses waits in the queue, and the frames after it queue
// behind it instead of overtaking it.
func TestInlineDeliversOnProducer(t *testing.T) {
	h := NewHub(16, nil)
	p, _ := h.Publish("s")
	var got []uint32
	in := h.NewInline(8, func(f *Frame) bool {
		if f.Timestamp == 3 {
			return false // the owner's: e.g. a codec change
		}
		got = append(got, f.Timestamp)
		return true
	})
	sub := h.Subscribe("s", in)
	defer sub.Close()
	p.Write(audio(1))
	p.Write(audio(2))
	if len(got) != 2 || in.Delivered() != 2 || in.Queue().TryNext() != nil {
		t.Fatalf("idle owner: delivered %v (%d), want 1 2 inline and none queued", got, in.Delivered())
	}
	p.Write(audio(3))
	p.Write(audio(4))
	if len(got) != 2 {
		t.Fatalf("a frame overtook the refused one: %v", got)
	}
	for _, want := range []uint32{3, 4} {
		if f := in.Queue().TryNext(); f == nil || f.Timestamp != want {
			t.Fatalf("queued %v, want frame %d", f, want)
		}
	}
	p.Write(audio(5))
	if got[len(got)-1] != 5 {
		t.Fatalf("queue drained, frame 5 not delivered inline: %v", got)
	}
}

// TestInlineBusyOwnerDoesNotStallPublisher: while one player's owner is
// busy (holds Lock, as when it sends a paced DTMF digit or is stuck), the
// publisher's Write returns at once, that player's frames wait in its
// bounded queue (oldest dropped) and in order, and another player keeps
// getting its frames inline.
func TestInlineBusyOwnerDoesNotStallPublisher(t *testing.T) {
	h := NewHub(16, nil)
	p, _ := h.Publish("s")
	var slowGot, fastGot []uint32
	slow := h.NewInline(4, func(f *Frame) bool { slowGot = append(slowGot, f.Timestamp); return true })
	fast := h.NewInline(4, func(f *Frame) bool { fastGot = append(fastGot, f.Timestamp); return true })
	s1, s2 := h.Subscribe("s", slow), h.Subscribe("s", fast)
	defer s1.Close()
	defer s2.Close()

	slow.Lock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ts := uint32(1); ts <= 10; ts++ {
			p.Write(audio(ts))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the publisher is stalled by a busy player")
	}
	if len(fastGot) != 10 || fastGot[9] != 10 {
		t.Fatalf("the other player got %v inline, want 1..10", fastGot)
	}
	if len(slowGot) != 0 {
		t.Fatalf("deliver ran while its owner held Lock: %v", slowGot)
	}
	if d := slow.Queue().Dropped(); d != 6 {
		t.Fatalf("busy player's queue dropped %d, want 6 (10 frames, 4 slots)", d)
	}
	for _, want := range []uint32{7, 8, 9, 10} {
		if f := slow.Queue().TryNext(); f == nil || f.Timestamp != want {
			t.Fatalf("busy player's queue: %v, want frame %d", f, want)
		}
	}
	slow.Unlock()
	p.Write(audio(11))
	if len(slowGot) != 1 || slowGot[0] != 11 {
		t.Fatalf("after the owner caught up: %v, want 11 inline", slowGot)
	}
}

// TestInlineClose: after the subscription's Close no frame is delivered
// and the queue's reader gets ErrClosed.
func TestInlineClose(t *testing.T) {
	h := NewHub(16, nil)
	p, _ := h.Publish("s")
	n := 0
	in := h.NewInline(4, func(*Frame) bool { n++; return true })
	sub := h.Subscribe("s", in)
	p.Write(audio(1))
	sub.Close()
	in.Lock() // waits out a delivery in progress
	in.Unlock()
	in.Receive(audio(2)) // a Write already going through the old list
	if n != 1 {
		t.Fatalf("%d deliveries, want 1 (none after Close)", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for {
		_, err := in.Queue().Next(ctx)
		if errors.Is(err, ErrClosed) {
			break
		}
		if err != nil {
			t.Fatalf("next after Close: %v, want ErrClosed", err)
		}
	}
}

// TestInlineCrowdIsQueued: a stream with more receivers than
// InlineMaxFanout is sent by its players' goroutines (every frame
// queued), not one after the other on the publisher's; when the crowd
// leaves, delivery is inline again.
func TestInlineCrowdIsQueued(t *testing.T) {
	h := NewHub(16, nil)
	p, _ := h.Publish("s")
	var ins []*Inline
	var subs []*Subscriber
	for range InlineMaxFanout + 1 {
		in := h.NewInline(4, func(*Frame) bool { return true })
		ins = append(ins, in)
		subs = append(subs, h.Subscribe("s", in))
	}
	p.Write(audio(1))
	for i, in := range ins {
		if in.Delivered() != 0 || in.Queue().TryNext() == nil {
			t.Fatalf("receiver %d of %d: delivered %d inline, want the frame queued", i, len(ins), in.Delivered())
		}
	}
	for _, sub := range subs[1:] {
		sub.Close()
	}
	p.Write(audio(2))
	if ins[0].Delivered() != 1 {
		t.Fatalf("alone again: %d delivered inline, want 1", ins[0].Delivered())
	}
	subs[0].Close()
}
