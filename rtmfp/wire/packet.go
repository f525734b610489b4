package wire

import "encoding/binary"

// Header flags and modes (RFC 7016 §2.2.4).
const (
	FlagTimeCritical        = 0x80
	flagTimeCriticalReverse = 0x40
	FlagTimestamp           = 0x08
	FlagTimestampEcho       = 0x04
	ModeMask                = 0x03

	ModeInitiator = 0x01
	ModeResponder = 0x02
	ModeStartup   = 0x03
)

// Chunk types (RFC 7016 §2.3).
const (
	chunkPadding      = 0xff
	ChunkIHello       = 0x30
	ChunkFIHello      = 0x0f
	ChunkRHello       = 0x70
	ChunkRedirect     = 0x71
	ChunkCookieChange = 0x79
	ChunkIIKeying     = 0x38
	ChunkRIKeying     = 0x78
	ChunkPing         = 0x01
	ChunkPingReply    = 0x41
	ChunkUserData     = 0x10
	ChunkNextUserData = 0x11
	ChunkAckBitmap    = 0x50
	ChunkAckRanges    = 0x51
	ChunkBufferProbe  = 0x18
	ChunkException    = 0x5e
	ChunkClose        = 0x0c
	ChunkCloseAck     = 0x4c
)

// Sizes. MTU bounds every datagram we send (RFC 7425 uses 1192 bytes of
// UDP payload); MaxDatagram bounds every one we read.
const (
	MTU               = 1192
	MaxDatagram       = 8192
	ChunkHeaderSize   = 3
	MaxHeaderSize     = 5
	MinPacketSize     = 4 + 16 // scrambled session ID and one cipher block
	TimestampPeriodMs = 4      // the header clock ticks every 4 ms
	MaxTagLen         = 64     // an initiator's tag (IHello, Redirect, FIHello)
)

// Header is the plaintext packet header: flags and the optional timestamp
// and timestamp echo.
type Header struct {
	Flags         uint8
	Timestamp     uint16 // valid when Flags has FlagTimestamp
	TimestampEcho uint16 // valid when Flags has FlagTimestampEcho
}

// Mode is the header's mode: initiator, responder or startup.
func (h Header) Mode() uint8 { return h.Flags & ModeMask }

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
		return ErrBufferTooShort
	}
	p.Flags = b[0]
	b = b[1:]
	if p.Flags&FlagTimestamp != 0 {
		if len(b) < 2 {
			return ErrBufferTooShort
		}
		p.Timestamp = binary.BigEndian.Uint16(b)
		b = b[2:]
	}
	if p.Flags&FlagTimestampEcho != 0 {
		if len(b) < 2 {
			return ErrBufferTooShort
		}
		p.TimestampEcho = binary.BigEndian.Uint16(b)
		b = b[2:]
	}
	p.Chunks = p.Chunks[:0]
	for len(b) >= ChunkHeaderSize && b[0] != chunkPadding {
		l := int(binary.BigEndian.Uint16(b[1:]))
		if l > len(b)-ChunkHeaderSize {
			return errChunkTooLong
		}
		p.Chunks = append(p.Chunks, Chunk{Type: b[0], Value: b[ChunkHeaderSize : ChunkHeaderSize+l]})
		b = b[ChunkHeaderSize+l:]
	}
	return nil
}

// MarshalSize is the encoded size of p.
func (p *Packet) MarshalSize() int {
	n := 1
	if p.Flags&FlagTimestamp != 0 {
		n += 2
	}
	if p.Flags&FlagTimestampEcho != 0 {
		n += 2
	}
	for _, c := range p.Chunks {
		n += ChunkHeaderSize + len(c.Value)
	}
	return n
}

// AppendTo appends the encoded packet to dst.
func (p *Packet) AppendTo(dst []byte) []byte {
	dst = AppendHeader(dst, p.Header)
	for _, c := range p.Chunks {
		dst = AppendChunk(dst, c.Type, c.Value)
	}
	return dst
}

// AppendHeader appends the plaintext header h.
func AppendHeader(dst []byte, h Header) []byte {
	dst = append(dst, h.Flags)
	if h.Flags&FlagTimestamp != 0 {
		dst = binary.BigEndian.AppendUint16(dst, h.Timestamp)
	}
	if h.Flags&FlagTimestampEcho != 0 {
		dst = binary.BigEndian.AppendUint16(dst, h.TimestampEcho)
	}
	return dst
}

// AppendChunk appends a chunk of type typ with value v.
func AppendChunk(dst []byte, typ uint8, v []byte) []byte {
	dst = append(dst, typ, byte(len(v)>>8), byte(len(v)))
	return append(dst, v...)
}

// ScrambledSessionID recovers the session ID of a datagram (RFC 7016
// §2.2.1): the first word XOR the next two, which are ciphertext.
func ScrambledSessionID(d []byte) uint32 {
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
