package nellymoser

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDCT4MatchesDefinition(t *testing.T) {
	tb := tables()
	rng := rand.New(rand.NewPCG(1, 2))
	var in, out [halfLen]float32
	for i := range in {
		in[i] = float32(rng.NormFloat64())
	}
	tb.dct4(&out, &in)
	for k := range halfLen {
		var want float64
		for n := range halfLen {
			want += float64(in[n]) * math.Cos(math.Pi/halfLen*(float64(n)+0.5)*(float64(k)+0.5))
		}
		if math.Abs(want-float64(out[k])) > 1e-3 {
			t.Fatalf("dct4[%d] = %v, want %v", k, out[k], want)
		}
	}
}

func TestMDCTMatchesDefinition(t *testing.T) {
	tb := tables()
	rng := rand.New(rand.NewPCG(3, 4))
	var x [2 * halfLen]float32
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	var X [halfLen]float32
	tb.mdct(&X, &x)
	for k := range halfLen {
		var want float64
		for n := range 2 * halfLen {
			want += float64(x[n]) * math.Cos(math.Pi/halfLen*(float64(n)+0.5+halfLen/2)*(float64(k)+0.5))
		}
		if math.Abs(want-float64(X[k])) > 1e-3 {
			t.Fatalf("mdct[%d] = %v, want %v", k, X[k], want)
		}
	}
	// IMDCT half: y[64+j].
	in := X
	var y [halfLen]float32
	tb.imdctHalf(&y, &in)
	for j := range halfLen {
		n := j + halfLen/2
		var want float64
		for k := range halfLen {
			want += float64(X[k]) * math.Cos(math.Pi/halfLen*(float64(n)+0.5+halfLen/2)*(float64(k)+0.5))
		}
		if math.Abs(want-float64(y[j])) > 1e-2 {
			t.Fatalf("imdct[%d] = %v, want %v", n, y[j], want)
		}
	}
}
