package rtcpblocks

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// TestAbout: the blocks about the source are taken from sender and
// receiver reports alike, others' ignored, other packets give none.
func TestAbout(t *testing.T) {
	sr := &rtcp.SenderReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 7, FractionLost: 1}, {SSRC: 42, FractionLost: 26, TotalLost: 30}}}
	rr := &rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 42, TotalLost: 3}}}
	if got := About(sr, 42); len(got) != 1 || got[0].FractionLost != 26 {
		t.Errorf("sender report: %+v", got)
	}
	if got := About(rr, 42); len(got) != 1 || got[0].TotalLost != 3 {
		t.Errorf("receiver report: %+v", got)
	}
	if got := About(rr, 7); len(got) != 0 {
		t.Errorf("a block about another source taken: %+v", got)
	}
	if got := About(&rtcp.Goodbye{Sources: []uint32{42}}, 42); len(got) != 0 {
		t.Errorf("a BYE gave blocks: %+v", got)
	}
}

// TestFigures: the 24-bit cumulative loss is signed; the NTP time counts
// from 1900 in 32.32 fixed point.
func TestFigures(t *testing.T) {
	lost := func(v uint32) int32 { return CumulativeLost(rtcp.ReceptionReport{TotalLost: v}) }
	if lost(0xffffff) != -1 || lost(30) != 30 || lost(0x7fffff) != 0x7fffff {
		t.Error("24-bit signed cumulative loss")
	}
	if got := NTPTime(time.Unix(1, 500_000_000)); got != (2208988801<<32 | 1<<31) {
		t.Errorf("NTP time of 1970-01-01T00:00:01.5Z: %#x", got)
	}
}

// TestRoundTrip: the round trip comes from the report block alone.
func TestRoundTrip(t *testing.T) {
	// Our SR left at t0; the peer held it 20 ms; its report came at t0+70ms.
	t0 := time.Date(2026, 12, 7, 19, 0, 0, 123_456_789, time.UTC)
	b := rtcp.ReceptionReport{LastSenderReport: uint32(NTPTime(t0) >> 16), Delay: 20 * 65536 / 1000}
	if rtt := RoundTrip(t0.Add(70*time.Millisecond), b); rtt < 49*time.Millisecond || rtt > 51*time.Millisecond {
		t.Errorf("round trip %v, want 50 ms", rtt)
	}
	if rtt := RoundTrip(t0.Add(10*time.Millisecond), b); rtt != 0 {
		t.Errorf("a report before our SR plus its delay: round trip %v, want none", rtt)
	}
	if rtt := RoundTrip(t0, rtcp.ReceptionReport{}); rtt != 0 {
		t.Errorf("no SR answered: round trip %v", rtt)
	}
}

// TestLossPercents: the loss by sequence numbers and the loss a peer's
// reports say, both edges' records' one formula each.
func TestLossPercents(t *testing.T) {
	for _, c := range []struct {
		received, lost int64
		want           float64
		ok             bool
	}{
		{2970, 30, 1, true}, {0, 5, 100, true}, {10, -2, 0, true}, {0, 0, 0, false}, {0, -3, 0, false},
	} {
		if got, ok := LossPct(c.received, c.lost); got != c.want || ok != c.ok {
			t.Errorf("LossPct(%d, %d) = %v, %v; want %v, %v", c.received, c.lost, got, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		peerLost, sent int64
		want           float64
		ok             bool
	}{
		{60, 3000, 2, true}, {-4, 100, 0, true}, {500, 100, 100, true}, {3, 0, 0, false},
	} {
		if got, ok := PeerLossPct(c.peerLost, c.sent); got != c.want || ok != c.ok {
			t.Errorf("PeerLossPct(%d, %d) = %v, %v; want %v, %v", c.peerLost, c.sent, got, ok, c.want, c.ok)
		}
	}
}
