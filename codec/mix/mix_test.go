package mix

import (
	"math/rand/v2"
	"testing"
)

func TestLimit(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 1000, -1000, Knee, -Knee} {
		if got := Limit(v); int32(got) != v {
			t.Errorf("Limit(%d) = %d, want identity below the knee", v, got)
		}
	}
	prev := Limit(Knee)
	for v := int32(Knee + 1); v < 32767*64; v += 7 {
		got := Limit(v)
		if got < prev {
			t.Fatalf("Limit not monotonic at %d: %d < %d", v, got, prev)
		}
		if got >= 32767 {
			t.Fatalf("Limit(%d) = %d reached full scale", v, got)
		}
		if Limit(-v) != -got {
			t.Fatalf("Limit not symmetric at %d", v)
		}
		prev = got
	}
	// Slope 1 at the knee: the first steps above it are nearly unbent.
	if d := Limit(Knee+100) - Knee; d < 98 || d > 100 {
		t.Errorf("slope at knee: +100 in gives +%d out", d)
	}
	if Limit(1<<30) != 32766 || Limit(-1<<30) != -32766 {
		t.Errorf("extremes: %d %d", Limit(1<<30), Limit(-1<<30))
	}
}

func TestSumAndMinusOne(t *testing.T) {
	const n = 160
	r := rand.New(rand.NewPCG(1, 2))
	ins := make([][]int16, 5)
	for k := range ins {
		ins[k] = make([]int16, n)
		for i := range ins[k] {
			ins[k][i] = int16(r.IntN(20000) - 10000)
		}
	}
	ins[3] = nil         // silent member
	ins[4] = ins[4][:50] // short frame: silence after it
	m := New(n)
	sum := m.Sum(make([]int16, n), ins)
	outs := make([][]int16, len(ins))
	for k := range outs {
		outs[k] = make([]int16, n)
	}
	m.MixMinusOne(outs, ins)
	at := func(k, i int) int32 {
		if i < len(ins[k]) {
			return int32(ins[k][i])
		}
		return 0
	}
	for i := range n {
		var total int32
		for k := range ins {
			total += at(k, i)
		}
		if sum[i] != Limit(total) {
			t.Fatalf("sum[%d] = %d, want %d", i, sum[i], Limit(total))
		}
		for k := range ins {
			if want := Limit(total - at(k, i)); outs[k][i] != want {
				t.Fatalf("out[%d][%d] = %d, want %d", k, i, outs[k][i], want)
			}
		}
	}
}

func TestFullScaleSquaresDoNotWrap(t *testing.T) {
	const n = 64
	a, b := make([]int16, n), make([]int16, n)
	for i := range n {
		a[i], b[i] = 32767, 32767
		if i%2 == 1 {
			a[i], b[i] = -32768, -32768
		}
	}
	out := New(n).Sum(nil, [][]int16{a, b})
	for i, v := range out {
		if (i%2 == 0) != (v > 30000) || (i%2 == 1) != (v < -30000) {
			t.Fatalf("sample %d = %d: wrapped or flattened", i, v)
		}
	}
}

// BenchmarkMixMinusOne mixes 10 members' 20 ms frames at 16 kHz; ns/op is
// per conference frame (10 outputs), with no allocation.
func BenchmarkMixMinusOne(b *testing.B) {
	const n, members = 320, 10
	ins, outs := make([][]int16, members), make([][]int16, members)
	for k := range ins {
		ins[k], outs[k] = make([]int16, n), make([]int16, n)
		for i := range ins[k] {
			ins[k][i] = int16((i*k*37)%16000 - 8000)
		}
	}
	m := New(n)
	b.ReportAllocs()
	for b.Loop() {
		m.MixMinusOne(outs, ins)
	}
}
