// Package rtcpblocks picks out of RTCP sender and receiver reports the
// report blocks about one source (RFC 3550 6.4): what a peer says of the
// audio an edge sends it (the SIP legs, the pion engine's WHEP players).
package rtcpblocks

import "github.com/pion/rtcp"

// About returns pkt's report blocks about ssrc; none for a packet that
// is neither a sender nor a receiver report.
func About(pkt rtcp.Packet, ssrc uint32) []rtcp.ReceptionReport {
	var blocks []rtcp.ReceptionReport
	switch p := pkt.(type) {
	case *rtcp.SenderReport:
		blocks = p.Reports
	case *rtcp.ReceiverReport:
		blocks = p.Reports
	}
	var out []rtcp.ReceptionReport
	for _, b := range blocks {
		if b.SSRC == ssrc {
			out = append(out, b)
		}
	}
	return out
}
