package nellymoser

import (
	"github.com/flashvox/flashvox/internal/test/audiotest"

	"errors"
	"fmt"
	"math"
	"testing"
)

// encodeAll encodes pcm, zero padded to whole frames plus one flushing
// frame (the codec delay), into one block per slice element.
func encodeAll(t testing.TB, e *Encoder, pcm []int16) [][]byte {
	t.Helper()
	n := (len(pcm)+FrameSamples-1)/FrameSamples + 1
	padded := make([]int16, n*FrameSamples)
	copy(padded, pcm)
	var blocks [][]byte
	for i := range n {
		b, err := e.Encode(nil, padded[i*FrameSamples:(i+1)*FrameSamples])
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, b)
	}
	return blocks
}

const codecDelay = halfLen

// delayedSNR is the SNR of out against in, with out lagging by codecDelay.
func delayedSNR(in, out []int16) float64 {
	if len(out) < codecDelay {
		return math.Inf(-1)
	}
	return audiotest.SNR(in, out[codecDelay:])
}

// TestPeerFFmpegEncode has ffmpeg decode our encoder's output and compares
// the round trip with ffmpeg's own encoder → decoder.
func TestPeerFFmpegEncode(t *testing.T) {
	audiotest.FFmpeg(t)
	for _, rate := range testRates {
		for _, sig := range testSignals {
			t.Run(fmt.Sprintf("%d/%s", rate, sig.name), func(t *testing.T) {
				in := sig.gen(rate, int(signalSeconds*float64(rate)))
				refOut := ffmpegDecode(t, ffmpegEncode(t, in, rate))
				ourOut := ffmpegDecode(t, writeFLV(rate, encodeAll(t, NewEncoder(rate), in)))
				if rms(in) == 0 {
					t.Logf("silence: output RMS ours %.2f, ffmpeg %.2f", rms(ourOut), rms(refOut))
					if rms(ourOut) > max(rms(refOut), 1) {
						t.Errorf("our silence decodes to RMS %.2f", rms(ourOut))
					}
					return
				}
				ref, ours := delayedSNR(in, refOut), delayedSNR(in, ourOut)
				t.Logf("SNR vs input: ours %.2f dB, ffmpeg %.2f dB (%+.2f dB)", ours, ref, ours-ref)
				if ours < ref-1 {
					t.Errorf("our encoder %.2f dB is more than 1 dB below ffmpeg's %.2f dB", ours, ref)
				}
			})
		}
	}
}

// TestRoundTrip checks our encoder against our decoder without ffmpeg.
func TestRoundTrip(t *testing.T) {
	in := testSignals[0].gen(16000, 8000)
	e, d := NewEncoder(16000), NewDecoder(16000)
	var out []int16
	for _, b := range encodeAll(t, e, in) {
		var err error
		if out, err = d.Decode(out, b); err != nil {
			t.Fatal(err)
		}
	}
	if s := delayedSNR(in, out); s < 15 {
		t.Errorf("round trip SNR %.1f dB", s)
	}
}

func TestEncodeFrameSize(t *testing.T) {
	e := NewEncoder(8000)
	for _, n := range []int{0, 255, 257, 512} {
		out, err := e.Encode(nil, make([]int16, n))
		if !errors.Is(err, ErrFrameSize) || len(out) != 0 {
			t.Errorf("%d samples: got %d bytes, err %v", n, len(out), err)
		}
	}
}

// TestToneLevel checks steady tones keep their level through our encoder
// and decoder (FFmpeg's encoder loses ~17 dB on a 1 kHz sine at 16 kHz).
func TestToneLevel(t *testing.T) {
	for _, f := range []float64{440, 1000, 1500, 3000} {
		in := audiotest.Sine(16000, 8000, f, 0.5)
		d := NewDecoder(16000)
		var out []int16
		for _, b := range encodeAll(t, NewEncoder(16000), in) {
			out, _ = d.Decode(out, b)
		}
		got, want := audiotest.RMSDB(out[1000:7000]), audiotest.RMSDB(in[1000:7000])
		s := delayedSNR(in[1000:7000], out[1000:])
		t.Logf("%4.0f Hz: level %.1f dB (input %.1f), SNR %.1f dB", f, got, want, s)
		if math.Abs(got-want) > 1 || s < 20 {
			t.Errorf("%.0f Hz: level %.1f dB vs %.1f, SNR %.1f dB", f, got, want, s)
		}
	}
}
