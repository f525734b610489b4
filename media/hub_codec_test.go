package media

import (
	"testing"

	"github.com/flashvox/flashvox/codec"
)

// TestDeclareAudioCodec: a publisher's declared codec is the stream's
// before any frame (a SIP leg's, from its SDP), a frame in another codec
// replaces it, and a closed publisher declares nothing.
func TestDeclareAudioCodec(t *testing.T) {
	h := NewHub(4, nil)
	play := h.Subscribe("phone/a", h.NewQueue(4)) // keeps the stream across publishers
	defer play.Close()
	pub, err := h.Publish("phone/a")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.AudioCodec("phone/a"); got != 0 {
		t.Fatalf("codec before any frame or declaration: %v", got)
	}
	pub.DeclareAudioCodec(codec.PCMU)
	if got := h.AudioCodec("phone/a"); got != codec.PCMU {
		t.Fatalf("declared PCMU, the hub says %v", got)
	}
	pub.Write(&Frame{Kind: KindAudio, Codec: codec.G722, Rate: 16000, Payload: []byte{1}})
	if got := h.AudioCodec("phone/a"); got != codec.G722 {
		t.Fatalf("after a G.722 frame the hub says %v", got)
	}
	pub.Close()
	pub.DeclareAudioCodec(codec.PCMA)
	if got := h.AudioCodec("phone/a"); got != codec.G722 {
		t.Fatalf("a closed publisher's declaration changed the codec to %v", got)
	}
	next, err := h.Publish("phone/a")
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	next.DeclareAudioCodec(codec.Opus)
	if got := h.AudioCodec("phone/a"); got != codec.Opus {
		t.Fatalf("the next publisher declared Opus, the hub says %v", got)
	}
}
