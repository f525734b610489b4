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
	mode    int
	d       *design   // modeGeneric only
	kernel  []float32 // the shared kernel table, when d.phases is nil
	// The filter window around an output instant spans lead input samples
	// before it and lag after it; lag is what is held back.
	lead, lag int
	hist      []float32 // input samples still needed, from lead samples before base on
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
	switch {
	case inRate == outRate:
		r.mode = modeSame
	case inRate == 2*outRate:
		r.mode, r.lead, r.lag = modeDown2, hbDownLead, hbDownLag
	case outRate == 2*inRate:
		r.mode, r.lead, r.lag = modeUp2, hbUpLead, hbUpLag
	default:
		r.useGeneric()
	}
	r.Reset()
	return r, nil
}

// useGeneric selects the polyphase windowed-sinc path (also used by tests
// to compare the half-band path against it).
func (r *Resampler) useGeneric() {
	r.mode = modeGeneric
	r.d = designFor(r.in, r.out)
	r.lead, r.lag = r.d.k-1, r.d.k
	r.kernel = nil
	if r.d.phases == nil {
		r.kernel = kernelTable()
	}
	r.hist = nil
}

// Reset forgets the stream: the next call starts from silence.
func (r *Resampler) Reset() {
	if r.mode == modeSame {
		return
	}
	// Prime with lead zeros so that the first output is centred on the first input.
	span := r.lead + 1 + r.lag
	if cap(r.hist) < 4*span {
		r.hist = make([]float32, r.lead, 4*span+1024)
	}
	r.hist = r.hist[:r.lead]
	clear(r.hist)
	r.base, r.frac = r.lead, 0
}

// InRate returns the input rate.
func (r *Resampler) InRate() int { return r.in }

// OutRate returns the output rate.
func (r *Resampler) OutRate() int { return r.out }

// Latency returns how many input samples the filter holds back until more
// input (or Flush) arrives. Output sample n is at input instant n·in/out,
// so the output is not shifted in time.
func (r *Resampler) Latency() int {
	return r.lag
}

// Resample appends to dst the output for src and returns it. Outputs that
// need input not seen yet are produced by a later call (or Flush).
func (r *Resampler) Resample(dst []int16, src []int16) []int16 {
	if r.mode == modeSame {
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
		switch r.mode {
		case modeDown2:
			dst = r.decimate(dst)
		case modeUp2:
			dst = r.interpolate(dst)
		default:
			dst = r.produce(dst)
		}
	}
	return dst
}

// Flush appends the outputs still held back, as if the input were followed
// by silence, and resets the Resampler. In total a stream of n input samples
// gives ceil(n·out/in) output samples.
func (r *Resampler) Flush(dst []int16) []int16 {
	if r.mode == modeSame {
		return dst
	}
	var zeros [256]int16
	for left := r.lag; left > 0; left -= len(zeros) {
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
	drop := r.base - r.lead
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
