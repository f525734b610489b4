package transcode

import (
	"slices"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/opus"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/media"
)

// TestLostFramesFilled: input packets lost on the way (a gap in the
// timestamps) are filled, so the transcoded stream keeps every 20 ms of
// the input's timeline: the packet just before one carrying in-band FEC
// from it, the others with the decoder's concealment. Without the fill
// the output was as many frames short, every later frame stamped early.
func TestLostFramesFilled(t *testing.T) {
	// In-band FEC on, as a browser sends once its peer reports loss.
	voice := opusFramesWith(t, audiotest.Voice(48000, 48000, 140, 0.3), opus.EncoderOptions{LossPercent: 20})
	tone := pcmuFrames(t, audiotest.Sine(8000, 8000, 440, 0.3))
	for _, tc := range []struct {
		name                 string
		in                   []*media.Frame
		target               codec.ID
		drop                 []int
		recovered, concealed uint64
	}{
		{"opus with FEC, one lost", voice, codec.PCMU, []int{25}, 1, 0},
		{"opus with FEC, three lost", voice, codec.PCMU, []int{25, 26, 27}, 1, 2},
		{"pcmu, two lost", tone, codec.Opus, []int{20, 21}, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, svc := newHub(4096)
			p, err := h.Publish("live/lossy")
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			s, err := subCodecQ(svc, "live/lossy", tc.target, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i, f := range tc.in {
				if !slices.Contains(tc.drop, i) {
					p.Write(f)
				}
			}
			out := collectAudio(t, s, len(tc.in)-1) // the last may wait for more input
			for i, f := range out {
				if want := uint32(i * 20); f.Timestamp != want {
					t.Fatalf("frame %d stamped %d ms, want %d", i, f.Timestamp, want)
				}
			}
			if r, c := svc.Stats.RecoveredFrames.Load(), svc.Stats.ConcealedFrames.Load(); r != tc.recovered || c != tc.concealed {
				t.Fatalf("%d frames recovered from FEC and %d concealed, want %d and %d", r, c, tc.recovered, tc.concealed)
			}
		})
	}
}

// TestLossReportsProtect: a subscriber reporting loss makes the shared
// Opus encoder add in-band FEC (its packets grow: a higher bitrate with
// the redundancy); once that subscriber has gone, the others' encoder
// goes back to its own rate.
func TestLossReportsProtect(t *testing.T) {
	in := pcmuFrames(t, audiotest.Voice(8000, 3*8000, 140, 0.3)) // 150 frames
	h, svc := newHub(4096)
	p, err := h.Publish("live/lossy")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	lossy, err := svc.Subscribe("live/lossy", Target{Codec: codec.Opus}, h.NewQueue(0))
	if err != nil {
		t.Fatal(err)
	}
	clean, err := subCodecQ(svc, "live/lossy", codec.Opus, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer clean.Close()
	bytesOf := func(part []*media.Frame) int {
		for _, f := range part {
			p.Write(f)
		}
		n := 0
		for _, f := range collectAudio(t, clean, len(part))[10:] { // past the change
			n += len(f.Payload)
		}
		return n
	}
	before := bytesOf(in[:50])
	lossy.ReportLoss(10)
	protected := bytesOf(in[50:100])
	lossy.Close()
	after := bytesOf(in[100:150])
	t.Logf("Opus bytes of 40 frames: %d before, %d with a subscriber reporting 10 %% loss, %d once it left", before, protected, after)
	if protected < before*3/2 || after > before*5/4 {
		t.Fatalf("bytes %d, %d, %d: want the protected part half as big again, the last back", before, protected, after)
	}
}
