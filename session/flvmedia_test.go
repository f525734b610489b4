package session

import (
	"bytes"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// TestFLVEdgeRoundTrip: what a publisher sends is what a player gets, for
// a known codec (rebuilt from the frame), an AAC config, and a SoundFormat
// flashvox does not know (kept whole); G.722 is not sent over FLV.
func TestFLVEdgeRoundTrip(t *testing.T) {
	var slab flvSlab
	for _, body := range [][]byte{{0xB6, 1, 2, 3}, {0xAF, 0, 0x12, 0x10}, {0x9F, 7, 7}, {0x06, 9}} {
		var f media.Frame
		audioFrame(&f, body)
		got, ok := slab.audioBody(&f)
		if !ok || !bytes.Equal(got, body) {
			t.Errorf("%x: played as %x, %v", body, got, ok)
		}
	}
	if _, ok := slab.audioBody(&media.Frame{Kind: media.KindAudio, Codec: codec.G722, Rate: 16000, Channels: 1, Payload: []byte{1}}); ok {
		t.Error("G.722 must not be sent as FLV")
	}
	a, _ := slab.audioBody(&media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Channels: 1, Payload: []byte{1}})
	b, _ := slab.audioBody(&media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Channels: 1, Payload: []byte{2}})
	if !bytes.Equal(a, []byte{0x82, 1}) || !bytes.Equal(b, []byte{0x82, 2}) {
		t.Errorf("bodies from one slab overlap: %x %x", a, b)
	}
}

// BenchmarkFLVAudioBody: rebuilding one Speex frame's FLV body for a
// player, the per-player cost of codec-typed hub frames.
func BenchmarkFLVAudioBody(b *testing.B) {
	var slab flvSlab
	f := &media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, FLV: codec.MakeFLVHint(0xB2), Payload: make([]byte, 42)}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := slab.audioBody(f); !ok {
			b.Fatal("not sent")
		}
	}
}
