package nellymoser

import (
	"math"
	"sync"
)

// The transform of the format is an MDCT of 256 windowed samples to 128
// coefficients, sine window, 50% overlap (FFmpeg: ff_mdct_init(nbits 8) /
// av_tx AV_TX_FLOAT_MDCT of length 128, window ff_sine_128). Both directions
// go through a 128-point DCT-IV computed with a 64-point complex FFT:
//
//	DCT-IV:  X[k] = Σ u[n]·cos(π/128·(n+½)·(k+½))
//	c[m]  = (u[2m] + i·u[127-2m]) · e^{-iπm/128}
//	Y     = FFT64(c) · e^{-iπ(k+¼)/128}
//	X[2k] = Re Y[k],  X[127-2k] = -Im Y[k]
//
// The MDCT folds its 256 inputs into u before the DCT-IV; the IMDCT unfolds
// the DCT-IV output. Everything is float32 like FFmpeg.

const (
	fftLen = halfLen / 2 // 64-point complex FFT
	fftLog = 6
)

type transformTables struct {
	preRe, preIm   [fftLen]float32 // e^{-iπm/128}
	postRe, postIm [fftLen]float32 // e^{-iπ(k+¼)/128}
	twRe, twIm     [fftLen / 2]float32
	bitrev         [fftLen]uint8
	window         [halfLen]float32 // ff_sine_128: sin((i+½)·π/256)
}

var tables = sync.OnceValue(func() *transformTables {
	t := new(transformTables)
	const n = float64(halfLen)
	for m := range fftLen {
		s, c := math.Sincos(-math.Pi * float64(m) / n)
		t.preRe[m], t.preIm[m] = float32(c), float32(s)
		s, c = math.Sincos(-math.Pi * (float64(m) + 0.25) / n)
		t.postRe[m], t.postIm[m] = float32(c), float32(s)
		r := 0
		for b := range fftLog {
			if m&(1<<b) != 0 {
				r |= 1 << (fftLog - 1 - b)
			}
		}
		t.bitrev[m] = uint8(r)
	}
	for j := range fftLen / 2 {
		s, c := math.Sincos(-2 * math.Pi * float64(j) / fftLen)
		t.twRe[j], t.twIm[j] = float32(c), float32(s)
	}
	for i := range halfLen {
		t.window[i] = float32(math.Sin((float64(i) + 0.5) * math.Pi / (2 * halfLen)))
	}
	return t
})

// fft64 is an in-place radix-2 decimation-in-time FFT (e^{-i}) of
// bit-reversed input.
func (t *transformTables) fft64(re, im *[fftLen]float32) {
	// First stage: twiddle 1.
	for i := 0; i < fftLen; i += 2 {
		ar, ai, br, bi := re[i], im[i], re[i+1], im[i+1]
		re[i], im[i] = ar+br, ai+bi
		re[i+1], im[i+1] = ar-br, ai-bi
	}
	// Second stage: twiddles 1 and -i.
	for i := 0; i < fftLen; i += 4 {
		ar, ai, br, bi := re[i], im[i], re[i+2], im[i+2]
		re[i], im[i] = ar+br, ai+bi
		re[i+2], im[i+2] = ar-br, ai-bi
		ar, ai, br, bi = re[i+1], im[i+1], re[i+3], im[i+3]
		// (br+i·bi)·(-i) = bi - i·br
		re[i+1], im[i+1] = ar+bi, ai-br
		re[i+3], im[i+3] = ar-bi, ai+br
	}
	for size := 8; size <= fftLen; size <<= 1 {
		half := size >> 1
		step := fftLen / size
		for start := 0; start < fftLen; start += size {
			for j := range half {
				a, b := (start+j)&(fftLen-1), (start+j+half)&(fftLen-1)
				w := (j * step) & (fftLen/2 - 1)
				wr, wi := t.twRe[w], t.twIm[w]
				br, bi := re[b], im[b]
				tr := br*wr - bi*wi
				ti := br*wi + bi*wr
				ar, ai := re[a], im[a]
				re[b], im[b] = ar-tr, ai-ti
				re[a], im[a] = ar+tr, ai+ti
			}
		}
	}
}

// dct4 computes the unnormalized 128-point DCT-IV of in into out
// (in and out may not alias). dct4∘dct4 = 64·identity.
func (t *transformTables) dct4(out, in *[halfLen]float32) {
	var re, im [fftLen]float32
	for m := range fftLen {
		a, b := in[2*m], in[halfLen-1-2*m]
		c, s := t.preRe[m], t.preIm[m]
		// (a + i·b)·(c + i·s)
		r := t.bitrev[m]
		re[r] = a*c - b*s
		im[r] = a*s + b*c
	}
	t.fft64(&re, &im)
	for k := range fftLen {
		c, s := t.postRe[k], t.postIm[k]
		out[2*k] = re[k]*c - im[k]*s
		out[halfLen-1-2*k] = -(re[k]*s + im[k]*c)
	}
}

// imdctHalf writes the middle half y[64:192] of the 256-point IMDCT
// y[n] = Σ X[k]·cos(π/128·(n+½+64)·(k+½)), the part FFmpeg's imdct_half
// returns; the other half follows by symmetry. in is clobbered.
func (t *transformTables) imdctHalf(out, in *[halfLen]float32) {
	var d [halfLen]float32
	t.dct4(&d, in)
	for j := range halfLen {
		out[j] = -d[halfLen-1-j]
	}
}

// mdct computes X[k] = Σ x[n]·cos(π/128·(n+½+64)·(k+½)) of 256 samples.
func (t *transformTables) mdct(out *[halfLen]float32, x *[2 * halfLen]float32) {
	var u [halfLen]float32
	const q = halfLen / 2
	for n := range q {
		u[n] = -x[3*q-1-n] - x[3*q+n]
		u[q+n] = x[n] - x[2*q-1-n]
	}
	t.dct4(out, &u)
}
