package webrtc

import (
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// A WHEP player's queue holds Options.PlayQueue frames: a player that
// falls behind loses the oldest audio rather than lagging by the hub's
// whole subscriber queue. (deliver refuses every frame here, as a busy
// player's Inline leaves them all to the play loop.)
func TestWHEPPlayQueueBounded(t *testing.T) {
	h := media.NewHub(256, nil)
	pub, err := h.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for _, tc := range []struct{ playQueue, dropped int }{{10, 90}, {0, 0}} {
		p := &peerSession{s: &Server{o: Options{Hub: h, PlayQueue: tc.playQueue}}, key: "live/a"}
		in, _ := codec.Lookup(codec.PCMU)
		w := newWHEPSource(p, in)
		w.subscribe(func(*media.Frame) bool { return false })
		for i := range 100 {
			pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Timestamp: uint32(20 * i), Payload: []byte{1}})
		}
		if got := w.q.Dropped(); got != uint64(tc.dropped) {
			t.Errorf("PlayQueue %d: %d of 100 frames dropped while not read, want %d", tc.playQueue, got, tc.dropped)
		}
		f, unlock, err := w.next()
		if err != nil {
			t.Fatal(err)
		}
		unlock()
		if want := uint32(20 * tc.dropped); f.Timestamp != want {
			t.Errorf("PlayQueue %d: first frame read at %d ms, want %d", tc.playQueue, f.Timestamp, want)
		}
		w.close()
	}
}
