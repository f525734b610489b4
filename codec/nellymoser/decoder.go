package nellymoser

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// Decoder turns 64-byte Nellymoser blocks into 16-bit mono PCM. It keeps
// the overlap of the last half block and the noise generator, so one
// Decoder serves one stream. It is not safe for concurrent use.
type Decoder struct {
	rate int
	t    *transformTables
	rng  lfg
	br   bitReader

	prev  [halfLen]float32 // IMDCT half output of the previous half block
	last  [halfLen]float32 // coefficients of the last decoded half, for Conceal
	lost  int              // consecutive concealed blocks
	out   [FrameSamples]float32
	alloc [fillLen]int32
}

// NewDecoder returns a decoder for a stream at the given sample rate. The
// rate is only reported back by SampleRate; decoding does not depend on it.
func NewDecoder(rate int) *Decoder {
	d := &Decoder{rate: rate, t: tables()}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state, as for a new stream.
func (d *Decoder) Reset() {
	d.rng.reset()
	d.prev = [halfLen]float32{}
	d.last = [halfLen]float32{}
	d.lost = 0
}

// SampleRate returns the rate given to NewDecoder.
func (d *Decoder) SampleRate() int { return d.rate }

// FrameSamples returns the number of samples one 64-byte block decodes to.
func (d *Decoder) FrameSamples() int { return FrameSamples }

// Decode appends the PCM of every 64-byte block in pkt to dst. A packet
// whose length is not a multiple of 64 is refused whole with ErrPacketSize;
// an empty packet appends nothing.
func (d *Decoder) Decode(dst []int16, pkt []byte) ([]int16, error) {
	if len(pkt)%BlockSize != 0 {
		return dst, fmt.Errorf("%w: %d bytes", ErrPacketSize, len(pkt))
	}
	n := len(pkt) / BlockSize
	dst = slices.Grow(dst, n*FrameSamples)
	for ; len(pkt) > 0; pkt = pkt[BlockSize:] {
		d.decodeBlock(pkt[:BlockSize])
		dst = appendPCM(dst, &d.out)
	}
	d.lost = 0
	return dst, nil
}

// concealFade is the gain applied per concealed half block; after
// concealSilence blocks in a row the output decays to silence.
const (
	concealFade    = 0.7
	concealSilence = 6
)

// Conceal appends one block (256 samples) standing in for a lost one: the
// last decoded spectrum with random signs, fading out over consecutive
// losses. It continues the overlap, so there is no click either side.
func (d *Decoder) Conceal(dst []int16) []int16 {
	d.lost++
	for h := range 2 {
		var coefs [halfLen]float32
		if d.lost <= concealSilence {
			for j := range fillLen {
				v := d.last[j] * concealFade
				d.last[j] = v
				if d.rng.next()&1 != 0 {
					v = -v
				}
				coefs[j] = v
			}
		}
		d.synth(d.out[h*halfLen:(h+1)*halfLen], &coefs)
	}
	return appendPCM(dst, &d.out)
}

// exp2Table holds 2^(i/2048) for i in 0..2047.
var exp2Table = sync.OnceValue(func() *[2048]float64 {
	t := new([2048]float64)
	for i := range t {
		t[i] = math.Exp2(float64(i) / 2048)
	}
	return t
})

// bandGain returns 2^(e/2048)·scale for an exponent in log2 × 2048 units,
// rounded once to float32 as FFmpeg's float(exp2(val/2048)·scale_bias).
func bandGain(tab *[2048]float64, e int32, scale float64) float32 {
	p := math.Float64frombits(uint64(int64(e>>11)+1023) << 52) // 2^floor(e/2048)
	return float32(tab[e&2047] * p * scale)
}

// decodeBlock decodes one block into d.out (float PCM, int16 scale).
func (d *Decoder) decodeBlock(block []byte) {
	// Band exponents and per-coefficient gains (FFmpeg nelly_decode_block).
	// FFmpeg scales by -1/(32768·8) for float output in [-1,1) and its
	// imdct_half is the negated textbook IMDCT; we output int16 scale with
	// the textbook IMDCT, so the gain is +1/8.
	var exps [numBands]int32
	var gains, noise [numBands]float32
	tab := exp2Table()
	br := &d.br
	br.reset(block, 0)
	val := initTable[br.read(6)]
	for band := range numBands {
		if band > 0 {
			val += deltaTable[br.read(5)]
		}
		exps[band] = val
		g := bandGain(tab, val, 1.0/8)
		gains[band] = g
		noise[band] = float32(math.Sqrt2 / 2 * float64(g))
	}

	allocBits(&exps, &d.alloc)

	for h := range 2 {
		var coefs [halfLen]float32
		br.seek(headerBits + uint(h)*detailBits)
		j := 0
		for band, size := range bandSizes {
			g, nv := gains[band], noise[band]
			for range size {
				if b := d.alloc[j]; b <= 0 {
					v := nv
					if d.rng.next()&1 != 0 {
						v = -v
					}
					coefs[j] = v
				} else {
					q := br.read(b)
					coefs[j] = dequantTable[(1<<b)-1+int32(q)] * g
				}
				j++
			}
		}
		d.last = coefs
		d.synth(d.out[h*halfLen:(h+1)*halfLen], &coefs)
	}
}

// synth inverse transforms one half block of coefficients and overlap-adds
// it with the previous half into out (128 samples), as FFmpeg's
// imdct_half + vector_fmul_window with ff_sine_128 do.
func (d *Decoder) synth(out []float32, coefs *[halfLen]float32) {
	var cur [halfLen]float32
	d.t.imdctHalf(&cur, coefs)
	win := &d.t.window
	out = out[:halfLen]
	const q = halfLen / 2
	for i := range q {
		j := halfLen - 1 - i
		s0 := d.prev[q+i]
		s1 := cur[q-1-i]
		wi, wj := win[i], win[j]
		out[i] = s0*wj - s1*wi
		out[j] = s0*wi + s1*wj
	}
	d.prev = cur
}

// appendPCM converts float samples at int16 scale to int16, rounding half
// to even and saturating like FFmpeg's av_clip_int16(lrintf(x)).
func appendPCM(dst []int16, src *[FrameSamples]float32) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, FrameSamples)[:n+FrameSamples]
	out := dst[n:]
	for i, v := range src {
		out[i] = toInt16(v)
	}
	return dst
}

func toInt16(v float32) int16 {
	// Adding 1.5·2^23 rounds to an integer (half to even) in float32, which
	// then sits in the low mantissa bits. A NaN (hostile exponents) comes
	// out as some fixed value.
	const magic = 12582912
	v = min(max(v, -32768), 32767)
	return int16(int32(math.Float32bits(v+magic)) - 0x4b400000)
}
