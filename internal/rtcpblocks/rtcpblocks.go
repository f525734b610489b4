// Package rtcpblocks picks out of RTCP sender and receiver reports the
// report blocks about one source (RFC 3550 6.4) and reads their figures:
// what a peer says of the audio an edge sends it (the SIP legs, the
// WebRTC engines), the round trip, and the loss percents the edges'
// records give.
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

// RoundTrip is the round trip a report block received at now gives
// (RFC 3550 6.4.1: now − LSR − DLSR, in NTP short format, 1/65536 s):
// LSR is the middle of the NTP time of the sender report it answers, so
// the sender needs no state; 0 when it answers none or the figures do not
// add up (a clock stepped between them).
func RoundTrip(now time.Time, b rtcp.ReceptionReport) time.Duration {
	if b.LastSenderReport == 0 {
		return 0
	}
	d := uint32(NTPTime(now)>>16) - b.LastSenderReport - b.Delay
	if d > 1<<31 { // negative
		return 0
	}
	return time.Duration(uint64(d) * uint64(time.Second) >> 16)
}

// Jitter is b's interarrival jitter for the source's clock (hz); 0
// without it.
func Jitter(b rtcp.ReceptionReport, hz uint32) time.Duration {
	if hz == 0 {
		return 0
	}
	return time.Duration(float64(b.Jitter) / float64(hz) * float64(time.Second))
}

// LossPct is lost of the packets expected (received and lost), in
// percent (RFC 3550 A.3's count); false when none were expected. A
// negative lost (duplicates) counts as none.
func LossPct(received, lost int64) (float64, bool) {
	lost = max(lost, 0)
	if received+lost <= 0 {
		return 0, false
	}
	return 100 * float64(lost) / float64(received+lost), true
}

// PeerLossPct is the loss of what was sent that a peer's reports say:
// its cumulative count, clamped to [0, sent], in percent of sent; false
// when nothing was sent.
func PeerLossPct(peerLost, sent int64) (float64, bool) {
	if sent <= 0 {
		return 0, false
	}
	return 100 * float64(min(max(peerLost, 0), sent)) / float64(sent), true
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
