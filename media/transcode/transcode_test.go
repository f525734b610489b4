package transcode

import (
	"errors"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/g711"
	"github.com/flashvox/flashvox/codec/g722"
	"github.com/flashvox/flashvox/codec/nellymoser"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// nellyFrames encodes pcm (16 kHz) as one 64-byte block per frame, 16 ms
// apart from ts0, as Flash and ffmpeg publish Nellymoser 16 kHz.
func nellyFrames(t testing.TB, pcm []int16, ts0 uint32) []*media.Frame {
	t.Helper()
	enc := nellymoser.NewEncoder(16000)
	var out []*media.Frame
	for i := 0; i+nellymoser.FrameSamples <= len(pcm); i += nellymoser.FrameSamples {
		p, err := enc.Encode(nil, pcm[i:i+nellymoser.FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &media.Frame{Kind: media.KindAudio, Codec: codec.Nellymoser, Rate: 16000, Channels: 1, Timestamp: ts0 + uint32(i/16), Payload: p})
	}
	return out
}

// collectAudio reads n audio frames from s, failing on other kinds.
func collectAudio(t *testing.T, s queued, n int) []*media.Frame {
	t.Helper()
	var out []*media.Frame
	for len(out) < n {
		f := next(t, s)
		if f.Kind == media.KindAudio {
			out = append(out, f)
		}
	}
	return out
}

func TestSubscribeCodecSharesOneTranscoder(t *testing.T) {
	h, svc := newHub(1024)
	p, err := h.Publish("live/a")
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]queued, 3)
	for i := range subs {
		if subs[i], err = subCodecQ(svc, "live/a", codec.PCMU, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := svc.Stats.Transcoders.Load(); n != 1 {
		t.Fatalf("%d transcoders for 3 PCMU subscribers, want 1", n)
	}
	src := audiotest.Sine(16000, 16000, 1000, 0.25)
	in := nellyFrames(t, src, 5000)
	for _, f := range in {
		p.Write(f)
	}
	want := len(in) * 256 / 2 / 160 // 16 ms blocks → 20 ms frames, less what the resampler holds
	var first []*media.Frame
	for i, s := range subs {
		got := collectAudio(t, s, want-1)
		if i == 0 {
			first = got
		} else if got[0] != first[0] {
			t.Fatal("subscribers of one transcoder must share frames")
		}
	}
	var pcm []int16
	for i, f := range first {
		if f.Codec != codec.PCMU || f.Rate != 8000 || f.Channels != 1 || len(f.Payload) != 160 {
			t.Fatalf("frame %d: %v %d Hz %d channels, %d bytes; want PCMU 8000 mono, 160", i, f.Codec, f.Rate, f.Channels, len(f.Payload))
		}
		if wantTS := uint32(5000 + 20*i); f.Timestamp != wantTS {
			t.Fatalf("frame %d: timestamp %d, want %d", i, f.Timestamp, wantTS)
		}
		pcm = g711.AppendULawPCM(pcm, f.Payload)
	}
	ref := resampleAll(t, src, 16000, 8000)
	snr, lag := audiotest.AlignedSNR(ref[800:len(pcm)-800], pcm[800:len(pcm)-800], 200)
	t.Logf("nellymoser 16k → PCMU: SNR %.1f dB (lag %d)", snr, lag)
	if snr < 28 {
		t.Errorf("SNR %.1f dB, want ≥ 28 (measured 33.7)", snr)
	}
	for _, s := range subs {
		s.Close()
	}
	if n := svc.Stats.Transcoders.Load(); n != 0 {
		t.Fatalf("%d transcoders after the last subscriber left", n)
	}
	if n := h.SubscriberCount("live/a"); n != 0 {
		t.Fatalf("the transcoder still subscribes to the source (%d subscribers)", n)
	}
	if h.Published(Key("live/a", codec.PCMU, 0)) {
		t.Fatal("derived stream left published")
	}
	// A new subscriber starts a fresh transcoder.
	s, err := subCodecQ(svc, "live/a", codec.PCMU, 0)
	if err != nil {
		t.Fatal(err)
	}
	p.Write(in[0])
	p.Write(in[1])
	collectAudio(t, s, 1)
	s.Close()
	p.Close()
}

func resampleAll(t testing.TB, pcm []int16, from, to int) []int16 {
	r, err := resample.New(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return r.Flush(r.Resample(nil, pcm))
}

func TestTranscodeEventsAndDiscontinuity(t *testing.T) {
	h, svc := newHub(1024)
	s, err := subCodecQ(svc, "live/b", codec.PCMA, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := h.Publish("live/b")
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); ev.Kind != media.KindPublish {
		t.Fatalf("first event %v, want publish", ev.Kind)
	}
	meta := &media.Frame{Kind: media.KindData, Payload: []byte{2}}
	p.Write(meta)
	if got := next(t, s); got != meta {
		t.Fatal("data frames must pass through as they are")
	}
	src := audiotest.Sine(16000, 16000, 440, 0.25)
	frames := nellyFrames(t, src, 0)
	for _, f := range frames[:20] { // 320 ms
		p.Write(f)
	}
	// A pause of 10 s: the output is re-anchored on the new timestamp.
	for _, f := range frames[20:40] {
		g := *f
		g.Timestamp += 10000
		p.Write(&g)
	}
	p.Close()
	var ts []uint32
	for {
		f := next(t, s)
		if f.Kind == media.KindUnpublish {
			break
		}
		if f.Codec != codec.PCMA {
			t.Fatalf("codec %v, want PCMA", f.Codec)
		}
		ts = append(ts, f.Timestamp)
	}
	// 320 ms → 16 frames of 20 ms; then 16 more from 10320 (the last padded).
	if len(ts) != 32 || ts[0] != 0 || ts[15] != 300 || ts[16] != 10320 || ts[31] != 10620 {
		t.Fatalf("timestamps %v", ts)
	}
	for i := 1; i < len(ts); i++ {
		if i != 16 && ts[i]-ts[i-1] != 20 {
			t.Fatalf("timestamps not 20 ms apart at %d: %v", i, ts)
		}
	}
	// A new publisher: the derived stream is published again.
	p2, err := h.Publish("live/b")
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	if ev := next(t, s); ev.Kind != media.KindPublish {
		t.Fatalf("got %v, want publish", ev.Kind)
	}
}

func TestTranscodePassThroughAndG722(t *testing.T) {
	h, svc := newHub(64)
	p, err := h.Publish("live/c")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	same, err := subCodecQ(svc, "live/c", codec.PCMU, 8000)
	if err != nil {
		t.Fatal(err)
	}
	defer same.Close()
	g, err := subCodecQ(svc, "live/c", codec.G722, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	pcm := audiotest.Sine(8000, 1600, 700, 0.2)
	var sent []*media.Frame
	for i := 0; i < len(pcm); i += 160 {
		f := &media.Frame{Kind: media.KindAudio, Timestamp: uint32(i / 8), Codec: codec.PCMU, Rate: 8000, Channels: 1, Payload: g711.AppendULaw(nil, pcm[i:i+160])}
		sent = append(sent, f)
		p.Write(f)
	}
	for _, f := range sent {
		if got := collectAudio(t, same, 1)[0]; got != f {
			t.Fatal("audio already in the target codec must pass through untouched")
		}
	}
	dec := g722.NewDecoder()
	var out []int16
	for _, f := range collectAudio(t, g, 8) {
		if f.Codec != codec.G722 || f.Rate != 16000 || len(f.Payload) != 160 {
			t.Fatalf("G.722 frame: %v %d %d bytes", f.Codec, f.Rate, len(f.Payload))
		}
		out, _ = dec.Decode(out, f.Payload)
	}
	if db := audiotest.ToneDB(out[1600:], 16000, 700); db < -20 {
		t.Fatalf("700 Hz tone at %.1f dB after PCMU → G.722", db)
	}
}

func TestSubscribeCodecErrors(t *testing.T) {
	h, svc := newHub(16)
	for _, c := range []struct {
		id   codec.ID
		rate int
	}{{codec.AAC, 0}, {codec.PCMU, 16000}, {codec.Speex, 11025}, {0, 0}} {
		if _, err := subCodecQ(svc, "live/a", c.id, c.rate); !errors.Is(err, ErrCodec) {
			t.Errorf("SubscribeCodec(%v, %d): %v, want ErrCodec", c.id, c.rate, err)
		}
	}
	if svc.Stats.Transcoders.Load() != 0 || h.SubscriberCount("live/a") != 0 {
		t.Fatal("a refused SubscribeCodec left state behind")
	}
	if _, err := h.Publish("live/a#pcmu"); !errors.Is(err, media.ErrBadName) {
		t.Fatalf("publishing a derived key: %v", err)
	}
	if k := Key("live/a", codec.Nellymoser, 8000); k != "live/a#nellymoser@8000" {
		t.Fatalf("TranscodeKey = %q", k)
	}
}

// TestTranscoderBudget: a budgeted SubscribeCodec starts no transcoder beyond
// its budget, shares running ones freely, and does not count the server's
// own transcoders.
func TestTranscoderBudget(t *testing.T) {
	_, svc := newHub(64)
	own, err := subCodecQ(svc, "live/a", codec.PCMU, 0) // the server's own: not budgeted
	if err != nil {
		t.Fatal(err)
	}
	sink := media.ReceiverFunc(func(*media.Frame) {})
	a, err := svc.Subscribe("live/a", Target{Codec: codec.Speex, Rate: 0, Budget: 1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Subscribe("live/b", Target{Codec: codec.Speex, Rate: 0, Budget: 1}, sink); !errors.Is(err, ErrBudget) {
		t.Fatalf("beyond the budget: %v", err)
	}
	shared, err := svc.Subscribe("live/a", Target{Codec: codec.Speex, Rate: 0, Budget: 1}, sink)
	if err != nil {
		t.Fatalf("sharing a running transcoder: %v", err)
	}
	joined, err := svc.Subscribe("live/a", Target{Codec: codec.PCMU, Rate: 0, Budget: -1}, sink)
	if err != nil {
		t.Fatalf("joining the server's transcoder with no budget: %v", err)
	}
	if n, b := svc.Stats.Transcoders.Load(), svc.Stats.BudgetTranscoders.Load(); n != 2 || b != 1 {
		t.Fatalf("%d transcoders, %d budgeted; want 2, 1", n, b)
	}
	a.Close()
	shared.Close()
	if b := svc.Stats.BudgetTranscoders.Load(); b != 0 {
		t.Fatalf("%d budgeted after the last player left", b)
	}
	if _, err := svc.Subscribe("live/b", Target{Codec: codec.Speex, Rate: 0, Budget: 1}, sink); err != nil {
		t.Fatalf("a freed budget: %v", err)
	}
	joined.Close()
	own.Close()
}

// TestChainHoldsNoFrameBack: a resampling chain emits each output frame
// as soon as the input frame that completes it arrives, not when the next
// one does (the resampler's hold-back would add a frame of delay), and a
// run keeps its length: n input frames give n output frames in all.
func TestChainHoldsNoFrameBack(t *testing.T) {
	for _, target := range []struct {
		id   codec.ID
		rate int
	}{{codec.PCMU, 8000}, {codec.Opus, 48000}} {
		ch := newChain(target.id, target.rate)
		n := 0
		ch.emit = func(uint32, []byte) { n++ }
		frames := speexFrames(t, audiotest.Sine(16000, 8000, 440, 0.25)) // 25 frames of 20 ms
		for i, f := range frames {
			if err := ch.push(f, nil); err != nil {
				t.Fatal(err)
			}
			if n != i+1 {
				t.Fatalf("%v: %d frames out after %d in", target.id, n, i+1)
			}
		}
		ch.flush()
		if n != len(frames) {
			t.Errorf("%v: %d frames out after the flush, want %d", target.id, n, len(frames))
		}
		ch.close()
	}
}
