package rtcpblocks

import (
	"testing"

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
