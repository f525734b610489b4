package nellymoser

import (
	"fmt"
	"math"
	"slices"
)

// Encoder turns 256-sample frames of 16-bit mono PCM into 64-byte
// Nellymoser blocks. Its output, decoded, lags the input by 128 samples
// (the MDCT overlap). It is not safe for concurrent use.
//
// The algorithm follows FFmpeg's nellymoserenc.c (Bartlomiej Wolowiec,
// GSoC 2008): band energies give target exponents, the exponent codes are
// chosen greedily band by band against the coded (delta) path, the
// coefficients are normalized by the coded exponent and quantized to the
// nearest level of the quantizer the shared bit allocation assigns. One
// change: exponent targets are made reachable first (see chooseExponents),
// which fixes FFmpeg's far too quiet steady tones.
type Encoder struct {
	rate int
	t    *transformTables
	buf  [3 * halfLen]float32 // last 128 samples of the previous frame, then the frame
	x    [2 * halfLen]float32
	spec [2][halfLen]float32

	// ffmpegExponents turns off the reachability pass of chooseExponents,
	// making the output match FFmpeg's encoder block for block (tests).
	ffmpegExponents bool
}

// NewEncoder returns an encoder for a stream at the given sample rate. The
// rate is only reported back by SampleRate; encoding does not depend on it.
func NewEncoder(rate int) *Encoder {
	return &Encoder{rate: rate, t: tables()}
}

// Reset returns the encoder to its initial state, as for a new stream.
func (e *Encoder) Reset() { e.buf = [3 * halfLen]float32{} }

// SampleRate returns the rate given to NewEncoder.
func (e *Encoder) SampleRate() int { return e.rate }

// FrameSamples returns the number of samples Encode takes: 256.
func (e *Encoder) FrameSamples() int { return FrameSamples }

// Encode appends one 64-byte block coding pcm, which must hold exactly 256
// samples, to dst.
func (e *Encoder) Encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm) != FrameSamples {
		return dst, fmt.Errorf("%w: got %d", ErrFrameSize, len(pcm))
	}
	copy(e.buf[:halfLen], e.buf[FrameSamples:])
	in := e.buf[halfLen:]
	for i, v := range pcm {
		in[i] = float32(v)
	}
	n := len(dst)
	dst = slices.Grow(dst, BlockSize)[:n+BlockSize]
	e.encodeBlock((*[BlockSize]byte)(dst[n:]))
	return dst, nil
}

// Quantizer search tables of nellymoserenc.c: for b bits, the index
// clip(c·quantMul[b] + quantAdd[b]) into quantLUT (offset quantOffset[b])
// gives the level just below c; the next level is tried too.
var (
	quantLUT = [230]uint8{
		0,

		0, 1, 2,

		0, 1, 2, 3, 4, 5, 6,

		0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11,
		12, 13, 13, 13, 14,

		0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8,
		8, 9, 10, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
		22, 23, 23, 24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 29,
		30,

		0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3,
		4, 4, 4, 5, 5, 5, 6, 6, 7, 7, 7, 8, 8, 9, 9, 9,
		10, 10, 11, 11, 11, 12, 12, 13, 13, 13, 13, 14, 14, 14, 15, 15,
		15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19, 19, 20, 20, 20,
		21, 21, 22, 22, 23, 23, 24, 25, 26, 26, 27, 28, 29, 30, 31, 32,
		33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 42, 43, 44, 44, 45, 45,
		46, 47, 47, 48, 48, 49, 49, 50, 50, 50, 51, 51, 51, 52, 52, 52,
		53, 53, 53, 54, 54, 54, 55, 55, 55, 56, 56, 56, 57, 57, 57, 57,
		58, 58, 58, 58, 59, 59, 59, 59, 60, 60, 60, 60, 60, 61, 61, 61,
		61, 61, 61, 61, 62,
	}
	quantMul    = [7]float32{0, 0, 2, 2, 5, 12, 36.6}
	quantAdd    = [7]float32{0, 0, 2, 7, 21, 56, 157}
	quantOffset = [8]int32{0, 0, 1, 4, 11, 32, 81, 230}

	// sfLUT and sfDeltaLUT give a first guess of the initial and delta
	// exponent codes from (round(target) >> 8) + 20 / + 37 (sf_lut,
	// sf_delta_lut of nellymoserenc.c).
	sfLUT = [96]uint8{
		0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4,
		5, 5, 5, 6, 7, 7, 8, 8, 9, 10, 11, 11, 12, 13, 13, 14,
		15, 15, 16, 17, 17, 18, 19, 19, 20, 21, 22, 22, 23, 24, 25, 26,
		27, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 37, 38, 39, 40,
		41, 41, 42, 43, 44, 45, 45, 46, 47, 48, 49, 50, 51, 52, 52, 53,
		54, 55, 55, 56, 57, 57, 58, 59, 59, 60, 60, 60, 61, 61, 61, 62,
	}
	sfDeltaLUT = [78]uint8{
		0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4,
		4, 5, 5, 5, 6, 6, 7, 7, 8, 8, 9, 10, 10, 11, 11, 12,
		13, 13, 14, 15, 16, 17, 17, 18, 19, 19, 20, 21, 21, 22, 22, 23,
		23, 24, 24, 25, 25, 25, 26, 26, 26, 26, 27, 27, 27, 27, 27, 28,
		28, 28, 28, 28, 28, 29, 29, 29, 29, 29, 29, 29, 29, 30,
	}
)

