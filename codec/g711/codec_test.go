package g711

import (
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

func TestEncoderDecoderRoundTrip(t *testing.T) {
	pcm := audiotest.Sweep(SampleRate, 8000, 100, 3800, 0.7)
	for _, law := range []Law{ULaw, ALaw} {
		enc, err := NewEncoder(law, 0)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := NewDecoder(law)
		if err != nil {
			t.Fatal(err)
		}
		var out []int16
		var pkt []byte
		for f := pcm; len(f) >= enc.FrameSamples(); f = f[enc.FrameSamples():] {
			if pkt, err = enc.Encode(pkt[:0], f[:enc.FrameSamples()]); err != nil {
				t.Fatal(err)
			}
			if out, err = dec.Decode(out, pkt); err != nil {
				t.Fatal(err)
			}
		}
		snr := audiotest.SNR(pcm, out)
		t.Logf("law %d: sweep SNR %.2f dB", law, snr)
		if snr < 35 {
			t.Errorf("law %d: SNR %.2f dB < 35", law, snr)
		}
		if _, err := enc.Encode(nil, pcm[:10]); !errors.Is(err, codec.ErrFrameSize) {
			t.Errorf("short frame: err %v, want ErrFrameSize", err)
		}
	}
}

func TestConcealFadesToSilence(t *testing.T) {
	dec, _ := NewDecoder(ULaw)
	pkt := AppendULaw(nil, audiotest.Sine(SampleRate, 160, 1000, 0.5))
	if _, err := dec.Decode(nil, pkt); err != nil {
		t.Fatal(err)
	}
	var prev float64 = 0
	for i := range concealSteps + 2 {
		out := dec.Conceal(nil)
		if len(out) != DefaultFrameSamples {
			t.Fatalf("conceal len %d", len(out))
		}
		lvl := audiotest.RMSDB(out)
		if i > 0 && lvl > prev+0.01 {
			t.Errorf("frame %d: level %.1f dB rose from %.1f", i, lvl, prev)
		}
		prev = lvl
	}
	if prev > -200 {
		t.Errorf("after %d lost frames level %.1f dB, want silence", concealSteps+2, prev)
	}
}

// TestPeerFFmpegDecode: our decoder matches ffmpeg's bit for bit on
// ffmpeg-encoded μ-law and A-law.
func TestPeerFFmpegDecode(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	sig := audiotest.Concat(audiotest.Sweep(SampleRate, 8000, 100, 3800, 0.9), audiotest.Square(SampleRate, 800, 200, 1), audiotest.Noise(SampleRate, 800, 0.3, 1))
	if err := audiotest.WriteWAV(in, sig, SampleRate); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		law   Law
		codec string
	}{{ULaw, "pcm_mulaw"}, {ALaw, "pcm_alaw"}} {
		enc := filepath.Join(dir, c.codec+".raw")
		audiotest.RunFFmpeg(t, "-i", in, "-c:a", c.codec, "-f", c.codec[4:], enc)
		want := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-f", c.codec[4:], "-ar", "8000", "-ac", "1", "-i", enc, "-f", "s16le", "-"))
		b, err := os.ReadFile(enc)
		if err != nil {
			t.Fatal(err)
		}
		dec, _ := NewDecoder(c.law)
		got, _ := dec.Decode(nil, b)
		if len(got) != len(want) {
			t.Fatalf("%s: %d samples, ffmpeg %d", c.codec, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: sample %d = %d, ffmpeg %d", c.codec, i, got[i], want[i])
			}
		}
		snr := audiotest.SNR(sig, got)
		t.Logf("%s: ffmpeg-encoded, decoded identically to ffmpeg; SNR vs source %.2f dB", c.codec, snr)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(AppendULaw(nil, audiotest.Sine(SampleRate, 160, 440, 0.5)))
	f.Add([]byte{})
	f.Add([]byte{0x00, 0x7F, 0x80, 0xFF})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, law := range []Law{ULaw, ALaw} {
			dec, _ := NewDecoder(law)
			out, err := dec.Decode(nil, pkt)
			if err != nil || len(out) != len(pkt) {
				t.Fatalf("decode: %d samples, err %v", len(out), err)
			}
			enc, _ := NewEncoder(law, len(out))
			if len(out) == 0 {
				continue
			}
			back, err := enc.Encode(nil, out)
			if err != nil {
				t.Fatal(err)
			}
			for i := range back {
				if back[i] != pkt[i] && !(law == ULaw && pkt[i] == 0x7F) {
					t.Fatalf("round trip code %#x → %#x", pkt[i], back[i])
				}
			}
			_ = dec.Conceal(out[:0])
		}
	})
}

func BenchmarkEncodeULaw(b *testing.B) { benchEncode(b, ULaw) }
func BenchmarkEncodeALaw(b *testing.B) { benchEncode(b, ALaw) }
func BenchmarkDecodeULaw(b *testing.B) { benchDecode(b, ULaw) }
func BenchmarkDecodeALaw(b *testing.B) { benchDecode(b, ALaw) }

func benchEncode(b *testing.B, law Law) {
	enc, _ := NewEncoder(law, 0)
	pcm := audiotest.Noise(SampleRate, DefaultFrameSamples, 0.2, 1)
	buf := make([]byte, 0, DefaultFrameSamples)
	b.ReportAllocs()
	b.SetBytes(DefaultFrameSamples * 2)
	for b.Loop() {
		buf, _ = enc.Encode(buf[:0], pcm)
	}
}

func benchDecode(b *testing.B, law Law) {
	dec, _ := NewDecoder(law)
	pkt := AppendULaw(nil, audiotest.Noise(SampleRate, DefaultFrameSamples, 0.2, 1))
	out := make([]int16, 0, DefaultFrameSamples)
	b.ReportAllocs()
	b.SetBytes(DefaultFrameSamples)
	for b.Loop() {
		out, _ = dec.Decode(out[:0], pkt)
	}
}
