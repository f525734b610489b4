package sipbridge

import (
	"time"
)

// The peer's RTCP reports about the audio we send (RFC 3550 6.4): read by
// the channel (diago's RTCP reader), counted in the leg's record (the
// loss on the way to the phone, the round trip) and handed to the
// transcoder the leg plays from, whose Opus encoder then adds in-band FEC
// for a phone that talks Opus (transcode Subscription.ReportLoss).

// peerReport is one report block of the peer about our audio.
type peerReport struct {
	fraction uint8         // lost in the interval before it, of 256
	lost     int64         // cumulative, by the peer's count
	sent     uint64        // packets we had sent when it came
	rtt      time.Duration // the round trip of our sender reports, 0 until known
}

// peerReported counts r for the leg's record and hands its loss to the
// transcoder the leg plays from (if it plays through one).
func (m *mediaBridge) peerReported(out *legOut, r peerReport) {
	l := &m.leg
	l.peerReports.Add(1)
	l.peerLost.Store(max(r.lost, 0))
	l.peerSent.Store(r.sent)
	if r.rtt > 0 {
		l.rtt.Store(int64(r.rtt))
	}
	if x := out.transcoder(); x != nil {
		x.ReportFractionLost(r.fraction)
	}
}
