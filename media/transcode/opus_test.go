package transcode

import (
	"math"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// opusFrames encodes pcm (48 kHz) as 20 ms Opus frames, as a browser
// publishes them through WHIP.
func opusFrames(t testing.TB, pcm []int16) []*media.Frame {
	t.Helper()
	return opusFramesWith(t, pcm, opus.EncoderOptions{})
}

// opusFramesWith is opusFrames from an encoder set up as o says.
func opusFramesWith(t testing.TB, pcm []int16, o opus.EncoderOptions) []*media.Frame {
	t.Helper()
	enc, err := opus.NewEncoder(48000, o)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	var out []*media.Frame
	for i := 0; i+960 <= len(pcm); i += 960 {
		p, err := enc.Encode(nil, pcm[i:i+960])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &media.Frame{Kind: media.KindAudio, Codec: codec.Opus, Rate: 48000, Channels: 1, Timestamp: uint32(i / 48), Payload: p})
	}
	return out
}

// transcodeThrough publishes in, subscribes to it as target and decodes
// what arrives (want frames at least) at the target's rate.
func transcodeThrough(t *testing.T, in []*media.Frame, target codec.ID, want int) ([]int16, int) {
	t.Helper()
	h, svc := newHub(4096)
	p, err := h.Publish("live/o")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := subCodecQ(svc, "live/o", target, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, f := range in {
		p.Write(f)
	}
	info, _ := codec.Lookup(target)
	dec, err := codecs.NewDecoder(target, info.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCodec(dec)
	var pcm []int16
	for _, f := range collectAudio(t, s, want) {
		if f.Codec != target || f.Rate != info.SampleRate {
			t.Fatalf("frame %v at %d Hz, want %v at %d", f.Codec, f.Rate, target, info.SampleRate)
		}
		if pcm, err = dec.Decode(pcm, f.Payload); err != nil {
			t.Fatal(err)
		}
	}
	return pcm, info.SampleRate
}

// checkTone fails unless pcm's dominant frequency is within 3% of hz.
func checkTone(t *testing.T, name string, pcm []int16, rate int, hz float64) {
	t.Helper()
	got := audiotest.DominantHz(pcm[len(pcm)/4:], rate) // past the codecs' start-up
	t.Logf("%s: dominant %.0f Hz (want %.0f), level %.1f dB", name, got, hz, audiotest.RMSDB(pcm))
	if math.Abs(got-hz) > 0.03*hz {
		t.Errorf("%s: dominant %.0f Hz, want %.0f", name, got, hz)
	}
}

func TestTranscodeToOpus(t *testing.T) {
	// Harmonic-free tones, but not 1 kHz (ffmpeg's and our Nellymoser
	// encode a steady 1 kHz sine quietly: PEERS.md).
	src := audiotest.Sine(16000, 32000, 440, 0.3)
	nelly, _ := transcodeThrough(t, nellyFrames(t, src, 0), codec.Opus, 90)
	checkTone(t, "nellymoser 16k → opus 48k", nelly, 48000, 440)
	sp, _ := transcodeThrough(t, speexFrames(t, src), codec.Opus, 90)
	checkTone(t, "speex 16k → opus 48k", sp, 48000, 440)
}

func TestTranscodeFromOpus(t *testing.T) {
	src := audiotest.Sine(48000, 96000, 660, 0.3)
	in := opusFrames(t, src)
	sp, rate := transcodeThrough(t, in, codec.Speex, 90)
	checkTone(t, "opus 48k → speex 16k", sp, rate, 660)
	ne, rate := transcodeThrough(t, in, codec.Nellymoser, 110)
	checkTone(t, "opus 48k → nellymoser 16k", ne, rate, 660)
}

// pcmuFrames encodes pcm (8 kHz) as 20 ms PCMU frames, as a SIP phone
// sends them.
func pcmuFrames(t testing.TB, pcm []int16) []*media.Frame {
	t.Helper()
	enc, err := codecs.NewEncoder(codec.PCMU, 8000)
	if err != nil {
		t.Fatal(err)
	}
	var out []*media.Frame
	for i := 0; i+160 <= len(pcm); i += 160 {
		p, err := enc.Encode(nil, pcm[i:i+160])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &media.Frame{Kind: media.KindAudio, Codec: codec.PCMU, Rate: 8000, Channels: 1, Timestamp: uint32(i / 8), Payload: p})
	}
	return out
}
