package wire

import "encoding/binary"

// IHello is the initiator's hello (0x30): an endpoint discriminator and a tag.
type IHello struct {
	EPD []byte
	Tag []byte
}

// Unmarshal decodes an IHello body.
func (h *IHello) Unmarshal(b []byte) error {
	epd, n, err := parseField(b)
	if err != nil {
		return err
	}
	h.EPD, h.Tag = epd, b[n:]
	return nil
}

// AppendTo appends the IHello body.
func (h *IHello) AppendTo(dst []byte) []byte {
	return append(appendField(dst, h.EPD), h.Tag...)
}

// RHello is the responder's hello (0x70): the tag echoed, a cookie and the
// responder's certificate.
type RHello struct {
	Tag, Cookie, Cert []byte
}

// Unmarshal decodes an RHello body.
func (h *RHello) Unmarshal(b []byte) error {
	tag, n, err := parseField(b)
	if err != nil {
		return err
	}
	cookie, m, err := parseField(b[n:])
	if err != nil {
		return err
	}
	h.Tag, h.Cookie, h.Cert = tag, cookie, b[n+m:]
	return nil
}

// AppendTo appends the RHello body.
func (h *RHello) AppendTo(dst []byte) []byte {
	dst = appendField(dst, h.Tag)
	dst = appendField(dst, h.Cookie)
	return append(dst, h.Cert...)
}

// IIKeying is the initiator's keying (0x38).
type IIKeying struct {
	SessionID uint32 // the initiator's receive session ID
	Cookie    []byte
	Cert      []byte
	SKIC      []byte // session key initiator component
	Signature []byte
}

// Unmarshal decodes an IIKeying body.
func (k *IIKeying) Unmarshal(b []byte) error {
	if len(b) < 4 {
		return ErrBufferTooShort
	}
	k.SessionID = binary.BigEndian.Uint32(b)
	n := 4
	for _, p := range []*[]byte{&k.Cookie, &k.Cert, &k.SKIC} {
		f, l, err := parseField(b[n:])
		if err != nil {
			return err
		}
		*p = f
		n += l
	}
	k.Signature = b[n:]
	return nil
}

// AppendTo appends the IIKeying body.
func (k *IIKeying) AppendTo(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, k.SessionID)
	dst = appendField(dst, k.Cookie)
	dst = appendField(dst, k.Cert)
	dst = appendField(dst, k.SKIC)
	return append(dst, k.Signature...)
}

// RIKeying is the responder's keying (0x78).
type RIKeying struct {
	SessionID uint32 // the responder's receive session ID
	SKRC      []byte // session key responder component
	Signature []byte
}

// Unmarshal decodes an RIKeying body.
func (k *RIKeying) Unmarshal(b []byte) error {
	if len(b) < 4 {
		return ErrBufferTooShort
	}
	k.SessionID = binary.BigEndian.Uint32(b)
	f, l, err := parseField(b[4:])
	if err != nil {
		return err
	}
	k.SKRC, k.Signature = f, b[4+l:]
	return nil
}

// AppendTo appends the RIKeying body.
func (k *RIKeying) AppendTo(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, k.SessionID)
	dst = appendField(dst, k.SKRC)
	return append(dst, k.Signature...)
}

// CookieChange is the responder's RHello cookie change (0x79).
type CookieChange struct {
	Old, New []byte
}

// Unmarshal decodes a cookie change body.
func (c *CookieChange) Unmarshal(b []byte) error {
	old, n, err := parseField(b)
	if err != nil {
		return err
	}
	c.Old, c.New = old, b[n:]
	return nil
}

// AppendTo appends the cookie change body.
func (c *CookieChange) AppendTo(dst []byte) []byte {
	return append(appendField(dst, c.Old), c.New...)
}
