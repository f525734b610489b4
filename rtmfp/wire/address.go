package wire

import "net/netip"

// Address origins in encoded addresses (RFC 7016 §2.1.5).
const (
	OriginReported = 1 // the peer said it has this address (setPeerInfo)
	OriginObserved = 2 // the address we see its packets come from
	OriginRelay    = 3 // another server (a Redirect for a peer we do not know)
	MaxPeerAddrs   = 16
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
		return netip.AddrPort{}, 0, 0, ErrBufferTooShort
	}
	n := 4
	if b[0]&0x80 != 0 {
		n = 16
	}
	if len(b) < 1+n+2 {
		return netip.AddrPort{}, 0, 0, ErrBufferTooShort
	}
	a, _ := netip.AddrFromSlice(b[1 : 1+n])
	port := uint16(b[1+n])<<8 | uint16(b[2+n])
	return netip.AddrPortFrom(a.Unmap(), port), b[0] & 0x03, 1 + n + 2, nil
}

// Address is one address of a Redirect, with its origin (1 reported by
// the peer, 2 observed by the server, 3 another server).
type Address struct {
	Addr   netip.AddrPort
	Origin byte
}
