package sipbridge

import (
	"math"
	"testing"
	"time"
)

// TestLegJitter: RTP at a steady 20 ms has no jitter; every other packet
// 10 ms late converges towards RFC 3550's estimate (about 10 ms at 8 kHz
// from differences of ±80 ticks); a clock jump is not counted.
func TestLegJitter(t *testing.T) {
	for _, c := range []struct {
		name   string
		late   func(i int) time.Duration
		lo, hi float64
	}{
		{"steady", func(int) time.Duration { return 0 }, 0, 0.001},
		{"every other 10ms late", func(i int) time.Duration { return time.Duration(i%2) * 10 * time.Millisecond }, 8, 10.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l legCounters
			t0 := time.Unix(1000, 0)
			for i := range 500 {
				l.arrived(t0.Add(time.Duration(i)*20*time.Millisecond+c.late(i)), uint32(i*160), 160, 8000)
			}
			got := math.Float64frombits(l.jitterMS.Load())
			if got < c.lo || got > c.hi || l.packetsIn.Load() != 500 || l.bytesIn.Load() != 500*160 {
				t.Errorf("jitter %.3f ms (want %.1f..%.1f), %d packets, %d bytes", got, c.lo, c.hi, l.packetsIn.Load(), l.bytesIn.Load())
			}
		})
	}
	var l legCounters
	t0 := time.Unix(1000, 0)
	l.arrived(t0, 0, 160, 8000)
	l.arrived(t0.Add(20*time.Millisecond), 160+8000*30, 160, 8000) // the peer's clock jumped 30 s
	if got := math.Float64frombits(l.jitterMS.Load()); got != 0 {
		t.Errorf("a clock jump counted as jitter: %.3f ms", got)
	}
	if r := (LegRecord{PacketsIn: 95, Lost: 5}); r.LossPct() != 5 {
		t.Errorf("loss %.2f%%", r.LossPct())
	}
}
