package session

import (
	"bytes"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// TestFLVEdgeRoundTrip: what a publisher sends is what a player gets, for
// a known codec (rebuilt from the frame), an AAC config, and a SoundFormat
// flashvox does not know (kept whole); G.722 is not sent over FLV; the
// players of a stream share one body per frame.
func TestFLVEdgeRoundTrip(t *testing.T) {
	share := newFLVShare()
	l := share.get("live/a")
	for _, body := range [][]byte{{0xB6, 1, 2, 3}, {0xAF, 0, 0x12, 0x10}, {0x9F, 7, 7}, {0x06, 9}} {
		var f media.Frame
		audioFrame(&f, body)
		got, ok := l.audioBody(&f)
		if !ok || !bytes.Equal(got, body) {
			t.Errorf("%x: played as %x, %v", body, got, ok)
		}
	}
	if _, ok := l.audioBody(&media.Frame{Kind: media.KindAudio, Codec: codec.G722, Rate: 16000, Channels: 1, Payload: []byte{1}}); ok {
		t.Error("G.722 must not be sent as FLV")
	}
	f := &media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Channels: 1, Payload: []byte{1}}
	a, _ := l.audioBody(f)
	other := share.get("live/a")
	if other != l {
		t.Fatal("two players of one stream must share")
	}
	if b, _ := other.audioBody(f); &b[0] != &a[0] || !bytes.Equal(a, []byte{0x82, 1}) {
		t.Errorf("the second player built its own body %x, want the first's %x", b, a)
	}
	share.put("live/a", l)
	share.put("live/a", other)
	if len(share.m) != 0 {
		t.Error("the last player out must drop the entry")
	}
}

// BenchmarkFLVAudioBody: one Speex frame's FLV body for 100 players of a
// stream, the per-frame cost of codec-typed hub frames at the RTMP edge.
func BenchmarkFLVAudioBody(b *testing.B) {
	share := newFLVShare()
	l := share.get("live/b")
	frames := make([]media.Frame, 64)
	for i := range frames {
		frames[i] = media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, FLV: codec.MakeFLVHint(0xB2), Payload: make([]byte, 42)}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := &frames[i%len(frames)]
		i++
		for range 100 {
			if _, ok := l.audioBody(f); !ok {
				b.Fatal("not sent")
			}
		}
	}
}
