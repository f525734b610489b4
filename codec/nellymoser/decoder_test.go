package nellymoser

import (
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"

	"errors"
	"fmt"
	"testing"
)

func decodeFLV(t testing.TB, flv []byte) []int16 {
	t.Helper()
	_, payloads := flvAudio(t, flv)
	d := NewDecoder(16000)
	var out []int16
	for _, p := range payloads {
		var err error
		if out, err = d.Decode(out, p); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestPeerFFmpegDecode decodes files made by ffmpeg's encoder and compares
// with ffmpeg's own decoding of them.
func TestPeerFFmpegDecode(t *testing.T) {
	audiotest.FFmpeg(t)
	for _, rate := range testRates {
		for _, sig := range testSignals {
			t.Run(fmt.Sprintf("%d/%s", rate, sig.name), func(t *testing.T) {
				in := sig.gen(rate, int(signalSeconds*float64(rate)))
				flv := ffmpegEncode(t, in, rate)
				sb, _ := flvAudio(t, flv)
				if want := flvSoundByte(rate); sb != want {
					t.Errorf("sound byte 0x%02x, want 0x%02x", sb, want)
				}
				ref := ffmpegDecode(t, flv)
				got := decodeFLV(t, flv)
				if len(got) != len(ref) {
					t.Fatalf("decoded %d samples, ffmpeg %d", len(got), len(ref))
				}
				s := audiotest.SNR(ref, got)
				t.Logf("SNR vs ffmpeg decoder: %.1f dB", s)
				if s < 60 {
					t.Errorf("SNR %.1f dB < 60 dB", s)
				}
			})
		}
	}
}

func TestDecodePacketSize(t *testing.T) {
	d := NewDecoder(8000)
	for _, n := range []int{1, 63, 65, 127} {
		out, err := d.Decode(nil, make([]byte, n))
		if !errors.Is(err, ErrPacketSize) || !errors.Is(err, codec.ErrCorrupt) || len(out) != 0 {
			t.Errorf("len %d: got %d samples, err %v", n, len(out), err)
		}
	}
	out, err := d.Decode(nil, make([]byte, 3*BlockSize))
	if err != nil || len(out) != 3*FrameSamples {
		t.Errorf("3 blocks: got %d samples, err %v", len(out), err)
	}
	out, err = d.Decode(nil, nil)
	if err != nil || len(out) != 0 {
		t.Errorf("empty: got %d samples, err %v", len(out), err)
	}
}
