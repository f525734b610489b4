package audiotest

import (
	"math"
	"slices"
)

// SNR returns the signal-to-noise ratio in dB of got against ref over their
// common length: 10·log10(Σref² / Σ(ref-got)²). It is +Inf when they are
// equal and -Inf when ref is silent and got is not.
func SNR(ref, got []int16) float64 {
	n := min(len(ref), len(got))
	var s, e float64
	for i := range n {
		r := float64(ref[i])
		d := r - float64(got[i])
		s += r * r
		e += d * d
	}
	if e == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/e)
}

// AlignedSNR finds the delay lag in [0, maxLag] of got behind ref with the
// highest correlation and returns SNR(ref, got[lag:]) and lag.
func AlignedSNR(ref, got []int16, maxLag int) (snr float64, lag int) {
	best := math.Inf(-1)
	for l := 0; l <= maxLag && l < len(got); l++ {
		g := got[l:]
		n := min(len(ref), len(g))
		var c float64
		for i := range n {
			c += float64(ref[i]) * float64(g[i])
		}
		if c > best {
			best, lag = c, l
		}
	}
	return SNR(ref, got[lag:]), lag
}

// Correlation returns the normalised correlation of a and b over their common length.
func Correlation(a, b []int16) float64 {
	n := min(len(a), len(b))
	var ab, aa, bb float64
	for i := range n {
		x, y := float64(a[i]), float64(b[i])
		ab += x * y
		aa += x * x
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// ToneDB returns the level of the freq Hz component of pcm, in dB relative
// to a full-scale sine (0 dB), measured with a Hann-windowed Goertzel filter.
func ToneDB(pcm []int16, rate int, freq float64) float64 {
	n := len(pcm)
	w := 2 * math.Pi * freq / float64(rate)
	var re, im, wsum float64
	for i, v := range pcm {
		h := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		wsum += h
		x := h * float64(v)
		re += x * math.Cos(w*float64(i))
		im -= x * math.Sin(w*float64(i))
	}
	amp := 2 * math.Hypot(re, im) / wsum
	return 20 * math.Log10(amp/32767+1e-30)
}

// MedianToneDB is the median of freq's level (ToneDB) over pcm's 20 ms
// windows: a codec's level wobbles from frame to frame, and a median
// ignores the odd window of a glitch or a start.
func MedianToneDB(pcm []int16, rate int, freq float64) float64 {
	n := rate / 50
	var dbs []float64
	for i := 0; i+n <= len(pcm); i += n {
		dbs = append(dbs, ToneDB(pcm[i:i+n], rate, freq))
	}
	if len(dbs) == 0 {
		return -600
	}
	slices.Sort(dbs)
	return dbs[len(dbs)/2]
}

// RMSDB returns the RMS level of pcm in dB relative to full scale.
func RMSDB(pcm []int16) float64 {
	var s float64
	for _, v := range pcm {
		s += float64(v) * float64(v)
	}
	return 10*math.Log10(s/float64(max(len(pcm), 1))+1e-30) - 20*math.Log10(32767)
}
