package plane

import (
	"crypto/rand"
	"encoding/binary"
	"slices"
	"time"

	"github.com/flashvox/flashvox/internal/rtcpblocks"
	"github.com/pion/rtcp"
)

// RTCP sender and receiver reports (RFC 3550 §6.4) on a session. A
// browser learns how its own audio arrives (remote-inbound-rtp: loss,
// jitter, round-trip time) only from its peer's receiver reports, and
// Chrome tunes its Opus encoder (in-band FEC, bitrate) by the loss
// fraction they carry; pion's engine sent them from its interceptors.
// The peer's reports tell the session the same about what it sends.
//
// A session sends one compound SRTCP packet (RFC 3550 §6.1: SR or RR,
// then SDES with a CNAME) every Config.ReportInterval once media flows,
// from the plane's once-a-second watch. The sender report's NTP and RTP
// timestamps are those of the last packet sent (the same instant, as
// §6.4.1 asks, without knowing the codec's clock); the round-trip time
// of a report that echoes one of ours is measured from when that sender
// report actually left (RFC 3550 §6.4.1's A − LSR − DLSR, with LSR's
// send time remembered rather than read from the NTP field).

// Reception is what was heard from one RTP source (RFC 3550 A.1, A.3,
// A.8): packets, loss by sequence numbers, interarrival jitter; kept in
// Receptions, one per source: a lite session's under its lock, a pion
// engine session's under its own. Not safe for concurrent use.
type Reception struct {
	ssrc               uint32
	base, cycles       uint32
	maxSeq             uint16
	received           uint32
	expPrior, recPrior uint32
	transit            int64   // last packet's relative transit, clock units
	jitter             float64 // clock units
	haveTransit        bool
	lastSR             uint32 // middle 32 bits of the source's last SR NTP time
	lastSRAt           int64  // unix ns it arrived
}

// newReception starts the statistics of ssrc at its first packet's
// sequence number (note counts that packet).
func newReception(ssrc uint32, seq uint16) Reception {
	return Reception{ssrc: ssrc, base: uint32(seq), maxSeq: seq}
}

// note counts a packet; arrival is its arrival time in the source's clock
// units from any fixed origin, negative when the clock is unknown (no
// jitter then).
func (st *Reception) note(seq uint16, ts uint32, arrival int64) {
	st.received++
	if d := seq - st.maxSeq; d != 0 && d < 0x8000 { // newer (a gap counts as lost until it fills)
		if seq < st.maxSeq {
			st.cycles += 1 << 16
		}
		st.maxSeq = seq
	}
	if arrival < 0 {
		return
	}
	transit := arrival - int64(ts)
	if st.haveTransit {
		d := float64(transit - st.transit)
		if d < 0 {
			d = -d
		}
		st.jitter += (d - st.jitter) / 16
	}
	st.transit, st.haveTransit = transit, true
}

// lost is the packets the sequence numbers say did not come (negative
// after duplicates).
func (st *Reception) lost() int64 { return int64(st.expected()) - int64(st.received) }

// jitterFor is the interarrival jitter for the source's clock (hz).
func (st *Reception) jitterFor(hz uint32) time.Duration {
	if hz == 0 {
		return 0
	}
	return time.Duration(st.jitter / float64(hz) * float64(time.Second))
}

// Receptions are a session's sources heard, at most maxSSRCs (the SRTP
// replay state's bound).
type Receptions []Reception

// Note counts a packet of ssrc, starting its statistics at its first; a
// source past maxSSRCs is not counted.
func (rs *Receptions) Note(ssrc uint32, seq uint16, ts uint32, arrival int64) {
	i := slices.IndexFunc(*rs, func(r Reception) bool { return r.ssrc == ssrc })
	if i < 0 {
		if len(*rs) == maxSSRCs {
			return
		}
		*rs = append(*rs, newReception(ssrc, seq))
		i = len(*rs) - 1
	}
	(*rs)[i].note(seq, ts, arrival)
}

// AddTo adds their figures to r: packets received and lost, summed over
// the sources, and the worst jitter for the sources' clock (hz).
func (rs Receptions) AddTo(r *Reports, hz uint32) {
	for i := range rs {
		st := &rs[i]
		r.Received += st.received
		r.Lost += st.lost()
		r.Jitter = max(r.Jitter, st.jitterFor(hz))
	}
}

