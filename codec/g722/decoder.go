package g722

// SampleRate is G.722's sampling rate; RTP still counts at 8000 Hz.
const SampleRate = 16000

// FrameSamples is the concealment unit and the default encoder frame: 20 ms.
const FrameSamples = 320

// concealSteps is how many concealed frames fade the last frame to silence.
const concealSteps = 5

// Decoder decodes 64 kbit/s G.722: each byte gives two 16 kHz samples.
// It implements codec.Decoder.
type Decoder struct {
	low, high band
	x         qmfHistory // receive QMF delay line
	last      [FrameSamples]int16
	lost      int
}

// NewDecoder returns a G.722 decoder in its reset state.
func NewDecoder() *Decoder {
	d := &Decoder{}
	d.Reset()
	return d
}

// Reset returns the decoder to its initial state.
func (d *Decoder) Reset() {
	*d = Decoder{}
	d.low.det = initDetLow
	d.high.det = initDetHi
}

// Decode appends 2·len(pkt) samples to dst. Every byte is a valid code, so
// it never fails.
func (d *Decoder) Decode(dst []int16, pkt []byte) ([]int16, error) {
	n := 2 * len(pkt)
	dst = grow(dst, n)
	out := dst[len(dst)-n:]
	for j, code := range pkt {
		out[2*j], out[2*j+1] = d.decodeByte(int(code))
	}
	d.remember(out)
	return dst, nil
}

func (d *Decoder) decodeByte(code int) (int16, int16) {
	ilow := code & 0x3F
	ihigh := code >> 6 & 3

	// Low band: INVQBL, RECONS, LIMIT, then adapt on the 4-bit code.
	lb := &d.low
	rlow := clamp(lb.s+lb.det*qm6[ilow]>>15, -16384, 16383)
	il4 := ilow >> 2
	dlow := lb.det * qm4[il4] >> 15
	lb.scale(wl[rl42[il4]], lowLimit, lowShift)
	lb.adapt(dlow)

	// High band: INVQAH, RECONS, LIMIT, adapt.
	hb := &d.high
	dhigh := hb.det * qm2[ihigh] >> 15
	rhigh := clamp(dhigh+hb.s, -16384, 16383)
	hb.scale(wh[rh2[ihigh]], highLimit, highShift)
	hb.adapt(dhigh)

	// Receive QMF.
	xout1, xout2 := split(d.x.push(rlow+rhigh, rlow-rhigh))
	return int16(sat16(xout1 >> 11)), int16(sat16(xout2 >> 11))
}

func (d *Decoder) remember(out []int16) {
	if n := len(out); n >= len(d.last) {
		copy(d.last[:], out[n-len(d.last):])
	} else {
		copy(d.last[:], d.last[n:])
		copy(d.last[len(d.last)-n:], out)
	}
	d.lost = 0
}

// Conceal appends FrameSamples samples: the last decoded 20 ms repeated and
// faded out over a few lost frames, then silence. The ADPCM state is left
// as it was; the next real packet resynchronises within a few milliseconds.
func (d *Decoder) Conceal(dst []int16) []int16 {
	d.lost++
	dst = grow(dst, FrameSamples)
	out := dst[len(dst)-FrameSamples:]
	if d.lost > concealSteps {
		clear(out)
		return dst
	}
	for i, v := range d.last {
		g := (concealSteps-d.lost+1)*FrameSamples - i
		out[i] = int16(int(v) * g / (concealSteps * FrameSamples))
	}
	return dst
}

// SampleRate returns 16000.
func (d *Decoder) SampleRate() int { return SampleRate }

// grow extends s by n elements, reallocating only when its capacity is short.
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) < n {
		s = append(s[:cap(s)], make([]T, n-(cap(s)-len(s)))...)[:len(s)]
	}
	return s[:len(s)+n]
}
