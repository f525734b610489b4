//go:build cgo

package opus

import (
	"fmt"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// benchSignal is 10 s of 48 kHz voice-band test signal: a 440 Hz tone
// under noise, so the encoder has something to code. With
// FLASHVOX_OPUS_BENCH_WAV set it is also written there, for the ffmpeg
// libopus run beside this one (BENCHMARKS.md "Opus").
func benchSignal(b *testing.B) []int16 {
	b.Helper()
	pcm := audiotest.Sine(48000, 10*48000, 440, 0.3)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pcm {
		pcm[i] += int16(rng.IntN(3000) - 1500)
	}
	if p := os.Getenv("FLASHVOX_OPUS_BENCH_WAV"); p != "" {
		if err := audiotest.WriteWAV(p, pcm, 48000); err != nil {
			b.Fatal(err)
		}
	}
	return pcm
}

// cpuNow is the process's user+system CPU time: on a shared machine the
// benchmark's wall time (ns/op) measures the neighbours too, so the
// benchmarks also report cpu-ns/op, comparable with ffmpeg -benchmark's
// utime.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the cpu-ns/op metric since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

// benchBitrate is the bitrate of both runs (ffmpeg -b:a 32k).
const benchBitrate = 32000

// BenchmarkEncode48k: one 20 ms mono frame at 48 kHz, 32 kbit/s,
// complexity 10 (libopus's default, as ffmpeg's).
func BenchmarkEncode48k(b *testing.B) { benchEncode(b, 0) }

// BenchmarkEncode48kComplexity: the same at the complexities worth
// choosing between for a server transcoding many channels.
func BenchmarkEncode48kComplexity(b *testing.B) {
	for _, c := range []int{1, 5, 10} {
		b.Run(fmt.Sprint(c), func(b *testing.B) { benchEncode(b, c) })
	}
}

func benchEncode(b *testing.B, complexity int) {
	pcm := benchSignal(b)
	enc, err := NewEncoder(48000, EncoderOptions{Bitrate: benchBitrate, Complexity: complexity})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	buf := make([]byte, 0, MaxPacketSize)
	frames := len(pcm) / 960
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, cpuNow())
	for i := range b.N {
		off := (i % frames) * 960
		if buf, err = enc.Encode(buf[:0], pcm[off:off+960]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode48k: one 20 ms packet of the same signal back to 48 kHz.
func BenchmarkDecode48k(b *testing.B) {
	pcm := benchSignal(b)
	enc, err := NewEncoder(48000, EncoderOptions{Bitrate: benchBitrate})
	if err != nil {
		b.Fatal(err)
	}
	var pkts [][]byte
	for off := 0; off+960 <= len(pcm); off += 960 {
		p, err := enc.Encode(nil, pcm[off:off+960])
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	_ = enc.Close()
	dec, err := NewDecoder(48000)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	out := make([]int16, 0, 960)
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, cpuNow())
	for i := range b.N {
		if out, err = dec.Decode(out[:0], pkts[i%len(pkts)]); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSignalAt is benchSignal's recipe at rate; with
// FLASHVOX_OPUS_BENCH_WAV set it is also written to that path plus
// ".RATE.wav", for ffmpeg's libopus at the same input.
func benchSignalAt(b *testing.B, rate int) []int16 {
	b.Helper()
	pcm := audiotest.Sine(rate, 10*rate, 440, 0.3)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pcm {
		pcm[i] += int16(rng.IntN(3000) - 1500)
	}
	if p := os.Getenv("FLASHVOX_OPUS_BENCH_WAV"); p != "" {
		if err := audiotest.WriteWAV(fmt.Sprintf("%s.%d.wav", p, rate), pcm, rate); err != nil {
			b.Fatal(err)
		}
	}
	return pcm
}

// BenchmarkEncodeRates: one 20 ms frame at the rates the hub's
// transcoders now encode at (the source's: 8 kHz for a PCMU phone, 16 kHz
// for G.722 or wideband Speex, 48 kHz for the rest), complexity 5 (the
// hub's), 32 kbit/s.
func BenchmarkEncodeRates(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			pcm := benchSignalAt(b, rate)
			enc, err := NewEncoder(rate, EncoderOptions{Bitrate: benchBitrate, Complexity: 5})
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			n := enc.FrameSamples()
			buf := make([]byte, 0, MaxPacketSize)
			frames := len(pcm) / n
			b.ResetTimer()
			defer reportCPU(b, cpuNow())
			for i := range b.N {
				off := (i % frames) * n
				if buf, err = enc.Encode(buf[:0], pcm[off:off+n]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeRates: one 20 ms packet (encoded from 48 kHz, as a
// browser sends) decoded at the rate the target needs: 8 kHz for PCMU,
// 16 kHz for G.722 or Speex, 48 kHz for the rest.
func BenchmarkDecodeRates(b *testing.B) {
	pcm := benchSignal(b)
	enc, err := NewEncoder(48000, EncoderOptions{Bitrate: benchBitrate})
	if err != nil {
		b.Fatal(err)
	}
	var pkts [][]byte
	for off := 0; off+960 <= len(pcm); off += 960 {
		p, err := enc.Encode(nil, pcm[off:off+960])
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	_ = enc.Close()
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			dec, err := NewDecoder(rate)
			if err != nil {
				b.Fatal(err)
			}
			defer dec.Close()
			out := make([]int16, 0, 960)
			b.ResetTimer()
			defer reportCPU(b, cpuNow())
			for i := range b.N {
				if out, err = dec.Decode(out[:0], pkts[i%len(pkts)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
