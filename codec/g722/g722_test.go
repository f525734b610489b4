package g722

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

var (
	_ codec.Decoder = (*Decoder)(nil)
	_ codec.Encoder = (*Encoder)(nil)
)

type signal struct {
	name string
	pcm  []int16
}

func testSignals() []signal {
	const n = SampleRate // 1 s each
	return []signal{
		{"sweep", audiotest.Sweep(SampleRate, n, 50, 7800, 0.8)},
		{"tone300", audiotest.Sine(SampleRate, n, 300, 0.3)},
		{"tone5000", audiotest.Sine(SampleRate, n, 5000, 0.5)},
		{"bursts", audiotest.NoiseBursts(SampleRate, n, 0.3, 1)},
		{"silence", make([]int16, n/4)},
		{"square", audiotest.Square(SampleRate, n/2, 440, 1)},
		{"noise", audiotest.Noise(SampleRate, n/2, 0.3, 2)},
	}
}

func encodeAll(t testing.TB, pcm []int16) []byte {
	enc, err := NewEncoder(0)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for ; len(pcm) >= FrameSamples; pcm = pcm[FrameSamples:] {
		if out, err = enc.Encode(out, pcm[:FrameSamples]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, s := range testSignals() {
		if s.name == "silence" {
			continue
		}
		bits := encodeAll(t, s.pcm)
		got, err := NewDecoder().Decode(nil, bits)
		if err != nil {
			t.Fatal(err)
		}
		snr, lag := audiotest.AlignedSNR(s.pcm[:len(got)], got, 40)
		t.Logf("%-8s round trip: lag %d, SNR %.1f dB", s.name, lag, snr)
		if lag != 22 || snr < 8 { // white noise and the 7.8 kHz sweep end lose the QMF band edge
			t.Errorf("%s: lag %d (want 22, the QMF pair delay), SNR %.1f dB", s.name, lag, snr)
		}
	}
	if _, err := (&Encoder{samples: 320}).Encode(nil, make([]int16, 10)); !errors.Is(err, codec.ErrFrameSize) {
		t.Errorf("short frame: %v", err)
	}
}

// TestPeerFFmpeg: ffmpeg-encoded G.722 decoded by us matches ffmpeg's decode
// (acceptance: ≥ 50 dB), and our encoder's bytes match ffmpeg's encoder's.
func TestPeerFFmpeg(t *testing.T) {
	dir := t.TempDir()
	for _, s := range testSignals() {
		in := filepath.Join(dir, s.name+".wav")
		if err := audiotest.WriteWAV(in, s.pcm, SampleRate); err != nil {
			t.Fatal(err)
		}
		g := filepath.Join(dir, s.name+".g722")
		audiotest.RunFFmpeg(t, "-i", in, "-c:a", "g722", "-f", "g722", g)
		want := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-f", "g722", "-i", g, "-f", "s16le", "-"))
		bits, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := NewDecoder().Decode(nil, bits)
		if len(got) != len(want) {
			t.Fatalf("%s: %d samples, ffmpeg %d", s.name, len(got), len(want))
		}
		snr := audiotest.SNR(want, got)
		t.Logf("%-8s ffmpeg-encoded: our decode vs ffmpeg decode SNR %.1f dB", s.name, snr)
		if snr < 50 {
			t.Errorf("%s: SNR %.1f dB < 50", s.name, snr)
		}
		ours := encodeAll(t, s.pcm)
		if n := min(len(ours), len(bits)); !bytes.Equal(ours[:n], bits[:n]) {
			diff := 0
			for i := range n {
				if ours[i] != bits[i] {
					diff++
				}
			}
			t.Errorf("%s: our encoder differs from ffmpeg's in %d of %d bytes", s.name, diff, n)
		}
	}
}

func TestConceal(t *testing.T) {
	d := NewDecoder()
	pcm, _ := d.Decode(nil, encodeAll(t, audiotest.Sine(SampleRate, 640, 440, 0.5)))
	if len(pcm) != 640 {
		t.Fatalf("%d samples", len(pcm))
	}
	for range concealSteps + 1 {
		pcm = d.Conceal(pcm)
	}
	if len(pcm) != 640+(concealSteps+1)*FrameSamples {
		t.Fatalf("conceal length %d", len(pcm))
	}
	if lvl := audiotest.RMSDB(pcm[len(pcm)-FrameSamples:]); lvl > -200 {
		t.Errorf("after %d lost frames level %.1f dB, want silence", concealSteps+1, lvl)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodeAll(f, audiotest.Sine(SampleRate, 640, 440, 0.5)))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xFF, 0x00, 0x3C, 0xC3}, 100))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		d := NewDecoder()
		out, err := d.Decode(nil, pkt)
		if err != nil || len(out) != 2*len(pkt) {
			t.Fatalf("%d samples from %d bytes, err %v", len(out), len(pkt), err)
		}
		out = d.Conceal(out)
		// Whatever came in, decoding then re-encoding stays well-formed.
		if len(out) >= FrameSamples {
			if _, err := encodeAllErr(out[:FrameSamples]); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func encodeAllErr(pcm []int16) ([]byte, error) {
	enc, err := NewEncoder(len(pcm))
	if err != nil {
		return nil, err
	}
	return enc.Encode(nil, pcm)
}

func BenchmarkDecode(b *testing.B) {
	bits := encodeAll(b, audiotest.NoiseBursts(SampleRate, FrameSamples, 0.3, 1))
	d := NewDecoder()
	out := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = d.Decode(out[:0], bits)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

func BenchmarkEncode(b *testing.B) {
	pcm := audiotest.NoiseBursts(SampleRate, FrameSamples, 0.3, 1)
	e, _ := NewEncoder(0)
	out := make([]byte, 0, FrameSamples/2)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = e.Encode(out[:0], pcm)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
