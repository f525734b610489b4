package resample

import (
	"fmt"
	"math"
	"testing"

	"github.com/flashvox/flashvox/internal/test/audiotest"
)

// The committed table is the design its comment describes.
func TestHalfBandTable(t *testing.T) {
	const beta = 7.5
	var c [hbK]float64
	sum := 0.0
	for j := range c {
		n := float64(2*j + 1)
		r := n / (2 * hbK)
		c[j] = 0.5 * math.Sin(math.Pi*n/2) / (math.Pi * n / 2) * bessel0(beta*math.Sqrt(1-r*r)) / bessel0(beta)
		sum += c[j]
	}
	for j := range c {
		if want := float32(c[j] * 0.25 / sum); hbCoefs[j] != want {
			t.Errorf("hbCoefs[%d] = %v, design gives %v", j, hbCoefs[j], want)
		}
	}
	// Its response (f in cycles per high-rate sample; the low rate's
	// Nyquist frequency is 0.25).
	resp := func(f float64) float64 {
		h := 0.5
		for j, v := range hbCoefs {
			h += 2 * float64(v) * math.Cos(2*math.Pi*f*float64(2*j+1))
		}
		return 20 * math.Log10(math.Abs(h)+1e-30)
	}
	ripple, stop := 0.0, math.Inf(-1)
	for i := 0; i <= 2000; i++ {
		ripple = math.Max(ripple, math.Abs(resp(0.225*float64(i)/2000)))
		stop = math.Max(stop, resp(0.275+0.225*float64(i)/2000))
	}
	t.Logf("half-band: passband ±%.4f dB to 0.45 × low rate, stop band ≤ %.1f dB from 0.55 ×", ripple, stop)
	if ripple > 0.1 || stop > -70 {
		t.Errorf("passband ±%.4f dB (want ≤ 0.1), stop band %.1f dB (want ≤ -70)", ripple, stop)
	}
}

func TestHalfBandSelected(t *testing.T) {
	for _, c := range []struct{ in, out, mode, latency int }{
		{16000, 8000, modeDown2, 2*hbK - 1},
		{44100, 22050, modeDown2, 2*hbK - 1},
		{8000, 16000, modeUp2, hbK},
		{11025, 22050, modeUp2, hbK},
		{16000, 8001, modeGeneric, 96},
		{8000, 8000, modeSame, 0},
	} {
		r, err := New(c.in, c.out)
		if err != nil {
			t.Fatal(err)
		}
		if r.mode != c.mode || r.Latency() != c.latency {
			t.Errorf("%d→%d: mode %d latency %d, want %d and %d", c.in, c.out, r.mode, r.Latency(), c.mode, c.latency)
		}
	}
}

// Telephone numbers: 16 kHz → 8 kHz keeps 300..3400 Hz at level and
// removes what would alias; 8 kHz → 16 kHz leaves no image.
func TestHalfBandTones(t *testing.T) {
	const amp = 0.9
	for _, freq := range []float64{300, 1000, 3400, 3600} {
		for _, p := range [][2]int{{16000, 8000}, {8000, 16000}} {
			a, rest := residual(run(t, p[0], p[1], freq, amp), p[1], freq)
			dev := 20 * math.Log10(a/amp)
			rest -= 20 * math.Log10(amp)
			if math.Abs(dev) > 0.1 || rest > -70 {
				t.Errorf("%d→%d, %.0f Hz: level %+.3f dB (want ±0.1), rest %.1f dB (want ≤ -70)", p[0], p[1], freq, dev, rest)
			}
		}
	}
	for _, freq := range []float64{4400, 5000, 6000, 7000, 7900} {
		_, rest := residual(run(t, 16000, 8000, freq, amp), 8000, -1)
		if att := 20*math.Log10(amp) - rest; att < 70 {
			t.Errorf("16000→8000: %.0f Hz attenuated %.1f dB, want ≥ 70", freq, att)
		}
	}
}

// chunked resamples src in pieces of varying sizes, 1 sample included.
func chunked(r *Resampler, src []int16, seed int) []int16 {
	var got []int16
	for i := 0; len(src) > 0; i++ {
		k := min(len(src), 1+(i*i*seed+i)%331)
		got = r.Resample(got, src[:k])
		src = src[k:]
	}
	return r.Flush(got)
}

// Frame edges leave no trace: any chunking gives the output of one call,
// and Flush leaves the Resampler as new.
func TestHalfBandFraming(t *testing.T) {
	for _, p := range [][2]int{{16000, 8000}, {8000, 16000}, {44100, 22050}, {22050, 44100}} {
		name := fmt.Sprintf("%d→%d", p[0], p[1])
		src := audiotest.Concat(audiotest.NoiseBursts(p[0], p[0]/2, 0.5, 3), audiotest.Square(p[0], p[0]/4, 440, 1))
		whole, _ := New(p[0], p[1])
		want := whole.Flush(whole.Resample(nil, src))
		if n := (len(src)*p[1] + p[0] - 1) / p[0]; len(want) != n {
			t.Fatalf("%s: %d samples, want %d", name, len(want), n)
		}
		parts, _ := New(p[0], p[1])
		for seed := 1; seed <= 3; seed++ { // the same Resampler again after each Flush
			got := chunked(parts, src, seed)
			if len(got) != len(want) {
				t.Fatalf("%s seed %d: %d vs %d samples", name, seed, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s seed %d: sample %d: %d in chunks, %d at once", name, seed, i, got[i], want[i])
				}
			}
		}
		if p[1] == 2*p[0] {
			for i, v := range src {
				if want[2*i] != v {
					t.Fatalf("%s: output %d = %d, want the input sample %d", name, 2*i, want[2*i], v)
				}
			}
		}
	}
}

// In the passband the half-band path and the generic filter agree, with no
// time shift between them.
func TestHalfBandMatchesGeneric(t *testing.T) {
	for _, p := range [][2]int{{16000, 8000}, {8000, 16000}} {
		low := min(p[0], p[1])
		src := audiotest.Sweep(p[0], p[0], 50, 0.44*float64(low), 0.8)
		hb, _ := New(p[0], p[1])
		gen, _ := New(p[0], p[1])
		gen.useGeneric()
		gen.Reset()
		a := chunked(hb, src, 1)
		b := chunked(gen, src, 2)
		const edge = 400
		snr := audiotest.SNR(b[edge:len(b)-edge], a[edge:len(a)-edge])
		t.Logf("%d→%d: half-band vs generic on a 50-%d Hz sweep: %.1f dB", p[0], p[1], int(0.44*float64(low)), snr)
		if len(a) != len(b) || snr < 60 {
			t.Errorf("%d→%d: %d vs %d samples, SNR %.1f dB; want equal lengths and ≥ 60 dB", p[0], p[1], len(a), len(b), snr)
		}
	}
}
