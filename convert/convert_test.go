package convert

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/resample"
	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// testSignal is 3 s at rate: a tone, speech-like noise bursts, a sweep.
func testSignal(rate int) []int16 {
	return audiotest.Concat(
		audiotest.Sine(rate, rate, 440, 0.3),
		audiotest.NoiseBursts(rate, rate, 0.2, 7),
		audiotest.Sweep(rate, rate, 100, float64(rate)*0.45, 0.3),
	)
}

// flvCase is an FLV file ffmpeg makes from testSignal, and how ffmpeg
// decodes it as the reference.
type flvCase struct {
	name   string
	rate   int
	enc    []string // ffmpeg output options
	decIn  []string // ffmpeg input options for the reference decode
	minSNR float64  // our decode vs ffmpeg's
}

var flvCases = []flvCase{
	{"nelly8k", 8000, []string{"-c:a", "nellymoser", "-ar", "8000"}, nil, 60},
	{"nelly16k", 16000, []string{"-c:a", "nellymoser", "-ar", "16000"}, nil, 60},
	{"nelly44k", 44100, []string{"-c:a", "nellymoser", "-ar", "44100"}, nil, 60},
	// ffmpeg's native Speex decoder is not libspeex (~13 dB apart): decode with libspeex.
	{"speex", 16000, []string{"-c:a", "libspeex", "-ar", "16000"}, []string{"-c:a", "libspeex"}, 60},
	{"pcmu", 8000, []string{"-c:a", "pcm_mulaw", "-ar", "8000"}, nil, 90},
	{"pcma", 8000, []string{"-c:a", "pcm_alaw", "-ar", "8000"}, nil, 90},
}

// makeFLV writes testSignal through ffmpeg into dir/NAME.flv.
func makeFLV(t *testing.T, dir string, c flvCase) string {
	t.Helper()
	wav := filepath.Join(dir, c.name+"-src.wav")
	if err := audiotest.WriteWAV(wav, testSignal(c.rate), c.rate); err != nil {
		t.Fatal(err)
	}
	flv := filepath.Join(dir, c.name+".flv")
	args := append([]string{"-i", wav, "-ac", "1"}, c.enc...)
	audiotest.RunFFmpeg(t, append(args, "-f", "flv", flv)...)
	return flv
}

// ffmpegDecode returns ffmpeg's decode of path as mono 16-bit PCM at rate.
func ffmpegDecode(t *testing.T, path string, inOpts []string, rate int) []int16 {
	t.Helper()
	args := append(append([]string{}, inOpts...), "-i", path, "-f", "s16le", "-ac", "1", "-ar", strconv.Itoa(rate), "-")
	return audiotest.FromS16LE(audiotest.RunFFmpeg(t, args...))
}

func readWAV(t *testing.T, path string) ([]int16, int) {
	t.Helper()
	pcm, rate, err := audiotest.ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	return pcm, rate
}

// TestPeerFFmpegFLVToWAV: ffmpeg-made FLVs of every codec, decoded by
// convert, match ffmpeg's own decode.
func TestPeerFFmpegFLVToWAV(t *testing.T) {
	dir := t.TempDir()
	for _, c := range flvCases {
		t.Run(c.name, func(t *testing.T) {
			flv := makeFLV(t, dir, c)
			out := filepath.Join(dir, c.name+".wav")
			if err := File(flv, out, Options{}); err != nil {
				t.Fatal(err)
			}
			got, rate := readWAV(t, out)
			if rate != c.rate {
				t.Fatalf("WAV at %d Hz, want %d", rate, c.rate)
			}
			ref := ffmpegDecode(t, flv, c.decIn, c.rate)
			if d := len(got) - len(ref); d < -c.rate/50 || d > c.rate/50 {
				t.Fatalf("%d samples, ffmpeg %d", len(got), len(ref))
			}
			snr, lag := audiotest.AlignedSNR(ref, got, 0)
			t.Logf("%s: %.1f dB vs ffmpeg (lag %d)", c.name, snr, lag)
			if snr < c.minSNR {
				t.Errorf("SNR %.1f dB vs ffmpeg, want ≥ %.0f", snr, c.minSNR)
			}
		})
	}
}

