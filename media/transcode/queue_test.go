package transcode

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testwait"
)

// A transcoder that falls behind (here: its output is held, as an
// overloaded machine would) keeps at most InputQueue frames of input and
// drops the oldest: what comes out afterwards is the newest audio, not
// seconds of backlog.
func TestInputQueueDropsOldestWhenBehind(t *testing.T) {
	const bound = 10
	h, svc := newHub(4096)
	svc.InputQueue = bound
	p, err := h.Publish("live/q")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := subCodecQ(svc, "live/q", codec.Opus, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc.mu.Lock()
	tc := svc.running[Key("live/q", codec.Opus, 0)]
	svc.mu.Unlock()

	in := pcmuFrames(t, audiotest.Sine(8000, 8000*4, 440, 0.3)) // 200 frames, 4 s
	tc.mu.Lock()                                                // its first output frame waits here
	locked := true
	defer func() {
		if locked { // a failed wait: let Close stop the transcoder
			tc.mu.Unlock()
		}
	}()
	p.Write(in[0])
	testwait.For(t, 2*time.Second, "the transcoder to take the first frame", func() bool { return svc.Stats.TranscodedFrames.Load() == 1 })
	for _, f := range in[1:] {
		p.Write(f)
	}
	dropped := tc.q.Dropped()
	locked = false
	tc.mu.Unlock()
	if want := uint64(len(in) - 1 - bound); dropped != want {
		t.Errorf("input queue dropped %d frames, want %d (it holds %d)", dropped, want, bound)
	}
	out := collectAudio(t, s, 1+bound)
	if last, want := out[len(out)-1].Timestamp, in[len(in)-1].Timestamp; last != want {
		t.Errorf("last output frame stamped %d ms, want the newest input's %d", last, want)
	}
}
