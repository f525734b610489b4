package resample

import (
	"fmt"
	"math"

	"github.com/flashvox/flashvox/codec"
)

// Limits of the rates New accepts.
const (
	MinRate = 1000
	MaxRate = 192000
)

// Resampler converts a stream from one rate to another. It is not safe for
// concurrent use; each stream needs its own.
type Resampler struct {
	in, out int
	d       *design
	kernel  []float32 // the shared kernel table, when d.phases is nil
	hist    []float32 // input samples from index histStart on
	// The next output is at input time base + frac/d.l, relative to hist[0].
	base, frac int
}

// New returns a Resampler from inRate to outRate (Hz).
func New(inRate, outRate int) (*Resampler, error) {
	for _, r := range []int{inRate, outRate} {
		if r < MinRate || r > MaxRate {
			return nil, fmt.Errorf("%w: resample %d Hz (must be %d..%d)", codec.ErrUnsupportedRate, r, MinRate, MaxRate)
		}
	}
	r := &Resampler{in: inRate, out: outRate}
	if inRate != outRate {
		r.d = designFor(inRate, outRate)
		if r.d.phases == nil {
			r.kernel = kernelTable()
		}
	}
	r.Reset()
	return r, nil
}

// Reset forgets the stream: the next call starts from silence.
func (r *Resampler) Reset() {
	if r.d == nil {
		return
	}
	// Prime with k-1 zeros so that the first output is centred on the first input.
	if cap(r.hist) < 4*r.d.taps {
		r.hist = make([]float32, r.d.k-1, 4*r.d.taps+1024)
	}
	r.hist = r.hist[:r.d.k-1]
	clear(r.hist)
	r.base, r.frac = r.d.k-1, 0
}

// InRate returns the input rate.
func (r *Resampler) InRate() int { return r.in }

// OutRate returns the output rate.
func (r *Resampler) OutRate() int { return r.out }

// Latency returns how many input samples the filter holds back until more
// input (or Flush) arrives. Output sample n is at input instant n·in/out,
// so the output is not shifted in time.
func (r *Resampler) Latency() int {
	if r.d == nil {
		return 0
	}
	return r.d.k
}

// Resample appends to dst the output for src and returns it. Outputs that
// need input not seen yet are produced by a later call (or Flush).
func (r *Resampler) Resample(dst []int16, src []int16) []int16 {
	if r.d == nil {
		return append(dst, src...)
	}
	for len(src) > 0 {
		room := cap(r.hist) - len(r.hist)
		if room == 0 {
			r.compact()
			room = cap(r.hist) - len(r.hist)
			if room == 0 { // a history longer than expected: grow once
				r.hist = append(r.hist, 0)[:len(r.hist)]
				room = cap(r.hist) - len(r.hist)
			}
		}
		n := min(room, len(src))
		h := r.hist[len(r.hist) : len(r.hist)+n]
		for i, v := range src[:n] {
			h[i] = float32(v)
		}
		r.hist = r.hist[:len(r.hist)+n]
		src = src[n:]
		dst = r.produce(dst)
	}
	return dst
}

// Flush appends the outputs still held back, as if the input were followed
// by silence, and resets the Resampler. In total a stream of n input samples
// gives ceil(n·out/in) output samples.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.d == nil {
		return dst
	}
	var zeros [256]int16
	for left := r.d.k; left > 0; left -= len(zeros) {
		dst = r.Resample(dst, zeros[:min(left, len(zeros))])
	}
	r.Reset()
	return dst
}

// produce computes every output whose window lies within hist.
func (r *Resampler) produce(dst []int16) []int16 {
	d := r.d
	for r.base+d.k < len(r.hist) {
		win := r.hist[r.base-d.k+1 : r.base+d.k+1]
		var acc float32
		if d.phases != nil {
			acc = dot(win, d.phases[r.frac*d.taps:(r.frac+1)*d.taps])
		} else {
			acc = r.interpolated(win)
		}
		dst = append(dst, toInt16(acc))
		r.frac += d.m
		r.base += r.frac / d.l
		r.frac %= d.l
	}
	return dst
}

// interpolated is the output for window win at the current phase, reading
// the kernel table with linear interpolation.
func (r *Resampler) interpolated(win []float32) float32 {
	d := r.d
	delta := float64(r.frac) / float64(d.l)
	step := d.scale * tablePhases
	var acc float32
	for j, x := range win {
		u := math.Abs(delta+float64(d.k-1-j)) * step
		i := int(u)
		if i+1 >= len(r.kernel) {
			continue
		}
		f := float32(u - float64(i))
		c := r.kernel[i] + f*(r.kernel[i+1]-r.kernel[i])
		acc += x * c
	}
	return acc * float32(d.scale)
}

// compact drops input no longer needed by any future output.
func (r *Resampler) compact() {
	drop := r.base - r.d.k + 1
	if drop <= 0 {
		return
	}
	n := copy(r.hist, r.hist[drop:])
	r.hist = r.hist[:n]
	r.base -= drop
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func toInt16(v float32) int16 {
	if v >= 32767 {
		return 32767
	}
	if v <= -32768 {
		return -32768
	}
	if v < 0 {
		return int16(v - 0.5)
	}
	return int16(v + 0.5)
}
