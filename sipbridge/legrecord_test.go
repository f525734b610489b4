package sipbridge

import (
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
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

// TestPeerReports: a leg counts the peer's latest report for its record
// (the loss of our audio in percent of what we had sent, the round trip)
// and tells the transcoder it plays from.
func TestPeerReports(t *testing.T) {
	h := media.NewHub(64, nil)
	pub, err := h.Publish("web/c")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.DeclareAudioCodec(codec.PCMA) // the leg plays it through a transcoder
	m := &mediaBridge{ch: &captureChannel{}, hub: h, tc: transcode.New(h, nil), stats: &Stats{}, log: slog.New(slog.DiscardHandler)}
	out := newLegOut(m, rtpCodec{ID: codec.PCMU, PayloadType: 0, ClockRate: 8000})
	out.subscribe("web/c")
	defer out.close()
	m.peerReported(out, peerReport{fraction: 0, lost: 10, sent: 500, rtt: 30 * time.Millisecond})
	m.peerReported(out, peerReport{fraction: 26, lost: 30, sent: 1000}) // no round trip in this one
	if got := out.transcoder().ReportedLoss(); got != 11 {
		t.Errorf("the transcoder was told of %d %% loss, want 11 (26/256, rounded up)", got)
	}
	r := LegRecord{PeerReports: m.leg.peerReports.Load(), PeerLost: m.leg.peerLost.Load(), PeerSent: m.leg.peerSent.Load(), RTT: time.Duration(m.leg.rtt.Load())}
	if pct, ok := r.LossOutPct(); !ok || pct != 3 || r.RTT != 30*time.Millisecond || r.PeerReports != 2 {
		t.Errorf("leg's record from the reports: %+v, loss out %.2f%% %v", r, pct, ok)
	}
	if _, ok := (LegRecord{}).LossOutPct(); ok {
		t.Error("a loss without reports")
	}
}
