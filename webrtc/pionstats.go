package webrtc

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/internal/rtcpblocks"
	"github.com/flashvox/flashvox/webrtc/plane"
)

// pionStats is what a pion-engine session's media said, for its record:
// the browser's audio by sequence numbers (WHIP; plane.Reception, as the
// lite engine counts it) and the browser's reports about ours (WHEP).
// pion's stats interceptor would keep more at a cost per packet
// (sessionAPI); these are the figures the lite engine's records carry.
// Its own lock: the track reader, the RTCP reader and close run apart.
type pionStats struct {
	mu     sync.Mutex
	origin time.Time
	clock  uint32
	recv   plane.Receptions // the browser's sources (one is usual; a few at most)
	peer   plane.Reports    // the peer's figures (Peer*, RTT)
	track  *rtpTrack        // WHEP: what was sent
}

func newPionStats(clock uint32) *pionStats { return &pionStats{origin: time.Now(), clock: clock} }

// received counts one RTP packet of the browser's (WHIP).
func (s *pionStats) received(pkt *rtp.Packet, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recv.Note(pkt.SSRC, pkt.SequenceNumber, pkt.Timestamp, plane.ArrivalUnits(s.origin, now.UnixNano(), s.clock))
}

// peerBlock takes a report block of the browser's about our audio (WHEP).
func (s *pionStats) peerBlock(b rtcp.ReceptionReport, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peer.PeerReports++
	s.peer.PeerLost, s.peer.PeerFraction = rtcpblocks.CumulativeLost(b), b.FractionLost
	s.peer.PeerJitter = rtcpblocks.Jitter(b, s.clock)
	if rtt := rtcpblocks.RoundTrip(now, b); rtt > 0 {
		s.peer.RTT = rtt
	}
}

// setTrack names the track whose packets the record counts as sent.
func (s *pionStats) setTrack(t *rtpTrack) {
	s.mu.Lock()
	s.track = t
	s.mu.Unlock()
}

// reports is the figures so far, as plane.Reports.
func (s *pionStats) reports() plane.Reports {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.peer
	s.recv.AddTo(&r, s.clock)
	if s.track != nil {
		r.Sent, r.SentOctets = s.track.sent()
	}
	return r
}
