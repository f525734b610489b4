package chunk

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/flashvox/flashvox/rtmp/message"
)

const (
	extendedTimestamp = 0xFFFFFF
	// initialBodyAlloc is what a new message body may allocate before its
	// data arrives; beyond it the buffer grows only as chunks are read.
	initialBodyAlloc = 4096
	// readStep bounds one read into a body buffer, so that a large chunk
	// size does not let a peer make us allocate data it never sends.
	readStep = 64 << 10
)

// extStyle records whether a peer repeats the 4-byte extended timestamp on
// type 3 chunks. Flash and the spec repeat it; some old encoders do not. The
// first type 3 chunk after an extended header decides by comparing the next 4
// bytes with the extended value.
type extStyle int8

const (
	extUnknown extStyle = iota
	extRepeated
	extOmitted
)

// chunkStreamIn is the reader's state of one chunk stream.
type chunkStreamIn struct {
	hasHeader bool
	timestamp uint32 // absolute timestamp of the current message
	delta     uint32 // delta a type 3 header for a new message adds
	length    uint32
	typ       uint8
	streamID  uint32
	extended  bool   // the last header carried an extended timestamp
	extValue  uint32 // its value
	style     extStyle
	inMessage bool
	body      []byte
	reserved  uint32 // of Reader.held, for the message being received
}

// Reader reassembles messages from a chunk stream. It applies Set Chunk
// Size and Abort itself (and still returns them). It is not safe for
// concurrent use: an rtmp.Conn's reader goroutine owns it.
type Reader struct {
	r          *bufio.Reader
	chunkSize  uint32
	maxMessage uint32
	maxStreams int
	streams    map[uint32]*chunkStreamIn
	hdr        [11]byte
	// budget bounds held: the declared sizes of the messages being
	// received, over all chunk streams. A body never grows past its
	// declared size, so this bounds what a peer can make us buffer.
	budget, held uint32
}

// NewReader reads chunks from r with the given bounds (see rtmp.ConnConfig).
func NewReader(r io.Reader, maxMessageSize, maxChunkStreams int) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 4096)
	}
	return &Reader{
		r:          br,
		chunkSize:  DefaultSize,
		maxMessage: uint32(maxMessageSize),
		maxStreams: maxChunkStreams,
		streams:    make(map[uint32]*chunkStreamIn),
		budget:     ^uint32(0),
	}
}

// SetBudget bounds the bytes of unfinished messages the peer may hold at
// once (the sum of their declared sizes); a header that would pass it
// fails with ErrOverBudget. rtmp.Conn lowers it until connect is admitted.
func (r *Reader) SetBudget(n int) { r.budget = uint32(min(max(n, 0), 1<<31)) }

// ChunkSize returns the current incoming chunk size.
func (r *Reader) ChunkSize() uint32 { return r.chunkSize }

// SetChunkSize sets the incoming chunk size (1..2^31-1; values over 16 MiB
// act as 16 MiB since no chunk can be longer than a message).
func (r *Reader) SetChunkSize(n uint32) error {
	if n == 0 || n > 0x7FFFFFFF {
		return fmt.Errorf("%w: %d", ErrInvalidChunkSize, n)
	}
	r.chunkSize = min(n, MaxSize)
	return nil
}

// ReadMessage reads chunks until one message is complete and stores it in m.
// m.Payload is newly allocated and owned by the caller.
func (r *Reader) ReadMessage(m *message.Message) error {
	for {
		done, err := r.readChunk(m)
		if err != nil {
			return err
		}
		if !done {
			continue
		}
		if m.StreamID == 0 || m.ChunkStreamID == message.CSIDControl {
			if err := r.applyControl(m); err != nil {
				return err
			}
		}
		return nil
	}
}

func (r *Reader) applyControl(m *message.Message) error {
	switch m.Type {
	case message.TypeSetChunkSize:
		if len(m.Payload) < 4 {
			return fmt.Errorf("set chunk size: %w", message.ErrBufferTooShort)
		}
		return r.SetChunkSize(binary.BigEndian.Uint32(m.Payload))
	case message.TypeAbort:
		if len(m.Payload) < 4 {
			return fmt.Errorf("abort: %w", message.ErrBufferTooShort)
		}
		if cs := r.streams[binary.BigEndian.Uint32(m.Payload)]; cs != nil {
			r.drop(cs)
		}
	}
	return nil
}

func (r *Reader) readBasicHeader() (fmtType uint8, csid uint32, err error) {
	b0, err := r.r.ReadByte()
	if err != nil {
		return 0, 0, err
	}
	fmtType = b0 >> 6
	csid = uint32(b0 & 0x3f)
	switch csid {
	case 0:
		b1, err := r.r.ReadByte()
		if err != nil {
			return 0, 0, err
		}
		csid = 64 + uint32(b1)
	case 1:
		if _, err := io.ReadFull(r.r, r.hdr[:2]); err != nil {
			return 0, 0, err
		}
		csid = 64 + uint32(r.hdr[0]) + uint32(r.hdr[1])<<8
	}
	return fmtType, csid, nil
}

func (r *Reader) stream(csid uint32) (*chunkStreamIn, error) {
	if cs := r.streams[csid]; cs != nil {
		return cs, nil
	}
	if len(r.streams) >= r.maxStreams {
		return nil, fmt.Errorf("%w: max_chunk_streams %d", ErrTooManyChunkStreams, r.maxStreams)
	}
	cs := &chunkStreamIn{}
	r.streams[csid] = cs
	return cs, nil
}

