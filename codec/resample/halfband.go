package resample

// Exact 2:1 and 1:2 conversions (16000↔8000, 22050↔44100, ...) take a
// dedicated half-band FIR instead of the generic polyphase kernel: the
// hub's Nellymoser/Speex WB → PCMU chains spend most of their time here.
//
// A half-band filter has its cut-off at a quarter of the high rate, and
// then every coefficient at an even, non-zero offset from the centre is
// zero and the centre is exactly 1/2. Decimating, only the outputs at the
// low rate are computed, each from hbK symmetric pairs plus the centre;
// interpolating, the even outputs are the input samples themselves and the
// odd ones take hbK pairs. That is ~8× fewer multiplications than the
// generic kernel's 192 taps per 16→8 kHz output.
//
// The price of the symmetry: response is -6 dB at the low rate's Nyquist
// frequency, so the stop band starts at 0.55 × the low rate instead of
// 0.5. Decimating, input between 0.5 and 0.55 × the low rate aliases into
// 0.45..0.5 × the low rate (3.6..4 kHz at 8 kHz, above the 3.4 kHz
// telephone band and outside the passband); interpolating, images of
// passband tones (≤ 0.45 × the low rate) land at ≥ 0.55 and are removed.
//
// Design (offline, a Kaiser-windowed sinc; see TestHalfBandTable, which
// recomputes it): h(n) = ½·sinc(n/2)·I0(β·√(1-(n/48)²))/I0(β) at the high
// rate, β = 7.5, nonzero taps n = ±1, ±3, ..., ±47 (95 taps in all),
// rounded to float32 and scaled so that the odd taps sum to exactly ½
// (unit gain at DC). Response, in units of the low rate fs: ±0.0015 dB up
// to 0.45·fs; -6.02 dB at 0.5·fs; ≤ -75 dB from 0.55·fs up to the high
// rate's Nyquist. A filter of 23 pairs would reach only 73.8 dB, 22 pairs
// 69.8 dB; 24 keeps a margin over the 70 dB the package promises.

// hbK is the number of symmetric coefficient pairs.
const hbK = 24

// hbCoefs[j] multiplies the input at offsets ±(2j+1) from the centre
// (high-rate samples); the centre coefficient is ½.
var hbCoefs = [hbK]float32{
	0.3178423, -0.10466995, 0.061293017, -0.0422061,
	0.0312535, -0.024037188, 0.018870983, -0.014971229,
	0.011924522, -0.009491614, 0.0075234068, -0.0059208665,
	0.0046142973, -0.0035519686, 0.0026935912, -0.002006469,
	0.0014631837, -0.001040194, 0.00071699027, -0.00047558537,
	0.00030020846, -0.00017711465, 9.4454306e-05, -4.2166015e-05,
}

// hbUpCoefs are hbCoefs doubled: interpolation inserts a zero between
// input samples, so the filter needs a gain of 2.
var hbUpCoefs = func() (u [hbK]float32) {
	for j, c := range hbCoefs {
		u[j] = 2 * c
	}
	return u
}()

// Resampling modes.
const (
	modeSame    = iota // in == out: copy
	modeGeneric        // polyphase windowed sinc
	modeDown2          // half-band, 2:1
	modeUp2            // half-band, 1:2
)

// Window extents of the half-band modes, in input samples: lead before the
// centre, lag after it (the lag is what the filter holds back).
const (
	hbDownLead = 2*hbK - 1
	hbDownLag  = 2*hbK - 1
	hbUpLead   = hbK - 1
	hbUpLag    = hbK
)

// decimate computes every 2:1 output whose window lies within hist; the
// output at base is centred on hist[base], and base advances by 2.
func (r *Resampler) decimate(dst []int16) []int16 {
	for r.base+hbDownLag < len(r.hist) {
		// A fixed-size window lets the compiler drop the bounds checks.
		w := (*[hbDownLead + 1 + hbDownLag]float32)(r.hist[r.base-hbDownLead : r.base+hbDownLag+1])
		// Four sums in turn so the additions need not wait on each other.
		var a0, a1, a2, a3 float32
		for j := 0; j < hbK; j += 4 {
			a0 += hbCoefs[j] * (w[hbDownLead-1-2*j] + w[hbDownLead+1+2*j])
			a1 += hbCoefs[j+1] * (w[hbDownLead-3-2*j] + w[hbDownLead+3+2*j])
			a2 += hbCoefs[j+2] * (w[hbDownLead-5-2*j] + w[hbDownLead+5+2*j])
			a3 += hbCoefs[j+3] * (w[hbDownLead-7-2*j] + w[hbDownLead+7+2*j])
		}
		dst = append(dst, toInt16(0.5*w[hbDownLead]+((a0+a1)+(a2+a3))))
		r.base += 2
	}
	return dst
}

// interpolate computes, for every input sample whose window lies within
// hist, the two 1:2 outputs: the sample itself and the one half-way to the next.
func (r *Resampler) interpolate(dst []int16) []int16 {
	for r.base+hbUpLag < len(r.hist) {
		w := (*[hbUpLead + 1 + hbUpLag]float32)(r.hist[r.base-hbUpLead : r.base+hbUpLag+1])
		var a0, a1, a2, a3 float32
		for j := 0; j < hbK; j += 4 {
			a0 += hbUpCoefs[j] * (w[hbUpLead-j] + w[hbUpLead+1+j])
			a1 += hbUpCoefs[j+1] * (w[hbUpLead-1-j] + w[hbUpLead+2+j])
			a2 += hbUpCoefs[j+2] * (w[hbUpLead-2-j] + w[hbUpLead+3+j])
			a3 += hbUpCoefs[j+3] * (w[hbUpLead-3-j] + w[hbUpLead+4+j])
		}
		// Even outputs pass the input through unchanged (the centre tap is
		// ½·2 and every other even tap is zero).
		dst = append(dst, int16(w[hbUpLead]), toInt16((a0+a1)+(a2+a3)))
		r.base++
	}
	return dst
}
