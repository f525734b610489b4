package wire

import "net/netip"

// Redirect is a responder's answer that names other addresses to try
// (0x71, RFC 7016 §2.3.5): the initiator's tag echoed, then addresses.
type Redirect struct {
	Tag   []byte
	Addrs []Address
}

// Unmarshal decodes a Redirect body; at most MaxPeerAddrs addresses are
// kept.
func (r *Redirect) Unmarshal(b []byte) error {
	tag, n, err := parseField(b)
	if err != nil {
		return err
	}
	if len(tag) > MaxTagLen {
		return errFieldTooLong
	}
	r.Tag, r.Addrs = tag, r.Addrs[:0]
	for b = b[n:]; len(b) > 0; {
		a, origin, m, err := parseAddress(b)
		if err != nil {
			return err
		}
		if len(r.Addrs) < MaxPeerAddrs {
			r.Addrs = append(r.Addrs, Address{a, origin})
		}
		b = b[m:]
	}
	return nil
}

// AppendTo appends the Redirect body.
func (r *Redirect) AppendTo(dst []byte) []byte {
	dst = appendField(dst, r.Tag)
	for _, a := range r.Addrs {
		dst = appendAddress(dst, a.Addr, a.Origin)
	}
	return dst
}

// FIHello is an IHello a server forwards to the peer it names (0x0f, RFC
// 7016 §2.3.3): the endpoint discriminator, the initiator's address as the
// server saw it, and the initiator's tag.
type FIHello struct {
	EPD  []byte
	Addr netip.AddrPort
	Tag  []byte
}

// Unmarshal decodes an FIHello body.
func (f *FIHello) Unmarshal(b []byte) error {
	epd, n, err := parseField(b)
	if err != nil {
		return err
	}
	a, _, m, err := parseAddress(b[n:])
	if err != nil {
		return err
	}
	f.EPD, f.Addr, f.Tag = epd, a, b[n+m:]
	if len(f.Tag) > MaxTagLen {
		return errFieldTooLong
	}
	return nil
}

// AppendTo appends the FIHello body (the address marked observed).
func (f *FIHello) AppendTo(dst []byte) []byte {
	dst = appendField(dst, f.EPD)
	dst = appendAddress(dst, f.Addr, OriginObserved)
	return append(dst, f.Tag...)
}
