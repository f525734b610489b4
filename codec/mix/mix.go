package mix

// Knee is the level up to which the limiter is the identity (−3 dBFS).
const Knee = 23197

// headroom is the distance from Knee to full scale that the limiter's
// curve approaches asymptotically.
const headroom = 32767 - Knee

// Limit maps a 32-bit sum to 16 bits: the identity up to ±Knee, then
// Knee + d·H/(d+H) for an excess d (H = 32767 − Knee). The curve has slope 1
// at the knee (no corner to hear) and stays below full scale for any sum.
func Limit(v int32) int16 {
	switch {
	case v > Knee:
		d := int64(v) - Knee
		return int16(Knee + d*headroom/(d+headroom))
	case v < -Knee:
		d := -int64(v) - Knee
		return int16(-Knee - d*headroom/(d+headroom))
	}
	return int16(v)
}

// Mixer mixes frames of a fixed number of samples.
type Mixer struct {
	acc []int32
}

// New returns a Mixer for frames of frameSamples samples.
func New(frameSamples int) *Mixer {
	return &Mixer{acc: make([]int32, frameSamples)}
}

// FrameSamples is the frame length the Mixer was made for.
func (m *Mixer) FrameSamples() int { return len(m.acc) }

// accumulate sums ins into m.acc. A nil or short input counts as silence
// past its end (a member who sent nothing this frame); a longer one is cut.
func (m *Mixer) accumulate(ins [][]int16) {
	clear(m.acc)
	for _, in := range ins {
		in = in[:min(len(in), len(m.acc))]
		acc := m.acc[:len(in)]
		for i, s := range in {
			acc[i] += int32(s)
		}
	}
}

// Sum writes the limited sum of ins into dst[:FrameSamples] and returns it.
// dst must have room for FrameSamples samples (cap), else Sum allocates.
func (m *Mixer) Sum(dst []int16, ins [][]int16) []int16 {
	m.accumulate(ins)
	dst = sized(dst, len(m.acc))
	for i, v := range m.acc {
		dst[i] = Limit(v)
	}
	return dst
}

// MixMinusOne writes into outs[i] the limited sum of every input but
// ins[i], the mix member i hears. outs must have len(ins) buffers of
// FrameSamples samples each (nil entries are skipped: members who listen
// to nothing). The cost is one pass to sum and one per output, whatever N.
func (m *Mixer) MixMinusOne(outs [][]int16, ins [][]int16) {
	m.accumulate(ins)
	for k, out := range outs {
		if out == nil {
			continue
		}
		out = out[:len(m.acc)]
		var mine []int16
		if k < len(ins) {
			mine = ins[k][:min(len(ins[k]), len(m.acc))]
		}
		for i, v := range m.acc {
			if i < len(mine) {
				v -= int32(mine[i])
			}
			out[i] = Limit(v)
		}
	}
}

func sized(dst []int16, n int) []int16 {
	if cap(dst) < n {
		return make([]int16, n)
	}
	return dst[:n]
}
