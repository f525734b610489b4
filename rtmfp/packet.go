package rtmfp

import "encoding/binary"

// Header flags and modes (RFC 7016 §2.2.4).
const (
	flagTimeCritical        = 0x80
	flagTimeCriticalReverse = 0x40
	flagTimestamp           = 0x08
	flagTimestampEcho       = 0x04
	modeMask                = 0x03

	modeInitiator = 0x01
	modeResponder = 0x02
	modeStartup   = 0x03
)

// Chunk types (RFC 7016 §2.3).
const (
	chunkPadding      = 0xff
	chunkIHello       = 0x30
	chunkFIHello      = 0x0f
	chunkRHello       = 0x70
	chunkRedirect     = 0x71
	chunkCookieChange = 0x79
	chunkIIKeying     = 0x38
	chunkRIKeying     = 0x78
	chunkPing         = 0x01
	chunkPingReply    = 0x41
	chunkUserData     = 0x10
	chunkNextUserData = 0x11
	chunkAckBitmap    = 0x50
	chunkAckRanges    = 0x51
	chunkBufferProbe  = 0x18
	chunkException    = 0x5e
	chunkClose        = 0x0c
	chunkCloseAck     = 0x4c
)

// Sizes. MTU bounds every datagram we send (RFC 7425 uses 1192 bytes of
// UDP payload); maxDatagram bounds every one we read.
const (
	MTU               = 1192
	maxDatagram       = 8192
	chunkHeaderSize   = 3
	maxHeaderSize     = 5
	minPacketSize     = 4 + 16 // scrambled session ID and one cipher block
	timestampPeriodMs = 4      // the header clock ticks every 4 ms
)

// Header is the plaintext packet header: flags and the optional timestamp
// and timestamp echo.
type Header struct {
	Flags         uint8
	Timestamp     uint16 // valid when Flags has flagTimestamp
	TimestampEcho uint16 // valid when Flags has flagTimestampEcho
}

// Mode is the header's mode: initiator, responder or startup.
func (h Header) Mode() uint8 { return h.Flags & modeMask }

// Chunk is one chunk of a packet; Value aliases the packet buffer.
type Chunk struct {
	Type  uint8
	Value []byte
}

// Packet is a decrypted packet without its checksum or sequence number:
// the header and the chunks, padding removed.
type Packet struct {
	Header
	Chunks []Chunk
}

// Unmarshal decodes b. Chunks alias b. A padding chunk or trailing bytes
// shorter than a chunk header end the packet; a chunk longer than what is
// left is an error.
func (p *Packet) Unmarshal(b []byte) error {
	if len(b) < 1 {
		return errBufferTooShort
	}
	p.Flags = b[0]
	b = b[1:]
	if p.Flags&flagTimestamp != 0 {
		if len(b) < 2 {
			return errBufferTooShort
		}
		p.Timestamp = binary.BigEndian.Uint16(b)
		b = b[2:]
	}
	if p.Flags&flagTimestampEcho != 0 {
		if len(b) < 2 {
			return errBufferTooShort
		}
		p.TimestampEcho = binary.BigEndian.Uint16(b)
		b = b[2:]
	}
	p.Chunks = p.Chunks[:0]
	for len(b) >= chunkHeaderSize && b[0] != chunkPadding {
		l := int(binary.BigEndian.Uint16(b[1:]))
		if l > len(b)-chunkHeaderSize {
			return errChunkTooLong
		}
		p.Chunks = append(p.Chunks, Chunk{Type: b[0], Value: b[chunkHeaderSize : chunkHeaderSize+l]})
		b = b[chunkHeaderSize+l:]
	}
	return nil
}

// MarshalSize is the encoded size of p.
func (p *Packet) MarshalSize() int {
	n := 1
	if p.Flags&flagTimestamp != 0 {
		n += 2
	}
	if p.Flags&flagTimestampEcho != 0 {
		n += 2
	}
	for _, c := range p.Chunks {
		n += chunkHeaderSize + len(c.Value)
	}
	return n
}

// AppendTo appends the encoded packet to dst.
func (p *Packet) AppendTo(dst []byte) []byte {
	dst = appendHeader(dst, p.Header)
	for _, c := range p.Chunks {
		dst = appendChunk(dst, c.Type, c.Value)
	}
	return dst
}

func appendHeader(dst []byte, h Header) []byte {
	dst = append(dst, h.Flags)
	if h.Flags&flagTimestamp != 0 {
		dst = binary.BigEndian.AppendUint16(dst, h.Timestamp)
	}
	if h.Flags&flagTimestampEcho != 0 {
		dst = binary.BigEndian.AppendUint16(dst, h.TimestampEcho)
	}
	return dst
}

func appendChunk(dst []byte, typ uint8, v []byte) []byte {
	dst = append(dst, typ, byte(len(v)>>8), byte(len(v)))
	return append(dst, v...)
}

// scrambledSessionID recovers the session ID of a datagram (RFC 7016
// §2.2.1): the first word XOR the next two, which are ciphertext.
func scrambledSessionID(d []byte) uint32 {
	var w [3]uint32
	for i := 0; i < 3 && 4*i+4 <= len(d); i++ {
		w[i] = binary.BigEndian.Uint32(d[4*i:])
	}
	return w[0] ^ w[1] ^ w[2]
}

// scrambleSessionID writes the scrambled id into d[0:4]; d[4:] is the
// ciphertext (at least 16 bytes).
func scrambleSessionID(d []byte, id uint32) {
	binary.BigEndian.PutUint32(d, id^binary.BigEndian.Uint32(d[4:])^binary.BigEndian.Uint32(d[8:]))
}
