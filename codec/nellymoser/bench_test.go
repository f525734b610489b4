package nellymoser

import (
	"testing"
)

// benchBlocks are one second of the voice-like signal at 16 kHz, encoded.
func benchBlocks(b *testing.B) (pcm []int16, blocks [][]byte) {
	pcm = testSignals[1].gen(16000, 62*FrameSamples)
	return pcm, encodeAll(b, NewEncoder(16000), pcm)
}

// BenchmarkDecode reports ns per 64-byte block (256 samples).
func BenchmarkDecode(b *testing.B) {
	_, blocks := benchBlocks(b)
	d := NewDecoder(16000)
	dst := make([]int16, 0, FrameSamples)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		var err error
		if dst, err = d.Decode(dst[:0], blocks[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(blocks) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

// BenchmarkEncode reports ns per 256-sample frame.
func BenchmarkEncode(b *testing.B) {
	pcm, _ := benchBlocks(b)
	e := NewEncoder(16000)
	dst := make([]byte, 0, BlockSize)
	nf := len(pcm) / FrameSamples
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		var err error
		if dst, err = e.Encode(dst[:0], pcm[i*FrameSamples:(i+1)*FrameSamples]); err != nil {
			b.Fatal(err)
		}
		if i++; i == nf {
			i = 0
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}
