package transcode

import (
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

func pcmaFrame(ms uint32) *media.Frame {
	return &media.Frame{Kind: media.KindAudio, Codec: codec.PCMA, Rate: 8000, Channels: 1, Timestamp: ms, Payload: make([]byte, 160)}
}

// TestMissedFrameCodedOnce: a subscriber that moved to the transcoder at
// a frame it took itself (Target.Missed) gets that frame coded first when
// its Subscribe starts the transcoder, then the source's next; a second
// subscriber naming a frame the running transcoder already coded adds no
// copy of it for anyone.
func TestMissedFrameCodedOnce(t *testing.T) {
	h, s := newHub(0)
	pub, err := h.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	first := pcmaFrame(0)
	pub.Write(first) // the subscriber's own, in PCMA: it moves
	q1 := s.hub.NewQueue(0)
	x1, err := s.Subscribe("live/a", Target{Codec: codec.PCMU, Missed: first}, q1)
	if err != nil {
		t.Fatal(err)
	}
	a := queued{x1, q1}
	defer a.Close()
	pub.Write(pcmaFrame(20))
	for _, want := range []uint32{0, 20} {
		if f := next(t, a); f.Codec != codec.PCMU || f.Timestamp != want {
			t.Fatalf("got %v at %d ms, want PCMU at %d", f.Codec, f.Timestamp, want)
		}
	}

	q2 := s.hub.NewQueue(0)
	x2, err := s.Subscribe("live/a", Target{Codec: codec.PCMU, Missed: pcmaFrame(20)}, q2)
	if err != nil {
		t.Fatal(err)
	}
	b := queued{x2, q2}
	defer b.Close()
	pub.Write(pcmaFrame(40))
	pub.Write(pcmaFrame(60))
	for _, q := range []queued{a, b} {
		for _, want := range []uint32{40, 60} {
			if f := next(t, q); f.Timestamp != want {
				t.Fatalf("got a frame at %d ms, want %d (a running transcoder codes each frame once)", f.Timestamp, want)
			}
		}
	}
}
