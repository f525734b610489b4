package sipbridge

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"

	dmedia "github.com/emiago/diago/media"
)

// Strict RTP: which source a call's RTP is taken from and sent to.
//
// A SIP call's RTP port is open to anyone who finds it. Taking audio from
// any source lets a stranger talk into the call; latching the destination
// to the first packet from a new address (diago's RTPNATSymetric) lets one
// packet redirect the call's audio to the sender for the rest of the call:
// "RTP Bleed", Asterisk's CVE-2017-14099. (A benchmark found it the other
// way: on one host, one call's RTCP sent to port+1 of its phone landed on
// another call's RTP port and carried that call's audio away.) So, as
// Asterisk's strictrtp does:
//   - The address the peer's SDP names is its source: its packets are taken
//     at once and the call sends there.
//   - A phone behind NAT sends from another address. Until a source is
//     locked, one that sends learnPackets packets in a row of the call's
//     payload types, one SSRC, consecutive sequence numbers, is locked and
//     the call sends there from then on; its packets before that are
//     dropped (the first 60 ms of the call).
//   - Once locked, packets from any other source are dropped and counted
//     (Stats.RTPWrongSource), whatever they carry, except the SDP's own
//     address, which always wins. Only a new SDP naming another address (a
//     re-INVITE, within the authenticated dialog) learns again: a phone
//     whose NAT mapping changes mid-call without one loses the call's
//     audio, the price of no hijacking (Asterisk's behaviour too).
type rtpGuard struct {
	mu    sync.Mutex
	sess  *dmedia.MediaSession // the media session the state below is for
	sdp   net.UDPAddr          // the address its SDP names
	peer  *net.UDPAddr         // the locked source, nil while learning
	types [2]uint8             // payload types a learnt source must send (audio, DTMF)
	cand  net.UDPAddr          // learning: the candidate source
	ssrc  uint32
	seq   uint16
	run   int // packets in a row from cand
	// told: the first packet from a wrong source was logged (once a call).
	told    bool
	dropped *atomic.Uint64
	log     *slog.Logger
}

// learnPackets is how many packets in a row a source not in the SDP must
// send before it is locked (Asterisk's learning_min_sequential default).
const learnPackets = 4

func newRTPGuard(c rtpCodec, dropped *atomic.Uint64, log *slog.Logger) *rtpGuard {
	g := &rtpGuard{dropped: dropped, log: log}
	g.types = [2]uint8{c.PayloadType, c.PayloadType}
	if c.DTMF {
		g.types[1] = c.DTMFType
	}
	return g
}

// adoptLocked follows s, the dialog's current media session: a new one
// (a re-INVITE) whose SDP names another address learns again. Its Raddr
// is read before anyone wrote it: writes to it (route) happen only once
// it was adopted, under mu.
func (g *rtpGuard) adoptLocked(s *dmedia.MediaSession) {
	if s == g.sess {
		return
	}
	g.sess = s
	if sameUDPAddr(&s.Raddr, &g.sdp) {
		return
	}
	g.sdp, g.peer, g.run = s.Raddr, nil, 0
	g.sdp.IP = append(net.IP(nil), s.Raddr.IP...)
}

// admit reports whether a packet p from `from`, read on s, belongs to the
// call.
func (g *rtpGuard) admit(s *dmedia.MediaSession, from net.Addr, p *rtp.Packet) bool {
	src, ok := from.(*net.UDPAddr)
	if !ok {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.adoptLocked(s)
	switch {
	case g.peer != nil && sameUDPAddr(src, g.peer):
		return true
	case sameUDPAddr(src, &g.sdp):
		if g.peer == nil || !sameUDPAddr(g.peer, &g.sdp) {
			g.peer = &g.sdp
		}
		return true
	case g.peer == nil && g.learn(src, p):
		g.peer = &net.UDPAddr{IP: append(net.IP(nil), src.IP...), Port: src.Port, Zone: src.Zone}
		g.log.Info("sip rtp source learned (NAT)", "sdp", g.sdp.String(), "source", src.String())
		return true
	case g.peer == nil:
		return false // learning: a candidate's packets wait for its lock
	}
	g.dropped.Add(1)
	if !g.told {
		g.told = true
		g.log.Warn("sip rtp from a wrong source dropped (strict RTP; counted from now on)", "source", src.String(), "peer", g.peer.String())
	}
	return false
}

// learn counts p towards locking src and reports whether src has now
// sent learnPackets in a row.
func (g *rtpGuard) learn(src *net.UDPAddr, p *rtp.Packet) bool {
	if p.Version != 2 || (p.PayloadType != g.types[0] && p.PayloadType != g.types[1]) {
		g.run = 0
		return false
	}
	if g.run == 0 || !sameUDPAddr(src, &g.cand) || p.SSRC != g.ssrc || p.SequenceNumber != g.seq+1 {
		g.cand = net.UDPAddr{IP: append(g.cand.IP[:0], src.IP...), Port: src.Port, Zone: src.Zone}
		g.ssrc, g.seq, g.run = p.SSRC, p.SequenceNumber, 1
		return false
	}
	g.seq = p.SequenceNumber
	g.run++
	return g.run >= learnPackets
}

// route points s's writes at the locked source (on the writing goroutine,
// which alone reads s.Raddr after the session started: diago's
// WriteRTPRaw sends to it).
func (g *rtpGuard) route(s *dmedia.MediaSession) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.adoptLocked(s)
	if g.peer != nil && !sameUDPAddr(&s.Raddr, g.peer) {
		s.Raddr = *g.peer
	}
}

func sameUDPAddr(a, b *net.UDPAddr) bool {
	return a.Port == b.Port && a.IP.Equal(b.IP) && a.Zone == b.Zone
}
