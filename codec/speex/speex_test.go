package speex

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

var (
	_ codec.Decoder = (*Decoder)(nil)
	_ codec.Encoder = (*Encoder)(nil)
)

const flvSpeexByte = 0xB2 // what Flash writes (ffmpeg writes 0xB6)

func testSignal(rate int) []int16 {
	return audiotest.Concat(
		audiotest.Sweep(rate, rate, 100, float64(rate)*0.45, 0.5),
		audiotest.NoiseBursts(rate, rate/2, 0.3, 1),
		make([]int16, rate/10),
		audiotest.Square(rate, rate/4, 300, 1),
	)
}

func ffmpegSpeex(t *testing.T, dir, name string, rate int, extra ...string) (encoded, refPCM string) {
	in := filepath.Join(dir, name+".wav")
	if err := audiotest.WriteWAV(in, testSignal(rate), rate); err != nil {
		t.Fatal(err)
	}
	ext := ".flv"
	if rate != 16000 {
		ext = ".ogg" // FLV carries only wideband Speex
	}
	encoded = filepath.Join(dir, name+ext)
	audiotest.RunFFmpeg(t, append(append([]string{"-i", in, "-c:a", "libspeex", "-ar", fmt.Sprint(rate)}, extra...), encoded)...)
	return encoded, in
}

// TestPeerFFmpegDecode: our decode of ffmpeg's libspeex output matches
// ffmpeg's libspeex decoder (acceptance ≥ 60 dB), including multi-frame packets.
func TestPeerFFmpegDecode(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		rate   int
		frames int
	}{{"wb1", 16000, 1}, {"wb3", 16000, 3}, {"nb1", 8000, 1}, {"nb4", 8000, 4}} {
		encoded, _ := ffmpegSpeex(t, dir, c.name, c.rate, "-frames_per_packet", fmt.Sprint(c.frames))
		want := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-c:a", "libspeex", "-i", encoded, "-f", "s16le", "-"))
		var pkts [][]byte
		var err error
		if filepath.Ext(encoded) == ".flv" {
			tags, err := audiotest.ReadFLVAudio(encoded)
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range tags {
				if id, rate, err := codec.ParseFLVAudio(tag[0]); err != nil || id != codec.Speex || rate != 16000 {
					t.Fatalf("tag byte %#x: %v %d %v", tag[0], id, rate, err)
				}
				pkts = append(pkts, tag[1:])
			}
		} else {
			if pkts, err = audiotest.ReadOggPackets(encoded); err != nil {
				t.Fatal(err)
			}
			pkts = pkts[2:] // header and comment
		}
		d, err := NewDecoder(c.rate)
		if err != nil {
			t.Fatal(err)
		}
		var got []int16
		for i, p := range pkts {
			n := len(got)
			if got, err = d.Decode(got, p); err != nil {
				t.Fatalf("%s packet %d (%d bytes): %v", c.name, i, len(p), err)
			}
			if i < len(pkts)-1 && len(got)-n != c.frames*d.FrameSamples() {
				t.Fatalf("%s packet %d: %d samples, want %d frames", c.name, i, len(got)-n, c.frames)
			}
		}
		n := min(len(got), len(want))
		snr := audiotest.SNR(want[:n], got[:n])
		t.Logf("%s: %d packets of %d bytes, %d/%d samples; our decode vs ffmpeg libspeex: SNR %.1f dB", c.name, len(pkts), len(pkts[0]), len(got), len(want), snr)
		if snr < 60 || len(want)-n > c.frames*d.FrameSamples() {
			t.Errorf("%s: SNR %.1f dB (want ≥ 60), %d samples vs ffmpeg %d", c.name, snr, len(got), len(want))
		}
		d.Close()
	}
}

