package nellymoser

import (
	"github.com/flashvox/flashvox/internal/test/audiotest"

	"bytes"
	"fmt"
	"testing"
)

// TestPeerFFmpegEncodeBlocks counts the blocks our encoder, with its
// exponent reachability pass off, codes exactly as ffmpeg's encoder does. Float rounding (FFT order, exp2) may flip a
// quantizer decision now and then, so it only requires a large majority.
// The steady sine is left out: next to its huge bins, the near-silent bands
// hold nothing but float32 rounding noise of the transform, which differs
// between any two FFTs (the round-trip SNR is the same to 0.01 dB).
func TestPeerFFmpegEncodeBlocks(t *testing.T) {
	audiotest.FFmpeg(t)
	for _, rate := range []int{8000, 16000, 44100} {
		for _, sig := range testSignals {
			if sig.name == "sine1k" {
				continue
			}
			t.Run(fmt.Sprintf("%d/%s", rate, sig.name), func(t *testing.T) {
				in := sig.gen(rate, int(signalSeconds*float64(rate)))
				_, ref := flvAudio(t, ffmpegEncode(t, in, rate))
				e := NewEncoder(rate)
				e.ffmpegExponents = true
				ours := encodeAll(t, e, in)
				same := 0
				for i := range min(len(ref), len(ours)) {
					if bytes.Equal(ref[i], ours[i]) {
						same++
					}
				}
				t.Logf("%d of %d blocks (ffmpeg %d) identical", same, len(ours), len(ref))
				if same < len(ref)*9/10 {
					t.Errorf("only %d of %d blocks identical", same, len(ref))
				}
			})
		}
	}
}