// TestPeerFFmpegCodecChange: an FLV whose audio switches from Nellymoser
// 16 kHz to PCMU 8 kHz mid-file (tags concatenated) decodes to one WAV at
// the first codec's rate, each part matching ffmpeg's decode of its file.
func TestPeerFFmpegCodecChange(t *testing.T) {
	dir := t.TempDir()
	nelly, pcmu := makeFLV(t, dir, flvCases[1]), makeFLV(t, dir, flvCases[4])
	var tags [][]byte
	for _, f := range []string{nelly, pcmu} {
		tt, err := audiotest.ReadFLVAudio(f)
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, tt...)
	}
	mixed := filepath.Join(dir, "mixed.flv")
	if err := audiotest.WriteFLVAudio(mixed, tags, 16); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "mixed.wav")
	if err := File(mixed, out, Options{}); err != nil {
		t.Fatal(err)
	}
	got, rate := readWAV(t, out)
	if rate != 16000 {
		t.Fatalf("rate %d, want the first codec's 16000", rate)
	}
	ref1 := ffmpegDecode(t, nelly, nil, 16000)
	rs, _ := resample.New(8000, 16000)
	ref2 := rs.Flush(rs.Resample(nil, ffmpegDecode(t, pcmu, nil, 8000)))
	if len(got) != len(ref1)+len(ref2) {
		t.Fatalf("%d samples, want %d + %d", len(got), len(ref1), len(ref2))
	}
	snr1 := audiotest.SNR(ref1, got[:len(ref1)])
	snr2 := audiotest.SNR(ref2, got[len(ref1):])
	t.Logf("nellymoser part %.1f dB, pcmu part %.1f dB", snr1, snr2)
	if snr1 < 60 || snr2 < 60 {
		t.Errorf("parts at %.1f and %.1f dB, want ≥ 60", snr1, snr2)
	}
	// --rate resamples everything, whatever the first codec.
	if err := File(mixed, out, Options{Rate: 8000}); err != nil {
		t.Fatal(err)
	}
	if got, rate := readWAV(t, out); rate != 8000 || len(got) < 47000 {
		t.Fatalf("--rate 8000: %d Hz, %d samples", rate, len(got))
	}
}

// TestPeerFFmpegWAVToFLV: our FLV of each codec is decoded by ffmpeg into
// the source within the codec's usual SNR.
func TestPeerFFmpegWAVToFLV(t *testing.T) {
	dir := t.TempDir()
	src := testSignal(16000)
	wav := filepath.Join(dir, "src.wav")
	if err := audiotest.WriteWAV(wav, src, 16000); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		opts   Options
		decIn  []string
		rate   int
		minSNR float64
	}{
		// Measured: 20.4, 18.5, 8.1 (CELP keeps the sound, not the
		// waveform), 36.8, 36.4 dB.
		{"nellymoser", Options{Codec: codec.Nellymoser}, nil, 16000, 17},
		{"nellymoser8k", Options{Codec: codec.Nellymoser, Rate: 8000}, nil, 8000, 15},
		{"speex", Options{Codec: codec.Speex}, []string{"-c:a", "libspeex"}, 16000, 6},
		{"pcmu", Options{Codec: codec.PCMU}, nil, 8000, 34},
		{"pcma", Options{Codec: codec.PCMA}, nil, 8000, 34},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".flv")
			if err := File(wav, out, c.opts); err != nil {
				t.Fatal(err)
			}
			got := ffmpegDecode(t, out, c.decIn, c.rate)
			ref := src
			if c.rate != 16000 {
				rs, _ := resample.New(16000, c.rate)
				ref = rs.Flush(rs.Resample(nil, src))
			}
			if d := len(got) - len(ref); d < 0 || d > c.rate/20 {
				t.Fatalf("ffmpeg decoded %d samples of %d", len(got), len(ref))
			}
			snr, lag := audiotest.AlignedSNR(ref[:len(ref)-c.rate/10], got[:len(ref)-c.rate/10], 512)
			t.Logf("%s: ffmpeg's decode vs the source %.1f dB (lag %d)", c.name, snr, lag)
			if snr < c.minSNR {
				t.Errorf("SNR %.1f dB, want ≥ %.0f", snr, c.minSNR)
			}
		})
	}
	if err := File(wav, filepath.Join(dir, "x.flv"), Options{Codec: codec.G722}); err == nil {
		t.Fatal("g722 in FLV must be refused")
	} else {
		t.Log(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.flv")); !os.IsNotExist(err) {
		t.Fatal("a refused conversion left a file")
	}
}
