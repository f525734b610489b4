package audiotest

import (
	"math"
	"math/rand/v2"
)

func clip16(v float64) int16 {
	v = math.Round(v)
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}

// Sine returns n samples of a sine of freq Hz at rate, with peak amp (0..1 of full scale).
func Sine(rate, n int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = clip16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// Sweep returns n samples of a logarithmic sweep from f0 to f1 Hz with peak amp.
func Sweep(rate, n int, f0, f1, amp float64) []int16 {
	out := make([]int16, n)
	k := math.Log(f1/f0) / float64(n)
	phase := 0.0
	for i := range out {
		f := f0 * math.Exp(k*float64(i))
		out[i] = clip16(amp * 32767 * math.Sin(phase))
		phase += 2 * math.Pi * f / float64(rate)
	}
	return out
}

// Noise returns n samples of white noise with RMS amp (0..1 of full scale),
// deterministic for a given seed.
func Noise(rate, n int, amp float64, seed uint64) []int16 {
	_ = rate
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]int16, n)
	for i := range out {
		out[i] = clip16(amp * 32767 * r.NormFloat64())
	}
	return out
}

// NoiseBursts returns speech-like audio: bursts of low-passed noise with a
// syllable-rate envelope (about 4 Hz) separated by near-silence.
func NoiseBursts(rate, n int, amp float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 0xb0057))
	out := make([]int16, n)
	var lp1, lp2 float64
	a := math.Exp(-2 * math.Pi * 1500 / float64(rate))
	for i := range out {
		t := float64(i) / float64(rate)
		env := math.Max(0, math.Sin(2*math.Pi*4*t))
		env *= env
		lp1 = a*lp1 + (1-a)*r.NormFloat64()
		lp2 = a*lp2 + (1-a)*lp1
		out[i] = clip16(amp * 32767 * 3 * env * lp2)
	}
	return out
}

// Square returns n samples of a square wave of freq Hz at amp (1 = full scale).
func Square(rate, n int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		v := amp * 32767
		if math.Mod(freq*float64(i)/float64(rate), 1) >= 0.5 {
			v = -amp * 32768
		}
		out[i] = clip16(v)
	}
	return out
}

// Concat joins signals end to end.
func Concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Voice returns n samples of a sustained, voice-like signal with peak amp:
// a glottal harmonic series (every harmonic of f0 up to 0.45·rate, f0 with a
// 5 Hz ±3 % vibrato) shaped by two formant resonances that glide between
// vowels, under a slow syllable-like envelope that never falls silent. Unlike
// NoiseBursts it has no pauses, so a predictive codec's state never rests.
func Voice(rate, n int, f0, amp float64) []int16 {
	out := make([]int16, n)
	fs := float64(rate)
	// Formant centres (Hz) of the vowels the voice glides between.
	f1s := []float64{730, 270, 530, 300, 660}
	f2s := []float64{1090, 2290, 1840, 870, 1720}
	formant := func(f, centre, width float64) float64 {
		d := (f - centre) / width
		return 1 / (1 + d*d)
	}
	phase := 0.0
	var peak float64
	buf := make([]float64, n)
	for i := range buf {
		t := float64(i) / fs
		f := f0 * (1 + 0.03*math.Sin(2*math.Pi*5*t))
		phase += 2 * math.Pi * f / fs
		// Position among the vowels, gliding over 0.4 s each.
		v := t / 0.4
		a, frac := int(v)%len(f1s), v-math.Floor(v)
		b := (a + 1) % len(f1s)
		c1 := f1s[a] + (f1s[b]-f1s[a])*frac
		c2 := f2s[a] + (f2s[b]-f2s[a])*frac
		var s float64
		for h := 1; float64(h)*f < 0.45*fs; h++ {
			hf := float64(h) * f
			g := (formant(hf, c1, 90) + 0.6*formant(hf, c2, 120) + 0.02) / float64(h)
			s += g * math.Sin(float64(h)*phase)
		}
		env := 0.7 + 0.3*math.Sin(2*math.Pi*3.3*t)
		buf[i] = s * env
		peak = max(peak, math.Abs(buf[i]))
	}
	for i, x := range buf {
		out[i] = clip16(amp * 32767 * x / peak)
	}
	return out
}
