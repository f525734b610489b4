package g722

// band is the ADPCM state of one sub-band (block 4 of the ITU-T description).
type band struct {
	s, sp, sz int    // predicted signal, pole and zero parts
	r         [3]int // reconstructed signal
	a, ap     [3]int // pole coefficients and their updates
	p         [3]int // partially reconstructed signal
	d         [7]int // quantised difference signal
	b, bp     [7]int // zero coefficients and their updates
	nb        int    // log scale factor
	det       int    // scale factor
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

// sign15 returns -1 for negative v and 0 otherwise (v >> 15 of a 16-bit value).
func sign15(v int) int {
	if v < 0 {
		return -1
	}
	return 0
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
// pole and zero predictor adaptation, and the next prediction.
func (b *band) adapt(dx int) {
	// RECONS, PARREC
	b.d[0] = dx
	b.r[0] = sat16(b.s + dx)
	b.p[0] = sat16(b.sz + dx)

	// UPPOL2
	sg0, sg1, sg2 := sign15(b.p[0]), sign15(b.p[1]), sign15(b.p[2])
	wd1 := sat16(b.a[1] << 2)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = -wd1
	}
	wd2 = min(wd2, 32767)
	wd3 := wd2 >> 7
	if sg0 == sg2 {
		wd3 += 128
	} else {
		wd3 -= 128
	}
	wd3 += b.a[2] * 32512 >> 15
	b.ap[2] = clamp(wd3, -12288, 12288)

	// UPPOL1
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	b.ap[1] = sat16(wd1 + b.a[1]*32640>>15)
	lim := sat16(15360 - b.ap[2])
	b.ap[1] = clamp(b.ap[1], -lim, lim)

	// UPZERO
	wd1 = 128
	if dx == 0 {
		wd1 = 0
	}
	sgd := sign15(dx)
	for i := 1; i < 7; i++ {
		w := -wd1
		if sign15(b.d[i]) == sgd {
			w = wd1
		}
		b.bp[i] = sat16(w + b.b[i]*32640>>15)
	}

	// DELAYZ, DELAYA
	for i := 6; i > 0; i-- {
		b.d[i] = b.d[i-1]
		b.b[i] = b.bp[i]
	}
	for i := 2; i > 0; i-- {
		b.r[i] = b.r[i-1]
		b.p[i] = b.p[i-1]
		b.a[i] = b.ap[i]
	}

	// FILTEP
	wd1 = b.a[1] * sat16(b.r[1]+b.r[1]) >> 15
	wd2 = b.a[2] * sat16(b.r[2]+b.r[2]) >> 15
	b.sp = sat16(wd1 + wd2)

	// FILTEZ
	sz := 0
	for i := 6; i > 0; i-- {
		sz += b.b[i] * sat16(b.d[i]+b.d[i]) >> 15
	}
	b.sz = sat16(sz)

	// PREDIC
	b.s = sat16(b.sp + b.sz)
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
