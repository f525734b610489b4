package resample

import (
	"fmt"
	"math"
	"testing"

	"github.com/flashvox/flashvox/internal/test/audiotest"
)

var rates = []int{5512, 8000, 11025, 16000, 22050, 44100, 48000}

// residual fits a sinusoid of freq to pcm by least squares and returns its
// amplitude (0..1 of full scale) and the RMS of what is left, in dB re full
// scale. With freq < 0 nothing is fitted.
func residual(pcm []int16, rate int, freq float64) (amp, restDB float64) {
	var sc, cc, ss, xs, xc float64
	w := 2 * math.Pi * freq / float64(rate)
	for i, v := range pcm {
		if freq < 0 {
			break
		}
		s, c := math.Sin(w*float64(i)), math.Cos(w*float64(i))
		x := float64(v)
		ss += s * s
		cc += c * c
		sc += s * c
		xs += x * s
		xc += x * c
	}
	var a, b float64
	if freq >= 0 {
		det := ss*cc - sc*sc
		a = (xs*cc - xc*sc) / det
		b = (xc*ss - xs*sc) / det
	}
	var e float64
	for i, v := range pcm {
		d := float64(v)
		if freq >= 0 {
			d -= a*math.Sin(w*float64(i)) + b*math.Cos(w*float64(i))
		}
		e += d * d
	}
	rms := math.Sqrt(e / float64(len(pcm)))
	return math.Hypot(a, b) / 32767, 20 * math.Log10(rms/32767+1e-12)
}

// run resamples a tone in frames of odd sizes and returns the steady part
// of the output.
func run(t testing.TB, in, out int, freq, amp float64) []int16 {
	r, err := New(in, out)
	if err != nil {
		t.Fatal(err)
	}
	n := in / 8 // 125 ms
	src := audiotest.Sine(in, n, freq, amp)
	var got []int16
	for i, sizes := 0, []int{1, 17, 160, 441, 3}; len(src) > 0; i++ {
		k := min(sizes[i%len(sizes)], len(src))
		got = r.Resample(got, src[:k])
		src = src[k:]
	}
	got = r.Flush(got)
	if want := (n*out + in - 1) / in; len(got) != want {
		t.Fatalf("%d→%d: %d output samples, want %d", in, out, len(got), want)
	}
	skip := out / 40 // 25 ms: past the start transient
	return got[skip : len(got)-skip]
}

func TestPassbandAndStopband(t *testing.T) {
	const amp = 0.9
	worstPass, worstStop := 0.0, math.Inf(-1)
	for _, in := range rates {
		for _, out := range rates {
			if in == out {
				continue
			}
			low := float64(min(in, out))
			name := fmt.Sprintf("%d→%d", in, out)
			// Passband: tones up to 0.45 × the lower rate keep their level
			// and, upsampling, leave no image above the noise.
			for _, f := range []float64{0.01, 0.1, 0.25, 0.4, 0.45} {
				freq := f * low
				a, rest := residual(run(t, in, out, freq, amp), out, freq)
				dev := 20 * math.Log10(a/amp)
				worstPass = math.Max(worstPass, math.Abs(dev))
				worstStop = math.Max(worstStop, rest-20*math.Log10(amp))
				if math.Abs(dev) > 0.1 {
					t.Errorf("%s: %.0f Hz level %+.3f dB, want ±0.1", name, freq, dev)
				}
				if rest-20*math.Log10(amp) > -70 {
					t.Errorf("%s: %.0f Hz leaves %.1f dB of images/noise, want ≤ -70", name, freq, rest)
				}
			}
			// Stop band (downsampling): tones from the output's Nyquist up are removed.
			if out < in {
				for _, f := range []float64{0.5, 0.55, 0.7, 0.95} {
					freq := f * float64(out)
					if freq >= 0.5*float64(in) {
						continue
					}
					if f == 0.5 {
						if in == 2*out {
							continue // half-band: the stop band starts at 0.55 × out (halfband.go)
						}
						freq += 0.002 * float64(out) // just above Nyquist
					}
					_, rest := residual(run(t, in, out, freq, amp), out, -1)
					att := 20*math.Log10(amp) - rest
					worstStop = math.Max(worstStop, -att)
					if att < 70 {
						t.Errorf("%s: %.0f Hz attenuated %.1f dB, want ≥ 70", name, freq, att)
					}
				}
			}
		}
	}
	t.Logf("worst passband deviation ±%.4f dB; worst stop-band/image level %.1f dB", worstPass, worstStop)
}

// Frame size must not change the output: state carries across calls.
func TestFramingInvariance(t *testing.T) {
	src := audiotest.Sweep(44100, 44100/4, 50, 20000, 0.8)
	for _, out := range []int{8000, 16000, 48000, 5512} {
		whole, _ := New(44100, out)
		want := whole.Flush(whole.Resample(nil, src))
		parts, _ := New(44100, out)
		var got []int16
		for s := src; len(s) > 0; {
			k := min(len(s), 1+len(s)%97)
			got = parts.Resample(got, s[:k])
			s = s[k:]
		}
		got = parts.Flush(got)
		if len(got) != len(want) {
			t.Fatalf("44100→%d: %d vs %d samples", out, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("44100→%d: sample %d differs: %d vs %d", out, i, got[i], want[i])
			}
		}
	}
}

func TestNoTimeShift(t *testing.T) {
	src := audiotest.Sweep(16000, 8000, 100, 3500, 0.5)
	r, _ := New(16000, 8000)
	down := r.Flush(r.Resample(nil, src))
	u, _ := New(8000, 16000)
	back := u.Flush(u.Resample(nil, down))
	const edge = 400 // the abrupt start and end are not band-limited
	snr, lag := audiotest.AlignedSNR(src[edge:len(src)-edge], back[edge:], 20)
	t.Logf("16k→8k→16k of a 100-3500 Hz sweep: lag %d, SNR %.1f dB", lag, snr)
	if lag != 0 || snr < 60 {
		t.Errorf("lag %d, SNR %.1f dB; want 0 and ≥ 60", lag, snr)
	}
}

func TestSameRateAndErrors(t *testing.T) {
	r, err := New(8000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Resample(nil, []int16{1, 2, 3}); len(got) != 3 || got[2] != 3 {
		t.Errorf("same rate: %v", got)
	}
	if _, err := New(8000, 0); err == nil {
		t.Error("rate 0 accepted")
	}
}

func BenchmarkResample(b *testing.B) {
	for _, p := range [][2]int{{16000, 8000}, {8000, 16000}, {44100, 8000}, {8000, 44100}, {48000, 16000}, {22050, 16000}, {5512, 8000}, {44100, 48000}} {
		b.Run(fmt.Sprintf("%d-%d", p[0], p[1]), func(b *testing.B) {
			r, _ := New(p[0], p[1])
			src := audiotest.Noise(p[0], p[0]/50, 0.2, 1) // one 20 ms frame
			dst := make([]int16, 0, p[1]/25)
			b.ReportAllocs()
			for b.Loop() {
				dst = r.Resample(dst[:0], src)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}
