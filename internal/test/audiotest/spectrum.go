package audiotest

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// Spectrum returns the magnitude spectrum of pcm in dB relative to a
// full-scale sine, Hann windowed: bin k is k·rate/n Hz, n the largest power
// of two ≤ len(pcm) (the leading samples are used). A sine of amplitude a
// (of full scale) reads 20·log10(a) at its peak bin, within the window's
// 1.4 dB scalloping.
func Spectrum(pcm []int16, rate int) (db []float64, binHz float64) {
	if len(pcm) < 2 {
		return nil, 0
	}
	n := 1 << (bits.Len(uint(len(pcm))) - 1)
	x := make([]complex128, n)
	var wsum float64
	for i := range x {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		wsum += w
		x[i] = complex(w*float64(pcm[i]), 0)
	}
	fft(x)
	db = make([]float64, n/2)
	for k := range db {
		amp := 2 * cmplx.Abs(x[k]) / wsum
		db[k] = 20 * math.Log10(amp/32767+1e-30)
	}
	return db, float64(rate) / float64(n)
}

// fft transforms x in place (radix 2, len(x) a power of two).
func fft(x []complex128) {
	n := len(x)
	shift := 64 - bits.Len(uint(n-1))
	for i := range x {
		if j := int(bits.Reverse64(uint64(i)) >> shift); j > i {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := range size / 2 {
				a, b := x[start+k], wk*x[start+k+size/2]
				x[start+k], x[start+k+size/2] = a+b, a-b
				wk *= w
			}
		}
	}
}

// Spurious returns the strongest spectral component of pcm farther than
// guard Hz from tone (and above 60 Hz), its frequency and its level in dB
// relative to the level of tone itself: how far a tone's unwanted
// components (distortion, a codec's artefacts) stay below it.
func Spurious(pcm []int16, rate int, tone, guard float64) (freq, relDB float64) {
	db, bin := Spectrum(pcm, rate)
	toneDB, worst := math.Inf(-1), math.Inf(-1)
	for k, v := range db {
		f := float64(k) * bin
		switch {
		case math.Abs(f-tone) <= guard:
			toneDB = max(toneDB, v)
		case f > 60 && v > worst:
			worst, freq = v, f
		}
	}
	return freq, worst - toneDB
}

// DominantHz returns the frequency of the strongest bin of pcm's spectrum
// above 50 Hz (skipping DC and hum), with the bin's width as precision.
func DominantHz(pcm []int16, rate int) float64 {
	db, bin := Spectrum(pcm, rate)
	best := -1
	for k := range db {
		if float64(k)*bin < 50 {
			continue
		}
		if best < 0 || db[k] > db[best] {
			best = k
		}
	}
	if best < 0 {
		return 0
	}
	return float64(best) * bin
}
