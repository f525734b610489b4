// Package rtcpblocks picks out of RTCP sender and receiver reports the
// report blocks about one source (RFC 3550 6.4) and reads their figures:
// what a peer says of the audio an edge sends it (the SIP legs, the
// WebRTC engines).
package rtcpblocks

import (
	"time"

	"github.com/pion/rtcp"
)

// CumulativeLost is b's 24-bit signed cumulative loss (negative after
// duplicates).
func CumulativeLost(b rtcp.ReceptionReport) int32 { return int32(b.TotalLost<<8) >> 8 }

// NTPTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32);
// its middle 32 bits are what a report block's LSR echoes.
func NTPTime(t time.Time) uint64 {
	const unixToNTP = 2208988800
	ns := t.UnixNano()
	secs := uint64(ns/1e9) + unixToNTP
	frac := uint64(ns%1e9) << 32 / 1e9
	return secs<<32 | frac
}

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
