package transcode

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/speex"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// benchChain pushes one second of source frames through a chain to PCMU
// round and round, and reports ns per input frame and how many real-time
// channels one core would carry (frame duration / time per frame).
func benchChain(b *testing.B, in []*media.Frame, frameDur time.Duration) {
	benchChainTo(b, in, frameDur, codec.PCMU, 8000)
}

// benchChainTo is benchChain to any target codec and rate.
func benchChainTo(b *testing.B, in []*media.Frame, frameDur time.Duration, target codec.ID, rate int) {
	c := newChain(target, rate)
	defer c.close()
	out := 0
	c.emit = func(uint32, []byte) { out++ }
	ts := uint32(0)
	step := uint32(frameDur / time.Millisecond)
	// Warm up: decoder and buffers sized.
	for _, f := range in {
		_ = c.push(&media.Frame{Kind: media.KindAudio, Codec: f.Codec, Rate: f.Rate, Channels: 1, Timestamp: ts, Payload: f.Payload}, nil)
		ts += step
	}
	frames := make([]media.Frame, len(in))
	for i, f := range in {
		frames[i] = *f
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		f := &frames[i]
		f.Timestamp = ts
		ts += step
		if err := c.push(f, nil); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(frames) {
			i = 0
		}
	}
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/frame")
	b.ReportMetric(float64(frameDur.Nanoseconds())/ns, "channels/core")
	if out == 0 {
		b.Fatal("no output")
	}
}

// BenchmarkChainNellymoserToPCMU: one 16 kHz Nellymoser block (16 ms) in,
// decoded, resampled to 8 kHz and μ-law encoded.
func BenchmarkChainNellymoserToPCMU(b *testing.B) {
	pcm := audiotest.NoiseBursts(16000, 16000, 0.25, 1)
	benchChain(b, nellyFrames(b, pcm, 0), 16*time.Millisecond)
}

// BenchmarkChainSpeexToPCMU: one 20 ms wideband Speex frame in.
func BenchmarkChainSpeexToPCMU(b *testing.B) {
	pcm := audiotest.NoiseBursts(16000, 16000, 0.25, 1)
	enc, err := speex.NewEncoder(16000, speex.EncoderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	var in []*media.Frame
	for i := 0; i+320 <= len(pcm); i += 320 {
		p, err := enc.Encode(nil, pcm[i:i+320])
		if err != nil {
			b.Fatal(err)
		}
		in = append(in, &media.Frame{Kind: media.KindAudio, Codec: codec.Speex, Rate: 16000, Channels: 1, Payload: p})
	}
	benchChain(b, in, 20*time.Millisecond)
}

// BenchmarkChainPCMUToOpus: one 20 ms PCMU frame in (a SIP phone), Opus
// out for browsers: the transcoded browser↔SIP call's costly direction.
func BenchmarkChainPCMUToOpus(b *testing.B) {
	pcm := audiotest.Voice(8000, 8000, 140, 0.25)
	benchChainTo(b, pcmuFrames(b, pcm), 20*time.Millisecond, codec.Opus, 48000)
}

// BenchmarkChainOpusToPCMU: one 20 ms Opus frame in (a browser), PCMU out
// for SIP phones.
func BenchmarkChainOpusToPCMU(b *testing.B) {
	pcm := audiotest.Voice(48000, 48000, 140, 0.25)
	benchChainTo(b, opusFrames(b, pcm), 20*time.Millisecond, codec.PCMU, 8000)
}

// BenchmarkTranscoderHub measures the whole path: publisher write, the
// transcoder goroutine, one PCMU subscriber reading. ns/op is per input
// Nellymoser block; allocations are the output frames' slab blocks.
func BenchmarkTranscoderHub(b *testing.B) {
	h, svc := newHub(4096)
	p, err := h.Publish("live/bench")
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	s, err := subCodecQ(svc, "live/bench", codec.PCMU, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in := nellyFrames(b, audiotest.NoiseBursts(16000, 16000, 0.25, 1), 0)
	frames := make([]media.Frame, 4096)
	ts := uint32(0)
	want := 0
	got := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := &frames[i%len(frames)]
		*f = *in[i%len(in)]
		f.Timestamp = ts
		p.Write(f)
		ts += 16
		i++
		want = (i*256/2 - 200) / 160 // less what the resampler holds back
		for got < want-64 {          // keep the queues short
			if _, err := s.Next(b.Context()); err != nil {
				b.Fatal(err)
			}
			got++
		}
	}
}

// BenchmarkTranscoderHubSpeex is BenchmarkTranscoderHub with 20 ms Speex
// frames in: since the publisher's history decoder (history.go) decodes
// them and hands the PCM over, ns/op is the publisher's decode and copy
// plus the transcoder's resampling and μ-law.
func BenchmarkTranscoderHubSpeex(b *testing.B) {
	h, svc := newHub(4096)
	p, err := h.Publish("live/bench")
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	s, err := subCodecQ(svc, "live/bench", codec.PCMU, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	in := speexFrames(b, audiotest.NoiseBursts(16000, 16000, 0.25, 1))
	frames := make([]media.Frame, 4096)
	ts := uint32(0)
	got := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f := &frames[i%len(frames)]
		*f = *in[i%len(in)]
		f.Timestamp = ts
		p.Write(f)
		ts += 20
		i++
		for got < i-2-64 { // one PCMU frame per Speex frame, less what the resampler holds
			if _, err := s.Next(b.Context()); err != nil {
				b.Fatal(err)
			}
			got++
		}
	}
}
