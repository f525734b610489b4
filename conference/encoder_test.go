package conference

import (
	"bytes"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// countingEncoder counts the frames its encoder really encodes.
type countingEncoder struct {
	codec.Encoder
	n int
}

func (c *countingEncoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	c.n++
	return c.Encoder.Encode(dst, pcm)
}

// quiet sends, for sound and silence alike, exactly the packets an encoder
// fed every frame sends, while running the encoder on only the first few
// frames of each silence.
func TestQuietSendsTheEncodersOwnPackets(t *testing.T) {
	newEnc := func() codec.Encoder {
		e, err := newMixEncoder(codec.Speex, MixRate, DefaultSpeexComplexity)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeCodec(e) })
		return e
	}
	ref, got := newEnc(), &countingEncoder{Encoder: newEnc()}
	tone := audiotest.Concat(audiotest.Sine(MixRate, 10*FrameSamples, 700, 0.3), audiotest.Sine(MixRate, 10*FrameSamples, 1300, 0.2))
	zero := make([]int16, FrameSamples)
	var frames [][]int16
	for _, part := range []struct {
		pcm []int16
		n   int
	}{{tone, 10}, {zero, 30}, {tone[10*FrameSamples:], 10}, {zero, 25}, {tone, 5}} {
		for i := range part.n {
			if len(part.pcm) == FrameSamples {
				frames = append(frames, part.pcm)
			} else {
				frames = append(frames, part.pcm[i*FrameSamples:(i+1)*FrameSamples])
			}
		}
	}
	hdr := []byte{0xB2}
	var q quiet
	for i, f := range frames {
		want, err := ref.Encode(append([]byte(nil), hdr...), f)
		if err != nil {
			t.Fatal(err)
		}
		pkt, err := q.encode(got, append([]byte(nil), hdr...), f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pkt, want) {
			t.Fatalf("frame %d (silent %v): packet differs from the encoder fed every frame\n got %x\nwant %x", i, isZero(f), pkt, want)
		}
	}
	// Speex settles within ~6 silent frames, then quietStable more: of the
	// 55 silent frames, at least 55-2*(6+quietStable) are not encoded.
	if saved := len(frames) - got.n; saved < 55-2*(6+quietStable) {
		t.Errorf("encoded %d of %d frames: only %d silent frames spared", got.n, len(frames), saved)
	}
}

func TestSpeexComplexityOption(t *testing.T) {
	for in, want := range map[int]int{0: DefaultSpeexComplexity, 1: 1, 3: 3, 10: 10, 42: 10} {
		o := Options{SpeexComplexity: in}
		o.setDefaults()
		if o.SpeexComplexity != want {
			t.Errorf("SpeexComplexity %d: got %d, want %d", in, o.SpeexComplexity, want)
		}
		if _, err := newMixEncoder(codec.Speex, MixRate, o.SpeexComplexity); err != nil {
			t.Errorf("complexity %d: %v", o.SpeexComplexity, err)
		}
	}
}
