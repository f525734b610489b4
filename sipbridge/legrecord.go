package sipbridge

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/internal/rtcpblocks"
)

// SIP leg records. bridgeLive (outbound.go) and conferenceMedia
// (conference.go) hand a LegRecord of every answered SIP leg between a SIP
// peer and a flashvox user or room to Options.Records when it ends. Legs
// that never connected and the echo extension have none.

// LegRecord is one SIP leg that ended.
type LegRecord struct {
	// Call is the flashvox call; SIPCallID the dialog's Call-ID.
	Call, SIPCallID string
	// Direction is "in" (the SIP side called) or "out"; Peer the trunk's
	// name, the phone's user, or the external caller (ext:NUMBER); Party
	// the flashvox user on the other side.
	Direction, Peer, Party string
	Codec                  string
	Started, Answered      time.Time
	Ended                  time.Time
	Reason                 string
	// BytesIn and BytesOut are RTP payload bytes received and sent.
	BytesIn, BytesOut int64
	// PacketsIn and Lost are RTP packets received and missing by sequence
	// number (after the jitter buffer's wait).
	PacketsIn, Lost uint64
	// JitterMS is the RFC 3550 interarrival jitter of the peer's RTP as
	// flashvox measured it, in milliseconds.
	JitterMS float64
	// From the peer's RTCP reports about our audio (PeerReports of them;
	// none: not known): the packets it missed of the PeerSent we had sent
	// by its latest, and the round trip of our sender reports (0: not
	// known).
	PeerReports uint64
	PeerLost    int64
	PeerSent    uint64
	RTT         time.Duration
}

// LossOutPct is the loss of our audio the peer reported, in percent of
// what we had sent; false when it sent no report.
func (r LegRecord) LossOutPct() (float64, bool) {
	if r.PeerReports == 0 {
		return 0, false
	}
	return rtcpblocks.PeerLossPct(r.PeerLost, int64(r.PeerSent))
}

// LossPct is Lost over the packets expected, in percent.
func (r LegRecord) LossPct() float64 {
	v, _ := rtcpblocks.LossPct(int64(r.PacketsIn), int64(r.Lost))
	return v
}

// LegRecorder receives the record of every SIP leg that ends. It must
// return at once (queue the record).
type LegRecorder interface {
	LegEnded(LegRecord)
}

// legMeta is what the code that set a leg up knows of it.
type legMeta struct {
	call, direction, peer, party string
	started                      time.Time
}

// legCounters are one leg's media counts; the reader and the writer
// goroutines add, recordLeg reads after both ended.
type legCounters struct {
	bytesIn, bytesOut atomic.Int64
	packetsIn, lost   atomic.Uint64
	jitterMS          atomic.Uint64 // float64 bits

	// The peer's reports (peerreport.go), from the RTCP reader.
	peerReports atomic.Uint64
	peerLost    atomic.Int64
	peerSent    atomic.Uint64
	rtt         atomic.Int64 // ns

	// The jitter estimate's state, the reader goroutine's own.
	haveTransit bool
	lastTransit int64
	jitter      float64 // in RTP clock units
}

// arrived counts one audio packet and updates the interarrival jitter
// (RFC 3550 6.4.1) from its arrival time and RTP timestamp.
func (l *legCounters) arrived(now time.Time, ts uint32, payload int, clockRate int) {
	l.packetsIn.Add(1)
	l.bytesIn.Add(int64(payload))
	if clockRate <= 0 {
		return
	}
	arrival := now.UnixNano() * int64(clockRate) / int64(time.Second)
	transit := arrival - int64(ts)
	if l.haveTransit {
		d := transit - l.lastTransit
		// A jump in the peer's clock (a new talk spurt's timestamp far
		// away) is not jitter: skip differences over a second.
		if d > -int64(clockRate) && d < int64(clockRate) {
			l.jitter += (math.Abs(float64(d)) - l.jitter) / 16
			l.jitterMS.Store(math.Float64bits(l.jitter * 1000 / float64(clockRate)))
		}
	}
	l.haveTransit, l.lastTransit = true, transit
}

// recordLeg hands the ended leg's record to Options.Records.
func (b *Bridge) recordLeg(meta legMeta, ch channel, m *mediaBridge, answered time.Time, reason string) {
	if b.opts.Records == nil || m == nil {
		return
	}
	l := &m.leg
	b.opts.Records.LegEnded(LegRecord{Call: meta.call, SIPCallID: ch.CallID(), Direction: meta.direction, Peer: meta.peer, Party: meta.party,
		Codec: ch.Codec().ID.String(), Started: meta.started, Answered: answered, Ended: b.opts.Now(), Reason: reason,
		BytesIn: l.bytesIn.Load(), BytesOut: l.bytesOut.Load(), PacketsIn: l.packetsIn.Load(), Lost: l.lost.Load(),
		JitterMS: math.Float64frombits(l.jitterMS.Load()), PeerReports: l.peerReports.Load(), PeerLost: l.peerLost.Load(),
		PeerSent: l.peerSent.Load(), RTT: time.Duration(l.rtt.Load())})
}
