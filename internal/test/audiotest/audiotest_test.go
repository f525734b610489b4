package audiotest

import (
	"math"
	"path/filepath"
	"testing"
)

func TestWAVRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.wav")
	in := Sine(8000, 1000, 440, 0.5)
	if err := WriteWAV(p, in, 8000); err != nil {
		t.Fatal(err)
	}
	out, rate, err := ReadWAV(p)
	if err != nil || rate != 8000 || !math.IsInf(SNR(in, out), 1) || len(out) != len(in) {
		t.Fatalf("rate %d, %d samples, err %v", rate, len(out), err)
	}
}

func TestSNRAndAlignment(t *testing.T) {
	ref := Noise(8000, 4000, 0.3, 1)
	delayed := append(make([]int16, 37), ref...)
	if snr, lag := AlignedSNR(ref, delayed, 100); lag != 37 || !math.IsInf(snr, 1) {
		t.Errorf("lag %d snr %.1f", lag, snr)
	}
	half := make([]int16, len(ref))
	for i, v := range ref {
		half[i] = v / 2
	}
	if snr := SNR(ref, half); math.Abs(snr-6.02) > 0.05 {
		t.Errorf("half amplitude SNR %.2f dB, want 6.02", snr)
	}
	if db := ToneDB(Sine(16000, 16000, 1000, 0.5), 16000, 1000); math.Abs(db+6.02) > 0.05 {
		t.Errorf("ToneDB of a -6 dB tone = %.2f", db)
	}
}

func TestFFmpegFLVRoundTrip(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "in.wav")
	if err := WriteWAV(wav, Sweep(8000, 8000, 100, 3000, 0.5), 8000); err != nil {
		t.Fatal(err)
	}
	flv := filepath.Join(dir, "a.flv")
	RunFFmpeg(t, "-i", wav, "-c:a", "pcm_mulaw", flv)
	tags, err := ReadFLVAudio(flv)
	if err != nil || len(tags) == 0 || tags[0][0] != 0x82 {
		t.Fatalf("%d tags, err %v", len(tags), err)
	}
	// Our writer's output is readable by ffmpeg.
	out := filepath.Join(dir, "b.flv")
	if err := WriteFLVAudio(out, tags, 20); err != nil {
		t.Fatal(err)
	}
	pcm := FromS16LE(RunFFmpeg(t, "-i", out, "-f", "s16le", "-"))
	if len(pcm) < 7000 {
		t.Errorf("ffmpeg decoded %d samples from our FLV", len(pcm))
	}
}

func TestSpectrumAndSpurious(t *testing.T) {
	pcm := Sine(16000, 16384, 1000, 0.5)
	two := Sine(16000, 16384, 2500, 0.05)
	for i := range pcm {
		pcm[i] += two[i]
	}
	db, bin := Spectrum(pcm, 16000)
	if bin != 16000.0/16384 || len(db) != 8192 {
		t.Fatalf("bin %.3f Hz, %d bins", bin, len(db))
	}
	if got := db[1024]; math.Abs(got+6.02) > 0.1 {
		t.Errorf("1 kHz bin at %.2f dB, want -6.02", got)
	}
	f, rel := Spurious(pcm, 16000, 1000, 30)
	if math.Abs(f-2500) > 2 || math.Abs(rel+20) > 0.3 {
		t.Errorf("spurious %.0f Hz at %.1f dB, want 2500 Hz at -20", f, rel)
	}
	v := Voice(16000, 16000, 150, 0.5)
	if p := RMSDB(v); p < -20 || p > -6 {
		t.Errorf("voice RMS %.1f dBFS", p)
	}
}

// TestSpanToneDB: a steady -14 dB tone whose phase turns over in the
// middle of 2.8 s (a jitter buffer's dropped samples) nearly vanishes
// for one transform over the whole, not for the half-second levels.
func TestSpanToneDB(t *testing.T) {
	const rate, f = 8000, 660.0
	pcm := Sine(rate, rate*28/10, f, 0.2)
	for i := len(pcm) / 2; i < len(pcm); i++ {
		pcm[i] = -pcm[i]
	}
	whole, spans := ToneDB(pcm, rate, f), SpanToneDB(pcm, rate, f)
	if whole > -30 {
		t.Errorf("one transform read %.1f dB: the phase jump did not cancel it", whole)
	}
	if spans < -15.5 || spans > -13.5 {
		t.Errorf("by half second %.1f dB, want -14", spans)
	}
	if db := SpanToneDB(pcm[:rate/4], rate, f); db < -15 || db > -13 {
		t.Errorf("a quarter second in one piece: %.1f dB", db)
	}
}