// extended is the highest sequence number heard, with its wraps.
func (st *Reception) extended() uint32 { return st.cycles + uint32(st.maxSeq) }

// expected is how many packets the sequence numbers say were sent.
func (st *Reception) expected() uint32 { return st.extended() - st.base + 1 }

// sendStats is what a session sent (one SSRC: the latest), under wmu.
type sendStats struct {
	ssrc            uint32
	packets, octets uint32
	lastTS          uint32
	lastAt          int64    // unix ns of the last packet sent
	srs             [4]srRef // sender reports recently sent, for the RTT
	nsr             int
}

// srRef is a sender report sent: its LSR key and when it left.
type srRef struct {
	lsr uint32
	at  int64
}

// Reports is what a session's reports say, both ways.
type Reports struct {
	Sent, SentOctets uint32 // packets and payload octets sent
	Received         uint32 // packets taken, all sources
	Lost             int64  // of the peer's packets, by sequence numbers
	Jitter           time.Duration
	// From the peer's latest report about what this session sends:
	PeerReports  uint64 // reports about it so far
	PeerLost     int32  // cumulative
	PeerFraction uint8  // of the interval before the report, /256
	PeerJitter   time.Duration
	RTT          time.Duration // 0 until a report echoes a sender report
	ReportsSent  uint64
}

// SetClockRate gives the session its audio's RTP clock (jitter is
// measured in it); without it the reports' jitter is 0.
func (s *Session) SetClockRate(hz uint32) {
	s.rmu.Lock()
	s.clock = hz
	s.rmu.Unlock()
}

// OnPeerReport has fn called with the loss fraction (of 256) of each
// report the peer sends about this session's audio, on the reading
// goroutine: it must not block.
func (s *Session) OnPeerReport(fn func(fraction uint8)) {
	s.rmu.Lock()
	s.onPeer = fn
	s.rmu.Unlock()
}

// Reports is the session's report figures so far.
func (s *Session) Reports() Reports {
	s.rmu.Lock()
	r := s.peer
	s.recv.AddTo(&r, s.clock)
	s.rmu.Unlock()
	s.wmu.Lock()
	r.Sent, r.SentOctets = s.sent.packets, s.sent.octets
	s.wmu.Unlock()
	r.ReportsSent = s.reportsSent.Load()
	return r
}

// noteSent counts a packet sent (under wmu).
func (s *Session) noteSent(ssrc, ts uint32, payload int, now int64) {
	if ssrc != s.sent.ssrc {
		s.sent = sendStats{ssrc: ssrc}
	}
	s.sent.packets++
	s.sent.octets += uint32(payload)
	s.sent.lastTS, s.sent.lastAt = ts, now
}

// noteReceived counts a packet taken from ssrc (under rmu; the SSRC is
// one of the session's bounded few).
func (s *Session) noteReceived(ssrc uint32, seq uint16, ts uint32, now int64) {
	s.recv.Note(ssrc, seq, ts, ArrivalUnits(s.created, now, s.clock))
}

// ArrivalUnits is the arrival time now (unix ns) in clock units (hz)
// since origin, for Receptions.Note; -1 when hz is unknown (0). µs first:
// unix µs times a 48 kHz clock would overflow int64; this lasts 53 000
// hours.
func ArrivalUnits(origin time.Time, now int64, hz uint32) int64 {
	if hz == 0 {
		return -1
	}
	return (now - origin.UnixNano()) / 1000 * int64(hz) / 1_000_000
}

// rtcpPacket takes a decrypted compound RTCP packet from the peer
// (under rmu).
func (s *Session) rtcpPacket(b []byte, now int64) {
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			if i := slices.IndexFunc(s.recv, func(r Reception) bool { return r.ssrc == p.SSRC }); i >= 0 {
				s.recv[i].lastSR, s.recv[i].lastSRAt = uint32(p.NTPTime>>16), now
			}
			s.peerBlocks(p.Reports, now)
		case *rtcp.ReceiverReport:
			s.peerBlocks(p.Reports, now)
		}
	}
}

