package conference

import (
	"math"
	"sync"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/media"
)

// A burst of arrivals leaves a frame standing in a member's buffer; it is
// dropped once the buffer held it at every mix for standingMixes mixes,
// without an underrun.
func TestStandingDelayIsTrimmed(t *testing.T) {
	br := newBenchRoom(t, 2, 1, codec.Speex, 16000, 0)
	in, st := br.ins[0], br.x.st
	loop := br.frames[0]
	push := func(i int) {
		f := *loop[i%len(loop)]
		f.Timestamp = uint32(i * frameMillis)
		in.push(&f)
	}
	push(0)
	push(1) // two at once: one frame beyond the 20 ms jitter target
	br.x.tick()
	if got := len(in.buf); got != FrameSamples {
		t.Fatalf("after the burst %d samples wait, want %d", got, FrameSamples)
	}
	for i := 2; i < 2+standingMixes+5; i++ {
		push(i)
		br.x.tick()
	}
	if got := len(in.buf); got != 0 {
		t.Errorf("%d samples still wait after %d mixes, want 0", got, standingMixes+5)
	}
	if u := st.Underruns.Load(); u != 0 {
		t.Errorf("%d underruns", u)
	}
	if l := st.Late.Load(); l != 1 {
		t.Errorf("late = %d, want the one frame dropped", l)
	}
}

// Arrivals in pairs every other mix (jitter of one frame) keep their
// buffer: it empties every other mix, so nothing in it is standing delay.
func TestJitterIsNotTrimmed(t *testing.T) {
	br := newBenchRoom(t, 2, 1, codec.Speex, 16000, 0)
	in, st := br.ins[0], br.x.st
	loop := br.frames[0]
	next := 0
	for tick := range 4 * standingMixes {
		if tick%2 == 0 {
			for range 2 {
				f := *loop[next%len(loop)]
				f.Timestamp = uint32(next * frameMillis)
				in.push(&f)
				next++
			}
		}
		br.x.tick()
	}
	if l, u := st.Late.Load(), st.Underruns.Load(); l != 0 || u != 0 {
		t.Errorf("late = %d, underruns = %d; want 0, 0", l, u)
	}
}

// Members who add nothing get the full mix from one shared encoder; a
// talker keeps its own mix, without its own voice.
func TestSilentMembersShareTheFullMix(t *testing.T) {
	br := newBenchRoom(t, 3, 1, codec.Speex, 16000, 0) // member 0 talks
	hub := br.x.r.svc.opts.Hub
	var mu sync.Mutex
	got := make([][][]byte, len(br.ins))
	for k, in := range br.ins {
		sub := hub.Subscribe(br.x.r.svc.opts.StreamPrefix+in.m.mix, media.ReceiverFunc(func(f *media.Frame) {
			if f.Kind == media.KindAudio {
				mu.Lock()
				got[k] = append(got[k], f.Payload)
				mu.Unlock()
			}
		}))
		t.Cleanup(sub.Close)
	}
	const mixes = 60
	for i := range mixes {
		br.tick(i)
	}
	if n := len(br.x.shared.encs); n != 1 || br.x.shared.encs[0].used != mixes-1 {
		t.Fatalf("%d shared encoders, want one used by the last mix", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for k := range got {
		if len(got[k]) != mixes {
			t.Fatalf("member %d got %d frames, want %d", k, len(got[k]), mixes)
		}
	}
	for j := range mixes {
		if string(got[1][j]) != string(got[2][j]) {
			t.Fatalf("frame %d differs between the two silent members", j)
		}
	}
	if lvl := level(t, got[1][mixes-20:]); lvl < 1000 {
		t.Errorf("a silent member hears the talker at level %.0f, want its tone (> 1000)", lvl)
	}
	if lvl := level(t, got[0][mixes-20:]); lvl > 50 {
		t.Errorf("the talker hears level %.0f, want silence (its own voice is not in its mix)", lvl)
	}
}

// level decodes Speex packets (after the FLV header byte) and returns the
// RMS of the audio.
func level(t *testing.T, pkts [][]byte) float64 {
	t.Helper()
	dec, err := codecs.NewDecoder(codec.Speex, 16000)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCodec(dec)
	var pcm []int16
	for _, p := range pkts {
		if pcm, err = dec.Decode(pcm, p); err != nil {
			t.Fatal(err)
		}
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(max(1, len(pcm))))
}

// Two packets lost on the way (a 40 ms jump in the member's timestamps)
// are filled with the decoder's concealment: the member's buffer holds
// as much audio as without the loss, where it used to run 40 ms short.
func TestLostInputFilled(t *testing.T) {
	br := newBenchRoom(t, 2, 1, codec.Speex, 16000, 0)
	in, st := br.ins[0], br.x.st
	loop := br.frames[0]
	for i := range 8 {
		if i == 3 || i == 4 {
			continue // lost
		}
		f := *loop[i%len(loop)]
		f.Timestamp = uint32(i * frameMillis)
		in.decode(&f, st)
	}
	if got, want := len(in.buf), 8*FrameSamples; got != want {
		t.Fatalf("%d samples buffered after 6 of 8 packets, want %d (the 2 lost filled)", got, want)
	}
	if c, r := st.Concealed.Load(), st.Recovered.Load(); c != 2 || r != 0 {
		t.Fatalf("%d frames concealed, %d recovered; want 2 and 0", c, r)
	}
}
