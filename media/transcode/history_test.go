package transcode

import (
	"slices"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// TestHistoryKeepsPCMForTranscoders: subscribers of a Speex stream always
// get the publisher's frames themselves; the history tap decodes from the
// first frame on, keeps the PCM only while a transcoder reads the stream,
// starts afresh when the stream leaves Speex, and is dropped once the
// stream is unpublished and nobody transcodes it.
func TestHistoryKeepsPCMForTranscoders(t *testing.T) {
	in := speexFrames(t, audiotest.Voice(16000, 16000, 140, 0.3))
	ref := decodeAll(t, in)
	h, svc := newHub(1024)
	plain := subQ(h, "live/h")
	p, err := h.Publish("live/h")
	if err != nil {
		t.Fatal(err)
	}
	hist := svc.history["live/h"]
	if hist == nil {
		t.Fatal("no history tap for a new publication")
	}
	if n := h.SubscriberCount("live/h"); n != 1 {
		t.Fatalf("%d subscribers, want 1: a tap is not one", n)
	}
	for _, f := range in[:10] {
		p.Write(f)
		if got := collectAudio(t, plain, 1)[0]; got != f {
			t.Fatal("the publisher's frame itself must be fanned out")
		}
		if hist.pcm(f) != nil {
			t.Fatal("PCM kept while nobody transcodes")
		}
	}
	tc, err := subCodecQ(svc, "live/h", codec.PCMU, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range in[10:20] {
		p.Write(f)
		if got := collectAudio(t, plain, 1)[0]; got != f {
			t.Fatal("the publisher's frame itself must be fanned out")
		}
		if !slices.Equal(hist.pcm(f), ref[(10+i)*320:(11+i)*320]) {
			t.Fatalf("frame %d: its PCM is not the from-the-start decode", 10+i)
		}
	}
	// Another codec, then Speex again: the history starts afresh.
	p.Write(nellyFrames(t, make([]int16, 256), 400)[0])
	if hist.decoding() {
		t.Error("the history decoder must stop when the stream leaves Speex")
	}
	p.Write(in[0])
	if !hist.decoding() {
		t.Error("the history decoder must start again with Speex")
	}
	p.Close()
	if n := hist.refs.Load(); n != 1 {
		t.Errorf("%d transcoders counted on the source, want 1", n)
	}
	tc.Close()
	if n := hist.refs.Load(); n != 0 {
		t.Errorf("%d transcoders counted after the last one stopped, want 0", n)
	}
	testwait.For(t, 5*time.Second, "the history of an unpublished stream nobody transcodes to go", func() bool {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		return svc.history["live/h"] == nil
	})
	if hist.decoding() {
		t.Error("the history decoder must be freed")
	}
}

// decoding reports whether h runs a decoder now.
func (h *history) decoding() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dec != nil
}

// decodeAll decodes Speex frames from the first with a fresh decoder.
func decodeAll(t testing.TB, in []*media.Frame) []int16 {
	d, err := codecs.NewDecoder(codec.Speex, 16000)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCodec(d)
	var pcm []int16
	for _, f := range in {
		if pcm, err = d.Decode(pcm, f.Payload); err != nil {
			t.Fatal(err)
		}
	}
	return pcm
}

// BenchmarkWriteSpeex: Publisher.Write of one 20 ms Speex frame to one
// subscriber, which includes the history tap's decode; "transcoded" adds
// keeping its PCM for a transcoder.
func BenchmarkWriteSpeex(b *testing.B) {
	in := speexFrames(b, audiotest.NoiseBursts(16000, 16000, 0.25, 1))
	for _, transcoded := range []bool{false, true} {
		name := "alone"
		if transcoded {
			name = "transcoded"
		}
		b.Run(name, func(b *testing.B) {
			h, svc := newHub(1024)
			s := h.Subscribe("live/b", media.ReceiverFunc(func(*media.Frame) {}))
			defer s.Close()
			p, _ := h.Publish("live/b")
			defer p.Close()
			if transcoded {
				svc.history["live/b"].refs.Add(1) // as a transcoder does, without its goroutine
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