// nearestCode returns the index into table (ascending) of the entry nearest
// to v, starting from the guess lut[clip((round(v)>>8)+add)].
func nearestCode(v float32, table []int32, lut []uint8, add int32) int32 {
	g := (int32(math.RoundToEven(float64(v))) >> 8) + add
	g = min(max(g, 0), int32(len(lut)-1))
	idx := int32(lut[g])
	if abs32f(v-float32(table[idx])) > abs32f(v-float32(table[idx+1])) {
		idx++
	}
	return idx
}

func abs32f(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func (e *Encoder) encodeBlock(out *[BlockSize]byte) {
	t := e.t
	win := &t.window

	// Two MDCTs: samples [0,256) and [128,384) of buf, sine windowed.
	for h := range 2 {
		a := e.buf[h*halfLen : h*halfLen+2*halfLen]
		for i := range halfLen {
			e.x[i] = a[i] * win[i]
			e.x[halfLen+i] = a[halfLen+i] * win[halfLen-1-i]
		}
		t.mdct(&e.spec[h], &e.x)
	}

	// Target exponent of each band: 1024·log2(mean energy / 64), i.e. the
	// exponent whose gain makes the band's coefficients unit RMS.
	var cand [numBands]float32
	i := 0
	for band, size := range bandSizes {
		var sum float32
		for range size {
			a, b := e.spec[0][i], e.spec[1][i]
			sum += a*a + b*b
			i++
		}
		cand[band] = float32(math.Log2(max(1, float64(sum/float32(int32(size)<<7)))) * 1024)
	}

	var codes [numBands]int32
	chooseExponents(&cand, &codes, !e.ffmpegExponents)

	// Write exponents, normalize the spectrum by the coded exponents.
	w := bitWriter{b: out}
	var exps [numBands]int32
	tab := exp2Table()
	var p int32
	i = 0
	for band, size := range bandSizes {
		if band == 0 {
			p = initTable[codes[0]]
			w.write(6, uint32(codes[0]))
		} else {
			p += deltaTable[codes[band]]
			w.write(5, uint32(codes[band]))
		}
		g := bandGain(tab, -p, 1.0/8)
		exps[band] = p
		for range size {
			e.spec[0][i] *= g
			e.spec[1][i] *= g
			i++
		}
	}

	var alloc [fillLen]int32
	allocBits(&exps, &alloc)

	for h := range 2 {
		spec := &e.spec[h]
		for j, b := range alloc {
			if b <= 0 {
				continue
			}
			w.write(b, uint32(quantize(spec[j], b)))
		}
		if h == 0 {
			w.write(int32(headerBits+detailBits-w.count()), 0)
		}
	}
	w.flush()
}

// maxDelta is the largest rise of the exponent from one band to the next.
const maxDelta = 12975

// chooseExponents picks the exponent codes greedily: each band takes the
// code whose coded exponent lands nearest its target (get_exponent_greedy).
//
// Unlike FFmpeg, the targets are first raised where a band could not be
// reached from the one below: a delta rises by at most maxDelta (≈38 dB),
// so a loud band above near-silent ones (a steady tone) was coded far too
// low, which is why FFmpeg's encoder makes a 1 kHz sine ~17 dB too quiet.
// Raising the bands below it just enough is cheap and costs them little.
func chooseExponents(cand *[numBands]float32, codes *[numBands]int32, reachable bool) {
	if reachable {
		for band := numBands - 2; band >= 0; band-- {
			cand[band] = max(cand[band], cand[band+1]-maxDelta)
		}
	}
	codes[0] = nearestCode(cand[0], initTable[:], sfLUT[:], -20)
	p := initTable[codes[0]]
	for band := 1; band < numBands; band++ {
		c := nearestCode(cand[band]-float32(p), deltaTable[:], sfDeltaLUT[:], 37)
		codes[band] = c
		p += deltaTable[c]
	}
}

// quantize returns the b-bit code whose level is nearest to c.
func quantize(c float32, b int32) int32 {
	lo, hi := quantOffset[b], quantOffset[b+1]-1
	f := min(max(c*quantMul[b]+quantAdd[b], float32(lo)), float32(hi))
	idx := int32(quantLUT[int32(f)])
	levels := dequantTable[(1<<b)-1:]
	if abs32f(c-levels[idx]) > abs32f(c-levels[idx+1]) {
		idx++
	}
	return idx
}