func encodeAll(t testing.TB, e *Encoder, pcm []int16) [][]byte {
	var pkts [][]byte
	for f := e.FrameSamples(); len(pcm) >= f; pcm = pcm[f:] {
		p, err := e.Encode(nil, pcm[:f])
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// TestPeerFFmpegDecodesOurEncoder: ffmpeg's libspeex decoder decodes our
// wideband FLV, the same way our decoder does, and our encoder's bytes equal
// ffmpeg's libspeex encoder's at the same settings.
func TestPeerFFmpegDecodesOurEncoder(t *testing.T) {
	dir := t.TempDir()
	src := testSignal(16000)
	e, err := NewEncoder(16000, EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	pkts := encodeAll(t, e, src)
	tags := make([][]byte, len(pkts))
	for i, p := range pkts {
		tags[i] = append([]byte{flvSpeexByte}, p...)
	}
	ours := filepath.Join(dir, "ours.flv")
	if err := audiotest.WriteFLVAudio(ours, tags, 20); err != nil {
		t.Fatal(err)
	}
	ff := audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-c:a", "libspeex", "-i", ours, "-f", "s16le", "-"))
	d, _ := NewDecoder(16000)
	defer d.Close()
	var mine []int16
	for _, p := range pkts {
		if mine, err = d.Decode(mine, p); err != nil {
			t.Fatal(err)
		}
	}
	n := min(len(ff), len(mine))
	same := audiotest.SNR(mine[:n], ff[:n])
	corr := audiotest.Correlation(src[:len(src)-400], ff[222:]) // libspeex wideband delay
	_, lag := audiotest.AlignedSNR(src, ff, 400)
	t.Logf("our WB q%d encoder: %d × %d-byte frames; ffmpeg decode vs ours %.1f dB; vs source: lag %d, corr %.3f",
		DefaultQuality, len(pkts), len(pkts[0]), same, lag, corr)
	if len(ff) < len(src)-640 || same < 60 || corr < 0.8 {
		t.Errorf("ffmpeg decoded %d samples of %d, SNR vs ours %.1f dB, corr %.3f", len(ff), len(src), same, corr)
	}

	encoded, _ := ffmpegSpeex(t, dir, "ref", 16000)
	ref, err := audiotest.ReadFLVAudio(encoded)
	if err != nil {
		t.Fatal(err)
	}
	diff := 0
	for i := range min(len(ref), len(pkts)) {
		if string(ref[i][1:]) != string(pkts[i]) {
			diff++
		}
	}
	t.Logf("our encoder vs ffmpeg libspeex encoder: %d of %d packets differ", diff, min(len(ref), len(pkts)))
	if diff != 0 {
		t.Errorf("%d packets differ from ffmpeg's libspeex encoder", diff)
	}
}

func TestConcealAndErrors(t *testing.T) {
	for _, rate := range []int{8000, 16000, 32000} {
		e, err := NewEncoder(rate, EncoderOptions{Quality: 5, Complexity: 4})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := NewDecoder(rate)
		pkts := encodeAll(t, e, audiotest.Sine(rate, 10*e.FrameSamples(), 440, 0.4))
		var out []int16
		for _, p := range pkts[:5] {
			out, _ = d.Decode(out, p)
		}
		out = d.Conceal(out)
		if len(out) != 6*e.FrameSamples() {
			t.Errorf("%d Hz: %d samples after 5 frames and one concealed", rate, len(out))
		}
		if lvl := audiotest.RMSDB(out[5*e.FrameSamples():]); lvl < -40 {
			t.Errorf("%d Hz: concealed frame level %.1f dB, want the tone continued", rate, lvl)
		}
		if out, err := d.Decode(nil, nil); err != nil || len(out) != 0 {
			t.Errorf("empty packet: %d samples, %v", len(out), err)
		}
		if _, err := d.Decode(nil, []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}); !errors.Is(err, codec.ErrCorrupt) {
			t.Errorf("garbage packet: %v", err)
		}
		if _, err := e.Encode(nil, make([]int16, 3)); !errors.Is(err, codec.ErrFrameSize) {
			t.Errorf("short frame: %v", err)
		}
		e.Close()
		d.Close()
		if _, err := d.Decode(nil, pkts[0]); !errors.Is(err, ErrClosed) {
			t.Errorf("decode after close: %v", err)
		}
		if _, err := e.Encode(nil, make([]int16, e.FrameSamples())); !errors.Is(err, ErrClosed) {
			t.Errorf("encode after close: %v", err)
		}
		if out := d.Conceal(nil); len(out) != e.FrameSamples() {
			t.Errorf("conceal after close: %d samples", len(out))
		}
	}
	if _, err := NewDecoder(11025); !errors.Is(err, codec.ErrUnsupportedRate) {
		t.Errorf("11025 Hz: %v", err)
	}
	if _, err := NewEncoder(16000, EncoderOptions{Quality: 11}); err == nil {
		t.Error("quality 11 accepted")
	}
}

func FuzzDecode(f *testing.F) {
	e, _ := NewEncoder(16000, EncoderOptions{})
	for _, p := range encodeAll(f, e, audiotest.NoiseBursts(16000, 3*320, 0.3, 1)) {
		f.Add(p)
		f.Add(p[:len(p)/2])
	}
	f.Add(append(encodeAll(f, e, make([]int16, 320))[0], 0xFF, 0xFF))
	f.Add([]byte{0x7F})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		for _, rate := range []int{8000, 16000} {
			d, _ := NewDecoder(rate)
			out, err := d.Decode(nil, pkt)
			if err != nil && !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			if len(out)%d.FrameSamples() != 0 || len(out) > MaxFramesPerPacket*d.FrameSamples() {
				t.Fatalf("%d samples", len(out))
			}
			if out = d.Conceal(out); len(out)%d.FrameSamples() != 0 {
				t.Fatalf("conceal: %d samples", len(out))
			}
			d.Close()
		}
	})
}

func BenchmarkDecodeWB(b *testing.B) { benchDecode(b, 16000) }
func BenchmarkDecodeNB(b *testing.B) { benchDecode(b, 8000) }
func BenchmarkEncodeWB(b *testing.B) { benchEncode(b, 16000) }
func BenchmarkEncodeNB(b *testing.B) { benchEncode(b, 8000) }

func benchDecode(b *testing.B, rate int) {
	e, _ := NewEncoder(rate, EncoderOptions{})
	pkts := encodeAll(b, e, audiotest.NoiseBursts(rate, 50*e.FrameSamples(), 0.3, 1))
	d, _ := NewDecoder(rate)
	out := make([]int16, 0, MaxFramesPerPacket*e.FrameSamples())
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		out, _ = d.Decode(out[:0], pkts[i%len(pkts)])
		i++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

func benchEncode(b *testing.B, rate int) {
	e, _ := NewEncoder(rate, EncoderOptions{})
	pcm := audiotest.NoiseBursts(rate, e.FrameSamples(), 0.3, 1)
	out := make([]byte, 0, maxFrameBytes)
	b.ReportAllocs()
	for b.Loop() {
		out, _ = e.Encode(out[:0], pcm)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
