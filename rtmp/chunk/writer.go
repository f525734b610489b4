package chunk

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/flashvox/flashvox/rtmp/message"
)

// chunkStreamOut is the writer's memory of the last header on a chunk stream.
type chunkStreamOut struct {
	valid      bool
	deltaValid bool // false after a type 0: we never send a type 3 for a new message right after one
	timestamp  uint32
	delta      uint32
	length     uint32
	typ        uint8
	streamID   uint32
}

// Writer splits messages into chunks, choosing the smallest header type
// the previous header on the chunk stream allows. Type 3 chunks repeat the
// extended timestamp as Flash does. It does not allocate per message once a
// chunk stream has been seen. Not safe for concurrent use: an rtmp.Conn's writer
// goroutine owns it.
type Writer struct {
	w         io.Writer
	chunkSize uint32
	low       [64]chunkStreamOut // chunk stream ids < 64, the common case
	high      map[uint32]*chunkStreamOut
	hdr       [3 + 11 + 4]byte
}

// NewWriter writes chunks to w, starting at the protocol's initial chunk
// size of 128; call SetChunkSize after announcing a new one.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, chunkSize: DefaultSize}
}

// Reset makes w a new Writer on dst, as NewWriter does, in place: an rtmp.Conn
// keeps its Writer inside itself (its cache-hot fields) rather than behind
// one more pointer.
func (w *Writer) Reset(dst io.Writer) {
	*w = Writer{w: dst, chunkSize: DefaultSize}
}

// SetChunkSize sets the outgoing chunk size (1..16 MiB).
func (w *Writer) SetChunkSize(n uint32) error {
	if n < MinSize || n > MaxSize {
		return fmt.Errorf("%w: %d", ErrInvalidChunkSize, n)
	}
	w.chunkSize = n
	return nil
}

// ChunkSize returns the outgoing chunk size.
func (w *Writer) ChunkSize() uint32 { return w.chunkSize }

func (w *Writer) stream(csid uint32) *chunkStreamOut {
	if csid < 64 {
		return &w.low[csid]
	}
	if cs := w.high[csid]; cs != nil {
		return cs
	}
	if w.high == nil {
		w.high = make(map[uint32]*chunkStreamOut)
	}
	cs := &chunkStreamOut{}
	w.high[csid] = cs
	return cs
}

// WriteMessage writes m as chunks. m.ChunkStreamID 0 picks a default by type.
func (w *Writer) WriteMessage(m *message.Message) error {
	n, csid, ext, field, err := w.begin(m)
	if err != nil {
		return err
	}
	if _, err := w.w.Write(w.hdr[:n]); err != nil {
		return err
	}
	p := m.Payload
	for {
		c := min(uint32(len(p)), w.chunkSize)
		if _, err := w.w.Write(p[:c]); err != nil {
			return err
		}
		p = p[c:]
		if len(p) == 0 {
			return nil
		}
		n := w.continuation(csid, ext, field)
		if _, err := w.w.Write(w.hdr[:n]); err != nil {
			return err
		}
	}
}

// AppendMessage is WriteMessage appending the chunks to dst instead of
// writing them to the writer: a caller can encode into a buffer on its own
// stack (rtmp.Conn's direct writes do), which stays in the CPU cache.
func (w *Writer) AppendMessage(dst []byte, m *message.Message) ([]byte, error) {
	n, csid, ext, field, err := w.begin(m)
	if err != nil {
		return dst, err
	}
	dst = append(dst, w.hdr[:n]...)
	p := m.Payload
	for {
		c := min(uint32(len(p)), w.chunkSize)
		dst = append(dst, p[:c]...)
		p = p[c:]
		if len(p) == 0 {
			return dst, nil
		}
		n := w.continuation(csid, ext, field)
		dst = append(dst, w.hdr[:n]...)
	}
}

