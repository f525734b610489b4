package rtmfp

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/flashvox/flashvox/rtmfp/wire"
)

// pingMobility marks a ping that checks a new address (RFC 7016 §3.5.4.2).
const pingMobility = 'M'

// checkMobility answers an authentic packet from a new address with a
// mobility check ping sent there; the address changes only when that ping
// comes back from it, so a replayed packet cannot redirect the session.
func (s *session) checkMobility(addr netip.AddrPort, now time.Time) {
	sec := uint64(now.Sub(s.out.epoch()) / time.Second)
	if s.mobility == addr && s.mobilityT == sec {
		return // one check per second per address
	}
	s.mobility, s.mobilityT = addr, sec
	b := wire.AppendVLU([]byte{pingMobility}, sec)
	s.sendChunk(now, wire.ChunkPing, b, addr)
}

func (s *session) onPingReply(v []byte, addr netip.AddrPort) {
	if len(v) == 0 || v[0] != pingMobility || addr != s.mobility || !s.mobility.IsValid() {
		return
	}
	want := wire.AppendVLU([]byte{pingMobility}, s.mobilityT)
	if !bytes.Equal(v, want) {
		return
	}
	old := s.addr
	s.addr = addr
	s.mobility = netip.AddrPort{}
	s.rttHist.reset() // another path: its delay is not the old baseline
	s.log.Info("address changed", "from", old, "to", addr)
	if m, ok := s.out.(interface {
		moved(*session, netip.AddrPort, netip.AddrPort)
	}); ok {
		m.moved(s, old, addr)
	}
}
