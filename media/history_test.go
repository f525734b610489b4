package media

import (
	"slices"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// TestHistoryHandsPCMOnlyToTranscoders: plain subscribers of a Speex stream
// get the publisher's frames themselves while nobody transcodes; with a
// transcoder reading, every subscriber gets a copy carrying the PCM of the
// history decoder, which has decoded from the first frame on.
func TestHistoryHandsPCMOnlyToTranscoders(t *testing.T) {
	in := speexFrames(t, audiotest.Voice(16000, 16000, 140, 0.3))
	ref := decodeAll(t, in)
	h := NewHub(1024, nil)
	plain := subQ(h, "live/h")
	p, err := h.Publish("live/h")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range in[:10] {
		p.Write(f)
		if got := collectAudio(t, plain, 1)[0]; got != f {
			t.Fatal("without a transcoder the publisher's frame itself must be fanned out")
		}
	}
	tc, err := subCodecQ(h, "live/h", codec.PCMU, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	for i, f := range in[10:20] {
		p.Write(f)
		got := collectAudio(t, plain, 1)[0]
		if got == f || got.Timestamp != f.Timestamp || &got.Payload[0] != &f.Payload[0] {
			t.Fatalf("frame %d: want a copy of the publisher's frame sharing its payload", 10+i)
		}
		want := ref[(10+i)*320 : (11+i)*320]
		if !slices.Equal(got.dec.pcm, want) {
			t.Fatalf("frame %d: its PCM is not the from-the-start decode", 10+i)
		}
	}
	// Another codec, then Speex again: the history starts afresh.
	p.Write(nellyFrames(t, make([]int16, 256), 400)[0])
	if p.hist.active.Load() {
		t.Error("the history decoder must stop when the stream leaves Speex")
	}
	p.Write(in[0])
	if !p.hist.active.Load() {
		t.Error("the history decoder must start again with Speex")
	}
	p.Close()
	if p.hist.active.Load() {
		t.Error("Close must free the history decoder")
	}
	if n := p.s.transcoders.Load(); n != 1 {
		t.Errorf("%d transcoders counted on the source, want 1", n)
	}
	tc.Close()
	if n := p.s.transcoders.Load(); n != 0 {
		t.Errorf("%d transcoders counted after the last one stopped, want 0", n)
	}
}

// decodeAll decodes FLV Speex frames from the first with a fresh decoder.
func decodeAll(t testing.TB, in []*Frame) []int16 {
	h := &history{}
	var pcm []int16
	for _, f := range in {
		pcm = append(pcm, h.decode(f, f.Codec, f.Rate, f.Payload, true).dec.pcm...)
	}
	h.close()
	return pcm
}

// BenchmarkWriteSpeex: Publisher.Write of one 20 ms Speex frame to one
// subscriber, which now includes the history decoder; "transcoded" adds the
// copy of the frame and its PCM handed to a transcoder.
func BenchmarkWriteSpeex(b *testing.B) {
	in := speexFrames(b, audiotest.NoiseBursts(16000, 16000, 0.25, 1))
	for _, transcoded := range []bool{false, true} {
		name := "alone"
		if transcoded {
			name = "transcoded"
		}
		b.Run(name, func(b *testing.B) {
			h := NewHub(1024, nil)
			s := h.Subscribe("live/b", ReceiverFunc(func(*Frame) {}))
			defer s.Close()
			p, _ := h.Publish("live/b")
			defer p.Close()
			if transcoded {
				p.s.transcoders.Add(1) // as SubscribeCodec does, without its goroutine
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p.Write(in[i%len(in)])
				i++
			}
		})
	}
}
