package g722

// band is the ADPCM state of one sub-band (block 4 of the ITU-T description).
// Index 0 of the delay lines is the current sample, as in the ITU-T text;
// only the delayed values are stored.
type band struct {
	s, sz int    // predicted signal and its zero-section part
	r     [3]int // reconstructed signal, r[1], r[2] used
	p     [3]int // partially reconstructed signal, p[1], p[2] used
	a     [3]int // pole coefficients a[1], a[2]
	d     [7]int // quantised difference signal d[1..6]
	b     [7]int // zero coefficients b[1..6]
	nb    int    // log scale factor
	det   int    // scale factor
}

func sat16(v int) int {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// scale updates nb with the log multiplier w and recomputes det
// (LOGSCL/SCALEL, LOGSCH/SCALEH); limit and shift differ per band.
func (b *band) scale(w, limit, shift int) {
	b.nb = clamp(b.nb*127>>7+w, 0, limit)
	wd1 := (b.nb >> 6) & 31
	wd2 := shift - b.nb>>11
	var wd3 int
	if wd2 < 0 {
		wd3 = ilb[wd1] << -wd2
	} else {
		wd3 = ilb[wd1] >> wd2
	}
	b.det = wd3 << 2
}

// adapt runs block 4 on the quantised difference dx: reconstruction,
// pole and zero predictor adaptation, and the next prediction. Two values
// have the same sign (SG in the ITU-T text, v>>15) when (x^y) >= 0.
func (b *band) adapt(dx int) {
	// RECONS, PARREC
	r0 := sat16(b.s + dx)
	p0 := sat16(b.sz + dx)
	same1 := p0^b.p[1] >= 0
	same2 := p0^b.p[2] >= 0

	// UPPOL2
	wd1 := sat16(b.a[1] << 2)
	if same1 {
		wd1 = min(-wd1, 32767)
	}
	wd3 := wd1>>7 + b.a[2]*32512>>15
	if same2 {
		wd3 += 128
	} else {
		wd3 -= 128
	}
	a2 := clamp(wd3, -12288, 12288)

	// UPPOL1
	wd1 = -192
	if same1 {
		wd1 = 192
	}
	lim := 15360 - a2 // 3072..27648: no saturation needed
	a1 := clamp(sat16(wd1+b.a[1]*32640>>15), -lim, lim)

	// UPZERO with DELAYZ: b[i] adapts towards the sign agreement of d[i] and dx.
	wd1 = 128
	if dx == 0 {
		wd1 = 0
	}
	for i := 1; i < 7; i++ {
		s := (b.d[i] ^ dx) >> 63 // 0 if same sign, -1 if not
		b.b[i] = sat16((wd1 ^ s) - s + b.b[i]*32640>>15)
	}
	b.d[6], b.d[5], b.d[4], b.d[3], b.d[2], b.d[1] = b.d[5], b.d[4], b.d[3], b.d[2], b.d[1], dx

	// DELAYA
	b.r[2], b.r[1] = b.r[1], r0
	b.p[2], b.p[1] = b.p[1], p0
	b.a[1], b.a[2] = a1, a2

	// FILTEP
	sp := sat16(a1*sat16(r0+r0)>>15 + a2*sat16(b.r[2]+b.r[2])>>15)

	// FILTEZ
	sz := 0
	for i := 1; i < 7; i++ {
		sz += b.b[i] * sat16(b.d[i]+b.d[i]) >> 15
	}
	b.sz = sat16(sz)

	// PREDIC
	b.s = sat16(sp + b.sz)
}

// lowBand and highBand constants of LOGSCL/SCALEL and LOGSCH/SCALEH.
const (
	lowLimit   = 18432
	lowShift   = 8
	highLimit  = 22528
	highShift  = 10
	initDetLow = 32
	initDetHi  = 8
)
