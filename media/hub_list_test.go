package media

import (
	"testing"

	"github.com/flashvox/flashvox/codec"
)

// TestHubStreams: a stream lists with its last audio codec and its
// players, a derived stream's players counted as its source's and its
// transcoder's subscription not; taps and idle streams are not listed.
func TestHubStreams(t *testing.T) {
	h := NewHub(4, nil)
	pub, err := h.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Write(&Frame{Kind: KindAudio, Codec: codec.Nellymoser, Payload: []byte{1}})
	play := h.Subscribe("live/a", h.NewQueue(4))
	defer play.Close()
	xcode := h.Subscribe("live/a", h.NewQueue(4)) // a transcoder's source subscription
	defer xcode.Close()
	dpub, err := h.PublishDerived("live/a#g711")
	if err != nil {
		t.Fatal(err)
	}
	defer dpub.Close()
	dplay := h.Subscribe("live/a#g711", h.NewQueue(4))
	defer dplay.Close()
	tap := h.Tap("live/b", h.NewQueue(4))
	defer tap.Close()
	got := h.Streams()
	if len(got) != 1 || got[0] != (StreamInfo{Key: "live/a", Published: true, Codec: codec.Nellymoser, Players: 2}) {
		t.Fatalf("streams: %+v", got)
	}
}

// TestHubStreamsRelayedVariant: another node's variant relayed here
// (PublishDerivedRelay) is not taken for a transcoder: each of its
// subscribers is a player of the source, which is not published here.
func TestHubStreamsRelayedVariant(t *testing.T) {
	h := NewHub(4, nil)
	dpub, err := h.PublishDerivedRelay("live/r#pcmu")
	if err != nil {
		t.Fatal(err)
	}
	defer dpub.Close()
	for range 2 {
		defer h.Subscribe("live/r#pcmu", h.NewQueue(4)).Close()
	}
	got := h.Streams()
	if len(got) != 1 || got[0] != (StreamInfo{Key: "live/r", Players: 2}) {
		t.Fatalf("streams: %+v", got)
	}
	if _, err := h.PublishDerivedRelay("live/r"); err == nil {
		t.Fatal("PublishDerivedRelay took a key without '#'")
	}
}
