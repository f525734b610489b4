package resample

import (
	"math"
	"sync"
)

// Filter design, in units of the lower rate's sample period.
const (
	cutoff     = 0.475 // cycles per sample: halfway between 0.45 (passband edge) and 0.5 (stopband edge)
	halfTaps   = 48    // half-length H of the kernel
	kaiserBeta = 7.8   // with halfTaps 48: measured ≥ 85 dB stop band, ±0.004 dB passband
	// tablePhases is the density of the kernel table: entries per sample.
	tablePhases = 512
	// maxPhaseTables bounds the precomputed per-phase coefficients of one
	// rate pair (L phases × taps); larger pairs interpolate the kernel table.
	maxPhaseTables = 1 << 17
)

// kernel returns the continuous filter at u (in lower-rate samples).
func kernel(u float64) float64 {
	if u < 0 {
		u = -u
	}
	if u >= halfTaps {
		return 0
	}
	x := 2 * cutoff * u
	sinc := 1.0
	if x != 0 {
		sinc = math.Sin(math.Pi*x) / (math.Pi * x)
	}
	r := u / halfTaps
	w := bessel0(kaiserBeta*math.Sqrt(1-r*r)) / bessel0(kaiserBeta)
	return 2 * cutoff * sinc * w
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// kernelTable samples kernel at u = i/tablePhases for i in 0..halfTaps·tablePhases+1;
// built once, on first use, and never written afterwards.
var kernelTable = sync.OnceValue(func() []float32 {
	t := make([]float32, halfTaps*tablePhases+2)
	for i := range t {
		t[i] = float32(kernel(float64(i) / tablePhases))
	}
	return t
})

// design is the immutable filter of one rate pair, shared by every Resampler for it.
type design struct {
	l, m   int     // out/in = l/m in lowest terms
	scale  float64 // min(1, out/in): input-sample time to lower-rate time
	taps   int     // input samples per output sample, 2·k
	k      int     // taps on each side of the output instant
	phases []float32
}

var (
	designsMu sync.Mutex
	designs   = map[[2]int]*design{}
)

// designFor returns the shared design for in → out.
func designFor(in, out int) *design {
	designsMu.Lock()
	defer designsMu.Unlock()
	if d, ok := designs[[2]int{in, out}]; ok {
		return d
	}
	g := gcd(in, out)
	d := &design{l: out / g, m: in / g, scale: math.Min(1, float64(out)/float64(in))}
	d.k = int(math.Ceil(halfTaps / d.scale))
	d.taps = 2 * d.k
	if d.l*d.taps <= maxPhaseTables {
		d.phases = make([]float32, d.l*d.taps)
		for p := range d.l {
			row := d.phases[p*d.taps : (p+1)*d.taps]
			delta := float64(p) / float64(d.l)
			for j := range row {
				tau := delta + float64(d.k-1-j)
				row[j] = float32(d.scale * kernel(tau*d.scale))
			}
		}
	}
	designs[[2]int{in, out}] = d
	return d
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
