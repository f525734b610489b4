package cluster

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// frameCases drive the round-trip test and seed the fuzz target.
var frameCases = []struct {
	name string
	f    media.Frame
}{
	{"nellymoser", media.Frame{Kind: media.KindAudio, Codec: codec.Nellymoser, FLV: codec.MakeFLVHint(0x42), Timestamp: 1234, Rate: 16000, Channels: 1, Payload: bytes.Repeat([]byte{0xA5}, 64)}},
	{"speex", media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Timestamp: 0xFFFFFFFF, Rate: 16000, Channels: 1, Payload: bytes.Repeat([]byte{1}, 70)}},
	{"aac config", media.Frame{Kind: media.KindAudio, Codec: codec.AAC, Config: true, Channels: 2, Payload: []byte{0x12, 0x10}}},
	{"video", media.Frame{Kind: media.KindVideo, Timestamp: 40, Payload: []byte{0x17, 0, 0, 0, 0}}},
	{"data", media.Frame{Kind: media.KindData, Payload: []byte{2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'}}},
	{"publish", media.Frame{Kind: media.KindPublish}},
	{"unpublish", media.Frame{Kind: media.KindUnpublish}},
}

func TestFrameRoundTrip(t *testing.T) {
	for _, c := range frameCases {
		t.Run(c.name, func(t *testing.T) {
			b, err := AppendFrame(nil, &c.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != FrameSize(&c.f) {
				t.Fatalf("encoded %d bytes, FrameSize says %d", len(b), FrameSize(&c.f))
			}
			got, err := UnmarshalFrame(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&c.f, got) {
				t.Fatalf("round trip: got %+v, want %+v", got, &c.f)
			}
		})
	}
}

func TestFrameRefusals(t *testing.T) {
	good, _ := AppendFrame(nil, &frameCases[0].f)
	mod := func(i int, v byte) []byte { b := bytes.Clone(good); b[i] = v; return b }
	event, _ := AppendFrame(nil, &media.Frame{Kind: media.KindPublish})
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errFrameShort},
		{"short header", good[:frameHeaderSize-1], errFrameShort},
		{"version", mod(0, 9), errFrameVersion},
		{"kind 0", mod(1, 0), errFrameKind},
		{"kind 6", mod(1, 6), errFrameKind},
		{"flags", mod(2, 0x80), errFrameField},
		{"rate", mod(10, 0xFF), errFrameField},
		{"channels", mod(14, 9), errFrameField},
		{"event payload", append(event, 1), errFrameField},
	} {
		if _, err := UnmarshalFrame(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := AppendFrame(nil, &media.Frame{Kind: media.KindVideo, Payload: make([]byte, MaxFramePayload+1)}); !errors.Is(err, errFrameSize) {
		t.Errorf("oversized frame encoded: %v", err)
	}
}

// FuzzUnmarshalFrame: any bytes decode or fail without panicking, and what
// decodes encodes back to the same bytes.
func FuzzUnmarshalFrame(f *testing.F) {
	for _, c := range frameCases {
		b, _ := AppendFrame(nil, &c.f)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := UnmarshalFrame(b)
		if err != nil {
			return
		}
		again, err := AppendFrame(nil, fr)
		if err != nil {
			t.Fatalf("decoded frame does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip changed the bytes:\n%x\n%x", b, again)
		}
	})
}

func BenchmarkAppendFrame(b *testing.B) {
	f := &frameCases[0].f
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendFrame(buf[:0], f)
	}
}