// readChunk reads one chunk; done reports that it completed a message in m.
// It is one function on purpose: the per-chunk hot path of every RTMP
// connection, header types 0-3 and the extended timestamp in one place.
func (r *Reader) readChunk(m *message.Message) (done bool, err error) {
	fmtType, csid, err := r.readBasicHeader()
	if err != nil {
		return false, err
	}
	cs, err := r.stream(csid)
	if err != nil {
		return false, err
	}
	if fmtType != 0 && !cs.hasHeader {
		return false, fmt.Errorf("%w: type %d on chunk stream %d", ErrNoPreviousHeader, fmtType, csid)
	}
	if fmtType != 3 && cs.inMessage {
		// A new header in the middle of a message: the peer gave the old
		// one up without an Abort. Drop it as Abort would.
		r.drop(cs)
	}

	var field uint32
	switch fmtType {
	case 0:
		if _, err := io.ReadFull(r.r, r.hdr[:11]); err != nil {
			return false, err
		}
		field = be24(r.hdr[0:])
		cs.length = be24(r.hdr[3:])
		cs.typ = r.hdr[6]
		cs.streamID = binary.LittleEndian.Uint32(r.hdr[7:])
	case 1:
		if _, err := io.ReadFull(r.r, r.hdr[:7]); err != nil {
			return false, err
		}
		field = be24(r.hdr[0:])
		cs.length = be24(r.hdr[3:])
		cs.typ = r.hdr[6]
	case 2:
		if _, err := io.ReadFull(r.r, r.hdr[:3]); err != nil {
			return false, err
		}
		field = be24(r.hdr[0:])
	}

	if fmtType != 3 {
		cs.extended = field == extendedTimestamp
		if cs.extended {
			if _, err := io.ReadFull(r.r, r.hdr[:4]); err != nil {
				return false, err
			}
			field = binary.BigEndian.Uint32(r.hdr[:4])
			cs.extValue = field
		}
	} else if cs.extended {
		if err := r.skipRepeatedExt(cs); err != nil {
			return false, err
		}
	}

	if !cs.inMessage {
		switch fmtType {
		case 0:
			cs.timestamp = field
			cs.delta = field // RTMP 1.0 §5.3.1.2.4: a type 3 after a type 0 reuses its timestamp as delta
		case 1, 2:
			cs.delta = field
			cs.timestamp += field // uint32 arithmetic: wraps past 2^32 as the spec asks
		case 3:
			cs.timestamp += cs.delta
		}
		cs.hasHeader = true
		if cs.length > r.maxMessage {
			return false, fmt.Errorf("%w: max_message_size %d, header declares %d", ErrMessageTooLarge, r.maxMessage, cs.length)
		}
		if r.held+cs.length > r.budget || r.held+cs.length < r.held {
			return false, fmt.Errorf("%w: %d bytes of unfinished messages held, a new one declares %d, budget %d", ErrOverBudget, r.held, cs.length, r.budget)
		}
		r.held += cs.length
		cs.reserved = cs.length
		cs.inMessage = true
		cs.body = make([]byte, 0, min(cs.length, initialBodyAlloc))
	}

	n := min(cs.length-uint32(len(cs.body)), r.chunkSize)
	if err := r.readBody(cs, int(n)); err != nil {
		return false, err
	}
	if uint32(len(cs.body)) < cs.length {
		return false, nil
	}
	*m = message.Message{
		Type:          cs.typ,
		Timestamp:     cs.timestamp,
		StreamID:      cs.streamID,
		ChunkStreamID: csid,
		Payload:       cs.body,
	}
	cs.body = nil // m owns it now
	r.drop(cs)
	return true, nil
}

// drop ends the message cs was receiving and returns its budget.
func (r *Reader) drop(cs *chunkStreamIn) {
	r.held -= cs.reserved
	cs.reserved = 0
	cs.inMessage = false
	cs.body = nil
}

// skipRepeatedExt consumes the extended timestamp a type 3 chunk repeats, if
// this peer repeats it.
func (r *Reader) skipRepeatedExt(cs *chunkStreamIn) error {
	switch cs.style {
	case extRepeated:
		_, err := io.ReadFull(r.r, r.hdr[:4])
		return err
	case extOmitted:
		return nil
	}
	b, err := r.r.Peek(4)
	if err != nil {
		return err
	}
	if binary.BigEndian.Uint32(b) == cs.extValue {
		cs.style = extRepeated
		_, err = r.r.Discard(4)
		return err
	}
	cs.style = extOmitted
	return nil
}

// readBody appends n bytes to cs.body, growing it only as data arrives.
func (r *Reader) readBody(cs *chunkStreamIn, n int) error {
	for n > 0 {
		step := min(n, readStep)
		l := len(cs.body)
		if cap(cs.body)-l < step {
			nc := min(max(2*cap(cs.body), l+step), int(cs.length))
			nb := make([]byte, l, nc)
			copy(nb, cs.body)
			cs.body = nb
		}
		if _, err := io.ReadFull(r.r, cs.body[l:l+step]); err != nil {
			return err
		}
		cs.body = cs.body[:l+step]
		n -= step
	}
	return nil
}

func be24(b []byte) uint32 {
	return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
}
