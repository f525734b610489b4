package nellymoser

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// Test helpers on top of internal/test/audiotest: ffmpeg's Nellymoser encoder
// and decoder as real processes, an FLV writer with exact per-block
// timestamps, and the test signals.

// ffmpegEncode encodes mono PCM with ffmpeg's Nellymoser encoder and
// returns the FLV file.
func ffmpegEncode(t testing.TB, pcm []int16, rate int) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "x.flv")
	r := itoa(rate)
	audiotest.RunFFmpegInput(t, audiotest.S16LE(pcm), "-threads", "1",
		"-f", "s16le", "-ar", r, "-ac", "1", "-i", "-",
		"-c:a", "nellymoser", "-ar", r, "-f", "flv", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ffmpegDecode decodes an FLV file with ffmpeg to mono PCM.
func ffmpegDecode(t testing.TB, flv []byte) []int16 {
	t.Helper()
	in := filepath.Join(t.TempDir(), "in.flv")
	if err := os.WriteFile(in, flv, 0o644); err != nil {
		t.Fatal(err)
	}
	return audiotest.FromS16LE(audiotest.RunFFmpeg(t, "-threads", "1", "-i", in, "-f", "s16le", "-ac", "1", "-"))
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// flvAudio returns the SoundFormat byte and the blocks of each audio tag.
func flvAudio(t testing.TB, flv []byte) (soundByte byte, payloads [][]byte) {
	t.Helper()
	tags, err := audiotest.ParseFLVAudio(flv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range tags {
		soundByte = tag[0]
		payloads = append(payloads, tag[1:])
	}
	return soundByte, payloads
}

// flvSoundByte is the first byte of a Nellymoser audio tag at rate, as
// Flash and ffmpeg write it.
func flvSoundByte(rate int) byte {
	switch rate {
	case 16000:
		return 0x42
	case 8000:
		return 0x52
	case 5512:
		return 0x62
	case 11025:
		return 0x66
	case 22050:
		return 0x6a
	default:
		return 0x6e
	}
}

// writeFLV wraps blocks, one per tag, in an audio-only FLV file whose
// timestamps follow the sample count exactly.
func writeFLV(rate int, blocks [][]byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{'F', 'L', 'V', 1, 4, 0, 0, 0, 9, 0, 0, 0, 0})
	for i, blk := range blocks {
		ts := uint32(int64(i) * FrameSamples * 1000 / int64(rate))
		size := 1 + len(blk)
		b.Write([]byte{8, byte(size >> 16), byte(size >> 8), byte(size),
			byte(ts >> 16), byte(ts >> 8), byte(ts), byte(ts >> 24), 0, 0, 0})
		b.WriteByte(flvSoundByte(rate))
		b.Write(blk)
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(11+size)))
	}
	return b.Bytes()
}

func clip16(v float64) int16 { return int16(min(max(math.Round(v), -32768), 32767)) }

// signal is a named test signal generator.
type signal struct {
	name string
	gen  func(rate, n int) []int16
}

const signalSeconds = 0.5

// testSignals are the signals of the acceptance tests.
var testSignals = []signal{
	{"sweep", func(rate, n int) []int16 { return audiotest.Sweep(rate, n, 100, 0.44*float64(rate), 0.5) }},
	{"sawtooth", sawtooth},
	{"tones", tones},
	{"noisebursts", func(rate, n int) []int16 { return audiotest.NoiseBursts(rate, n, 0.3, 7) }},
	{"silence", func(rate, n int) []int16 { return make([]int16, n) }},
	{"square", func(rate, n int) []int16 { return audiotest.Square(rate, n, 200, 1) }},
	{"sine1k", func(rate, n int) []int16 { return audiotest.Sine(rate, n, 1000, 0.5) }},
}

var testRates = []int{8000, 11025, 16000, 22050, 44100}

// sawtooth is voice-like: a band-limited 140 Hz sawtooth with vibrato and
// a syllable-rate envelope.
func sawtooth(rate, n int) []int16 {
	out := make([]int16, n)
	ph := 0.0
	for i := range out {
		tt := float64(i) / float64(rate)
		f := 140 * (1 + 0.05*math.Sin(2*math.Pi*5*tt))
		ph += 2 * math.Pi * f / float64(rate)
		var v float64
		for h := 1; float64(h)*f < 0.45*float64(rate) && h <= 40; h++ {
			v += math.Sin(float64(h)*ph) / float64(h)
		}
		env := 0.6 + 0.4*math.Sin(2*math.Pi*3*tt)
		out[i] = clip16(6000 * env * v)
	}
	return out
}

// tones is a mix of three steady tones at different levels.
func tones(rate, n int) []int16 {
	out := make([]int16, n)
	fs := []float64{300, 1234, 2500}
	amps := []float64{8000, 5000, 3000}
	for i := range out {
		tt := float64(i) / float64(rate)
		var v float64
		for j, f := range fs {
			if f < 0.45*float64(rate) {
				v += amps[j] * math.Sin(2*math.Pi*f*tt)
			}
		}
		out[i] = clip16(v)
	}
	return out
}

func rms(pcm []int16) float64 {
	var s float64
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(max(len(pcm), 1)))
}
