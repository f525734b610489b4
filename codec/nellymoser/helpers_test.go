package nellymoser

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Local test helpers: ffmpeg as a real process, a minimal FLV reader and
// writer for audio tags, test signals and SNR.

func requireFFmpeg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatal("ffmpeg not found; install it: apt-get install -y ffmpeg")
	}
	return p
}

// runFFmpeg runs ffmpeg with args and returns its stdout.
func runFFmpeg(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, requireFFmpeg(t),
		append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1"}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// ffmpegEncode encodes s16le mono PCM with ffmpeg's Nellymoser encoder and
// returns the FLV file.
func ffmpegEncode(t testing.TB, pcm []int16, rate int) []byte {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "x.flv")
	r := itoa(rate)
	runFFmpeg(t, pcmBytes(pcm), "-f", "s16le", "-ar", r, "-ac", "1", "-i", "-",
		"-c:a", "nellymoser", "-ar", r, "-f", "flv", "-y", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ffmpegDecode decodes an FLV file with ffmpeg to s16le mono PCM.
func ffmpegDecode(t testing.TB, flv []byte) []int16 {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.flv")
	if err := os.WriteFile(in, flv, 0o644); err != nil {
		t.Fatal(err)
	}
	return pcmFromBytes(runFFmpeg(t, nil, "-i", in, "-f", "s16le", "-ac", "1", "-"))
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func pcmBytes(pcm []int16) []byte {
	b := make([]byte, 2*len(pcm))
	for i, v := range pcm {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func pcmFromBytes(b []byte) []int16 {
	pcm := make([]int16, len(b)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return pcm
}

// flvAudioPayloads returns the bodies of the audio tags of an FLV file
// without their first (SoundFormat) byte.
func flvAudioPayloads(t testing.TB, flv []byte) (soundByte byte, payloads [][]byte) {
	t.Helper()
	if len(flv) < 9 || string(flv[:3]) != "FLV" {
		t.Fatal("not an FLV file")
	}
	off := int(binary.BigEndian.Uint32(flv[5:9])) + 4
	for off+11 <= len(flv) {
		typ := flv[off] & 0x1f
		size := int(flv[off+1])<<16 | int(flv[off+2])<<8 | int(flv[off+3])
		if off+11+size > len(flv) {
			t.Fatal("truncated FLV tag")
		}
		body := flv[off+11 : off+11+size]
		if typ == 8 && len(body) > 0 {
			soundByte = body[0]
			payloads = append(payloads, body[1:])
		}
		off += 11 + size + 4
	}
	return soundByte, payloads
}

// flvSoundByte is the first byte of a Nellymoser audio tag at rate.
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

// writeFLV wraps Nellymoser blocks, one per tag, in an audio-only FLV file.
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
		var prev [4]byte
		binary.BigEndian.PutUint32(prev[:], uint32(11+size))
		b.Write(prev[:])
	}
	return b.Bytes()
}

// signal is a named test signal generator.
type signal struct {
	name string
	gen  func(rate int, n int) []int16
}

const signalSeconds = 1.0

func clip16(v float64) int16 {
	return int16(min(max(math.Round(v), -32768), 32767))
}

// testSignals are the signals of the acceptance tests.
var testSignals = []signal{
	{"sweep", func(rate, n int) []int16 {
		// Logarithmic sweep from 100 Hz to 0.44·rate, −6 dBFS.
		out := make([]int16, n)
		f0, f1 := 100.0, 0.44*float64(rate)
		T := float64(n) / float64(rate)
		k := math.Log(f1 / f0)
		for i := range out {
			tt := float64(i) / float64(rate)
			ph := 2 * math.Pi * f0 * T / k * (math.Exp(tt/T*k) - 1)
			out[i] = clip16(16384 * math.Sin(ph))
		}
		return out
	}},
	{"sawtooth", func(rate, n int) []int16 {
		// Voice-like: band-limited sawtooth at 140 Hz with slow vibrato and
		// a syllable envelope.
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
	}},
	{"tones", func(rate, n int) []int16 {
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
	}},
	{"noisebursts", func(rate, n int) []int16 {
		// 100 ms bursts of white noise every 250 ms, at two levels.
		out := make([]int16, n)
		rng := rand.New(rand.NewPCG(7, uint64(rate)))
		for i := range out {
			p := i % (rate / 4)
			if p < rate/10 {
				lvl := 6000.0
				if (i/(rate/4))%2 == 1 {
					lvl = 1500
				}
				out[i] = clip16(lvl * rng.NormFloat64())
			}
		}
		return out
	}},
	{"silence", func(rate, n int) []int16 { return make([]int16, n) }},
	{"square", func(rate, n int) []int16 {
		// Full-scale 200 Hz square wave.
		out := make([]int16, n)
		period := float64(rate) / 200
		for i := range out {
			if math.Mod(float64(i), period) < period/2 {
				out[i] = 32767
			} else {
				out[i] = -32768
			}
		}
		return out
	}},
}

var testRates = []int{8000, 11025, 16000, 22050, 44100}

// snr returns 10·log10(Σref² / Σ(ref-test)²) over the common length; +Inf
// for identical signals. Both silent gives +Inf.
func snr(ref, test []int16) float64 {
	n := min(len(ref), len(test))
	var sig, noise float64
	for i := range n {
		r := float64(ref[i])
		e := r - float64(test[i])
		sig += r * r
		noise += e * e
	}
	if noise == 0 {
		return math.Inf(1)
	}
	if sig == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(sig/noise)
}
