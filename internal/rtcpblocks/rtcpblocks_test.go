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
