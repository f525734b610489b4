package rtmfp

import (
	"net/netip"
	"time"
)

// Address origins in encoded addresses (RFC 7016 §2.1.5).
const (
	originReported = 1 // the peer said it has this address (setPeerInfo)
	originObserved = 2 // the address we see its packets come from
	maxPeerAddrs   = 16
)

// appendAddress encodes addr: flags (0x80 for IPv6, the origin), the
// address, the port.
func appendAddress(dst []byte, addr netip.AddrPort, origin byte) []byte {
	a := addr.Addr().Unmap()
	if a.Is6() {
		dst = append(dst, 0x80|origin)
		b := a.As16()
		dst = append(dst, b[:]...)
	} else {
		dst = append(dst, origin)
		b := a.As4()
		dst = append(dst, b[:]...)
	}
	return append(dst, byte(addr.Port()>>8), byte(addr.Port()))
}

// parseAddress decodes one encoded address.
func parseAddress(b []byte) (netip.AddrPort, byte, int, error) {
	if len(b) < 1 {
		return netip.AddrPort{}, 0, 0, errBufferTooShort
	}
	n := 4
	if b[0]&0x80 != 0 {
		n = 16
	}
	if len(b) < 1+n+2 {
		return netip.AddrPort{}, 0, 0, errBufferTooShort
	}
	a, _ := netip.AddrFromSlice(b[1 : 1+n])
	port := uint16(b[1+n])<<8 | uint16(b[2+n])
	return netip.AddrPortFrom(a, port), b[0] & 0x03, 1 + n + 2, nil
}

// registerPeer makes a session reachable by its fingerprint (its peer ID)
// for introductions; called once it has sent setPeerInfo.
func (s *Server) registerPeer(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.rxID] == ss {
		s.byPeerID[ss.far] = ss
	}
}

// introduce answers an IHello for a peer ID that is one of our clients
// (rendezvous, RFC 7016 §3.5.1.5): a Redirect to the initiator with the
// target's observed and reported addresses, and the IHello forwarded to the
// target (FIHello) so it answers the initiator directly (hole punching).
func (s *Server) introduce(epd, tag, fp []byte, addr netip.AddrPort, now time.Time) {
	var id [32]byte
	copy(id[:], fp)
	s.mu.Lock()
	target := s.byPeerID[id]
	s.mu.Unlock()
	if target == nil || !s.allow(now, addr.Addr(), 0) {
		return
	}
	target.mu.Lock()
	defer target.mu.Unlock()
	if target.state != stateOpen {
		return
	}
	r := appendField(nil, tag)
	r = appendAddress(r, target.addr, originObserved)
	for _, a := range target.peerAddrs {
		r = appendAddress(r, a, originReported)
	}
	s.sendStartup(now, 0, chunkRedirect, r, addr)
	fi := appendField(nil, epd)
	fi = appendAddress(fi, addr, originObserved)
	fi = append(fi, tag...)
	target.addChunk(now, chunkFIHello, fi)
	target.flushPacket()
	s.stats.Introductions.Add(1)
}
