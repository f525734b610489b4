package main

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/flashvox/flashvox/bench/internal/proc"
)

func TestFrameRoundTrip(t *testing.T) {
	b := make([]byte, frameSize)
	for _, tc := range []struct {
		sent int64
		seq  uint32
	}{{0, 0}, {1, 1}, {int64(90 * time.Second), 5625}, {1<<63 - 1, 1<<32 - 1}} {
		encodeFrame(b, tc.sent, tc.seq)
		if b[0] != 0x42 {
			t.Fatalf("first byte %#x, want 0x42", b[0])
		}
		sent, seq, err := decodeFrame(b)
		if err != nil || sent != tc.sent || seq != tc.seq {
			t.Errorf("decode(encode(%d, %d)) = %d, %d, %v", tc.sent, tc.seq, sent, seq, err)
		}
	}
	for name, p := range map[string][]byte{
		"short":        b[:frameSize-1],
		"other format": append([]byte{0x22}, b[1:]...),
		"empty":        nil,
	} {
		if _, _, err := decodeFrame(p); err == nil {
			t.Errorf("%s: decoded, want errNotBenchFrame", name)
		}
	}
}

func TestEncodeFrameAllocates(t *testing.T) {
	b := make([]byte, frameSize)
	var h Histogram
	if n := testing.AllocsPerRun(100, func() {
		encodeFrame(b, 123, 4)
		sent, _, _ := decodeFrame(b)
		h.Record(time.Duration(sent))
	}); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h Histogram
	if q := h.Quantile(0.99); q != 0 {
		t.Errorf("empty p99 = %v, want 0", q)
	}
	// 1..1000 µs: p50 is 500 µs, p99 990 µs, within one 5 µs bucket.
	vals := make([]time.Duration, 1000)
	for i := range vals {
		vals[i] = time.Duration(i+1) * time.Microsecond
	}
	rand.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
	for _, v := range vals {
		h.Record(v)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {0.001, time.Microsecond}, {1, time.Millisecond}} {
		got := h.Quantile(tc.q)
		if got < tc.want || got > tc.want+fineStep {
			t.Errorf("q%v = %v, want %v..%v", tc.q, got, tc.want, tc.want+fineStep)
		}
	}
	if h.Max() != time.Millisecond || h.Count() != 1000 {
		t.Errorf("max %v count %d, want 1ms 1000", h.Max(), h.Count())
	}
}

func TestHistogramCoarseAndOverflow(t *testing.T) {
	var h Histogram
	h.Record(-time.Millisecond) // clock oddities land in the first bucket
	h.Record(35*time.Millisecond + 200*time.Microsecond)
	h.Record(3 * time.Second)
	if got := h.Quantile(0.6); got != 36*time.Millisecond {
		t.Errorf("coarse q = %v, want 36ms (1 ms bucket upper bound)", got)
	}
	if got := h.Quantile(1); got != 3*time.Second {
		t.Errorf("overflow q = %v, want the max 3s", got)
	}
	if got := h.Quantile(0.1); got != fineStep {
		t.Errorf("negative latency q = %v, want %v", got, fineStep)
	}
}

// The bucket bounds must be increasing and every value must fall at or
// below its bucket's upper bound.
func TestBuckets(t *testing.T) {
	var bounds []time.Duration
	for i := range fineN + coarseN {
		bounds = append(bounds, upperBound(i))
	}
	if !slices.IsSorted(bounds) {
		t.Fatal("bucket bounds not increasing")
	}
	for _, d := range []time.Duration{0, fineStep - 1, fineStep, fineMax - 1, fineMax, coarseMax - 1} {
		i := bucketOf(d)
		if d > upperBound(i) || (i > 0 && d < upperBound(i-1)) {
			t.Errorf("%v in bucket %d (%v..%v)", d, i, upperBound(i-1), upperBound(i))
		}
	}
}

func TestCPUPer1000PerMin(t *testing.T) {
	// 3 CPU seconds over 30 s for 2000 streams = 3 / 2 / 0.5 = 3.
	if got := cpuPer1000PerMin(3*time.Second, 2000, 30*time.Second); got != 3 {
		t.Errorf("got %v, want 3", got)
	}
	if got := cpuPer1000PerMin(time.Second, 0, time.Minute); got != 0 {
		t.Errorf("no streams: got %v, want 0", got)
	}
}

func TestPerFrame(t *testing.T) {
	if got := perFrame(proc.Switches{Voluntary: 30, Involuntary: 605}, 1, 160*time.Millisecond); got != "3.0 + 60.5" {
		t.Errorf("perFrame = %q, want 3.0 + 60.5", got)
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{1.2, 0.9, 1.0}, 1.0}, {[]float64{4, 1, 2, 3}, 2.5}} {
		in := slices.Clone(tc.in)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("median reordered its input: %v", tc.in)
		}
	}
}
