package transcode

import (
	"math"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g722"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// checkLevel fails unless pcm's level is within 3 dB of ref's.
func checkLevel(t *testing.T, name string, ref, pcm []int16) {
	t.Helper()
	want, got := audiotest.RMSDB(ref[len(ref)/4:]), audiotest.RMSDB(pcm[len(pcm)/4:])
	if math.Abs(got-want) > 3 {
		t.Errorf("%s: level %.1f dB, want %.1f ± 3", name, got, want)
	}
}

// g722Frames encodes pcm (16 kHz) as 20 ms G.722 frames.
func g722Frames(t testing.TB, pcm []int16) []*media.Frame {
	t.Helper()
	enc, err := g722.NewEncoder(0)
	if err != nil {
		t.Fatal(err)
	}
	var out []*media.Frame
	for i := 0; i+320 <= len(pcm); i += 320 {
		p, err := enc.Encode(nil, pcm[i:i+320])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &media.Frame{Kind: media.KindAudio, Codec: codec.G722, Rate: 16000, Channels: 1, Timestamp: uint32(i / 16), Payload: p})
	}
	return out
}

// A phone's and a browser's audio keep their tone and level through the
// Opus encoder running at the source's rate and the decoder at the
// target's; the browser decodes at 48 kHz as always.
func TestOpusAtSourceRateToneAndLevel(t *testing.T) {
	src8 := audiotest.Sine(8000, 24000, 440, 0.3)
	out, rate := transcodeThrough(t, pcmuFrames(t, src8), codec.Opus, 120)
	checkTone(t, "pcmu 8k → opus (8k inside)", out, rate, 440)
	checkLevel(t, "pcmu 8k → opus (8k inside)", src8, out)

	src16 := audiotest.Sine(16000, 48000, 1200, 0.3)
	out, rate = transcodeThrough(t, g722Frames(t, src16), codec.Opus, 120)
	checkTone(t, "g722 16k → opus (16k inside)", out, rate, 1200)
	checkLevel(t, "g722 16k → opus (16k inside)", src16, out)

	src48 := audiotest.Sine(48000, 144000, 660, 0.3)
	out, rate = transcodeThrough(t, opusFrames(t, src48), codec.PCMU, 120)
	checkTone(t, "opus → pcmu (decoded at 8k)", out, rate, 660)
	checkLevel(t, "opus → pcmu (decoded at 8k)", src48, out)
}

// The chain picks the rates: no resampler between a G.711 or G.722 phone
// and the Opus encoder, none between the Opus decoder and PCMU; a source
// whose rate Opus lacks is resampled to the next Opus rate up.
func TestOpusChainRates(t *testing.T) {
	for _, tc := range []struct {
		target    codec.ID
		rate      int
		src       codec.ID
		srcRate   int
		dec, enc  int
		resamples bool
	}{
		{codec.Opus, 48000, codec.PCMU, 8000, 8000, 8000, false},
		{codec.Opus, 48000, codec.G722, 16000, 16000, 16000, false},
		{codec.Opus, 48000, codec.Nellymoser, 44100, 44100, 48000, true},
		{codec.Opus, 48000, codec.Nellymoser, 11025, 11025, 12000, true},
		{codec.PCMU, 8000, codec.Opus, 48000, 8000, 8000, false},
		{codec.G722, 16000, codec.Opus, 48000, 16000, 16000, false},
		{codec.Nellymoser, 44100, codec.Opus, 48000, 48000, 44100, true},
	} {
		c := newChain(tc.target, tc.rate)
		if err := c.switchSource(tc.src, tc.srcRate); err != nil {
			t.Fatalf("%v@%d from %v@%d: %v", tc.target, tc.rate, tc.src, tc.srcRate, err)
		}
		if c.decRate != tc.dec || c.encRate != tc.enc || (c.rs != nil) != tc.resamples {
			t.Errorf("%v@%d from %v@%d: decode at %d, encode at %d, resampler %v; want %d, %d, %v",
				tc.target, tc.rate, tc.src, tc.srcRate, c.decRate, c.encRate, c.rs != nil, tc.dec, tc.enc, tc.resamples)
		}
		c.close()
	}
}

// Output timestamps step 20 ms whatever rate the encoder runs at, also
// across a source that moves the encoder to another rate mid-call (PCMU,
// then G.722), and frames keep Opus's 48000 label.
func TestOpusAtSourceRateTimestamps(t *testing.T) {
	in := pcmuFrames(t, audiotest.Sine(8000, 8000, 440, 0.3)) // 50 frames, 0–980 ms
	for _, f := range g722Frames(t, audiotest.Sine(16000, 16000, 440, 0.3)) {
		f.Timestamp += 1000
		in = append(in, f)
	}
	h, svc := newHub(4096)
	p, err := h.Publish("live/ts")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := subCodecQ(svc, "live/ts", codec.Opus, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, f := range in {
		p.Write(f)
	}
	out := collectAudio(t, s, 99) // the last frame may wait for more input
	for i, f := range out {
		if f.Codec != codec.Opus || f.Rate != 48000 {
			t.Fatalf("frame %d: %v at %d Hz, want opus at 48000", i, f.Codec, f.Rate)
		}
		if want := uint32(i * 20); f.Timestamp != want {
			t.Fatalf("frame %d stamped %d ms, want %d", i, f.Timestamp, want)
		}
	}
}