// begin checks m, puts its first chunk header into w.hdr (returning its
// length) and records it as the chunk stream's last header. The rest of
// the chunks get continuation headers for csid (ext: with the extended
// timestamp field).
func (w *Writer) begin(m *message.Message) (n int, csid uint32, ext bool, field uint32, err error) {
	if len(m.Payload) > 1<<24-1 {
		return 0, 0, false, 0, fmt.Errorf("%w: %d bytes", ErrMessageTooLarge, len(m.Payload))
	}
	csid = m.ChunkStreamID
	if csid == 0 {
		csid = defaultCSID(m.Type)
	}
	if csid < 2 || csid > 65599 {
		return 0, 0, false, 0, fmt.Errorf("rtmp: chunk stream id %d out of range 2..65599", csid)
	}
	cs := w.stream(csid)
	length := uint32(len(m.Payload))

	fmtType := uint8(0)
	field = m.Timestamp
	if cs.valid && cs.streamID == m.StreamID {
		delta := m.Timestamp - cs.timestamp
		if delta < 1<<31 { // a backwards timestamp gets a type 0
			field = delta
			switch {
			case cs.length != length || cs.typ != m.Type:
				fmtType = 1
			case cs.deltaValid && cs.delta == delta:
				fmtType = 3
			default:
				fmtType = 2
			}
		}
	}
	ext = field >= extendedTimestamp

	*cs = chunkStreamOut{
		valid:      true,
		deltaValid: fmtType != 0,
		timestamp:  m.Timestamp,
		delta:      field,
		length:     length,
		typ:        m.Type,
		streamID:   m.StreamID,
	}

	n = putBasicHeader(w.hdr[:], fmtType, csid)
	f := field
	if ext {
		f = extendedTimestamp
	}
	switch fmtType {
	case 0:
		put24(w.hdr[n:], f)
		put24(w.hdr[n+3:], length)
		w.hdr[n+6] = m.Type
		binary.LittleEndian.PutUint32(w.hdr[n+7:], m.StreamID)
		n += 11
	case 1:
		put24(w.hdr[n:], f)
		put24(w.hdr[n+3:], length)
		w.hdr[n+6] = m.Type
		n += 7
	case 2:
		put24(w.hdr[n:], f)
		n += 3
	}
	if ext {
		binary.BigEndian.PutUint32(w.hdr[n:], field)
		n += 4
	}
	return n, csid, ext, field, nil
}

// continuation puts a type 3 header for csid into w.hdr and returns its
// length; type 3 chunks repeat the extended timestamp as Flash does.
func (w *Writer) continuation(csid uint32, ext bool, field uint32) int {
	n := putBasicHeader(w.hdr[:], 3, csid)
	if ext {
		binary.BigEndian.PutUint32(w.hdr[n:], field)
		n += 4
	}
	return n
}

func putBasicHeader(b []byte, fmtType uint8, csid uint32) int {
	switch {
	case csid < 64:
		b[0] = fmtType<<6 | uint8(csid)
		return 1
	case csid < 64+256:
		b[0] = fmtType << 6
		b[1] = uint8(csid - 64)
		return 2
	default:
		b[0] = fmtType<<6 | 1
		binary.LittleEndian.PutUint16(b[1:], uint16(csid-64))
		return 3
	}
}

func put24(b []byte, v uint32) {
	b[0] = byte(v >> 16)
	b[1] = byte(v >> 8)
	b[2] = byte(v)
}

// defaultCSID picks the chunk stream for a message that names none.
func defaultCSID(typ uint8) uint32 {
	switch typ {
	case message.TypeSetChunkSize, message.TypeAbort, message.TypeAck, message.TypeUserControl, message.TypeWindowAckSize, message.TypeSetPeerBandwidth:
		return message.CSIDControl
	case message.TypeAudio:
		return message.CSIDAudio
	case message.TypeVideo:
		return message.CSIDVideo
	case message.TypeDataAMF0, message.TypeDataAMF3, message.TypeAggregate:
		return message.CSIDData
	default:
		return message.CSIDCommand
	}
}