// peerBlocks takes the report blocks about what this session sends.
func (s *Session) peerBlocks(blocks []rtcp.ReceptionReport, now int64) {
	s.wmu.Lock()
	ours, srs := s.sent.ssrc, s.sent.srs
	s.wmu.Unlock()
	for _, b := range blocks {
		if b.SSRC != ours || ours == 0 {
			continue
		}
		s.peer.PeerReports++
		lost := rtcpblocks.CumulativeLost(b)
		s.peer.PeerLost, s.peer.PeerFraction = lost, b.FractionLost
		if s.onPeer != nil {
			s.onPeer(b.FractionLost)
		}
		s.peer.PeerJitter = rtcpblocks.Jitter(b, s.clock)
		if b.LastSenderReport == 0 {
			continue
		}
		for _, r := range srs {
			if r.at != 0 && r.lsr == b.LastSenderReport {
				if rtt := time.Duration(now-r.at) - time.Duration(b.Delay)*time.Second/65536; rtt >= 0 {
					s.peer.RTT = rtt
				}
			}
		}
	}
}

// report sends the session's compound SRTCP report when one is due.
func (s *Session) report(now time.Time) {
	ns := now.UnixNano()
	if ns-s.lastReport < int64(s.p.cfg.ReportInterval) {
		return
	}
	blocks := s.receptionBlocks(ns)
	r := s.path.Load()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if (s.sent.packets == 0 && len(blocks) == 0) || r == nil || s.out == nil {
		return // no media yet: nothing to report
	}
	s.lastReport = ns
	var first rtcp.Packet
	ssrc := s.rtcpSSRC
	if s.sent.packets > 0 {
		ssrc = s.sent.ssrc
		ntp := rtcpblocks.NTPTime(time.Unix(0, s.sent.lastAt))
		first = &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntp, RTPTime: s.sent.lastTS,
			PacketCount: s.sent.packets, OctetCount: s.sent.octets, Reports: blocks}
		s.sent.srs[s.sent.nsr%len(s.sent.srs)] = srRef{lsr: uint32(ntp >> 16), at: ns}
		s.sent.nsr++
	} else {
		first = &rtcp.ReceiverReport{SSRC: ssrc, Reports: blocks}
	}
	plain, err := rtcp.Marshal([]rtcp.Packet{first, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: ssrc, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: s.cname}}}}}})
	if err != nil {
		return
	}
	out, err := s.out.EncryptRTCP(s.wbuf[:0], plain, nil)
	if err != nil {
		return
	}
	s.wbuf = out[:0]
	if s.sw.send(r.sock, out, &r.sa) == nil {
		s.reportsSent.Add(1)
		s.p.Stats.ReportsSent.Add(1)
	}
}

// receptionBlocks is a report block per source heard (RFC 3550 A.3),
// moving each source's interval on.
func (s *Session) receptionBlocks(now int64) []rtcp.ReceptionReport {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	var out []rtcp.ReceptionReport
	for i := range s.recv {
		st := &s.recv[i]
		ext, expected := st.extended(), st.expected()
		lost := int64(expected) - int64(st.received)
		lost = max(min(lost, 0x7fffff), -0x800000)
		expInt, recInt := expected-st.expPrior, st.received-st.recPrior
		st.expPrior, st.recPrior = expected, st.received
		var frac uint8
		if lostInt := int64(expInt) - int64(recInt); expInt > 0 && lostInt > 0 {
			frac = uint8(min(lostInt<<8/int64(expInt), 255))
		}
		b := rtcp.ReceptionReport{SSRC: st.ssrc, FractionLost: frac, TotalLost: uint32(lost) & 0xffffff,
			LastSequenceNumber: ext, Jitter: uint32(st.jitter)}
		if st.lastSRAt != 0 {
			b.LastSenderReport = st.lastSR
			b.Delay = uint32((now - st.lastSRAt) * 65536 / int64(time.Second))
		}
		out = append(out, b)
	}
	return out
}

// newReportIDs are a session's RTCP identity when it sends nothing (a
// receive-only session's reports need a sender SSRC) and its CNAME.
func newReportIDs() (uint32, string) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:]), randomHex(8)
}
