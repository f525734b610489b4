package message

import (
	"encoding/binary"
	"fmt"
)

// User Control event types (RTMP 1.0 §7.1.7).
const (
	EventStreamBegin      uint16 = 0
	EventStreamEOF        uint16 = 1
	EventStreamDry        uint16 = 2
	EventSetBufferLength  uint16 = 3
	EventStreamIsRecorded uint16 = 4
	EventPingRequest      uint16 = 6
	EventPingResponse     uint16 = 7
)

// Set Peer Bandwidth limit types.
const (
	LimitHard    uint8 = 0
	LimitSoft    uint8 = 1
	LimitDynamic uint8 = 2
)

// UserControl is a decoded User Control message. StreamID is set for the
// stream events, BufferLength for SetBufferLength, Timestamp for pings.
type UserControl struct {
	Event        uint16
	StreamID     uint32
	BufferLength uint32
	Timestamp    uint32
}

// ParseUserControl decodes a User Control message payload.
func ParseUserControl(p []byte) (UserControl, error) {
	if len(p) < 6 {
		return UserControl{}, fmt.Errorf("user control: %w", ErrBufferTooShort)
	}
	uc := UserControl{Event: binary.BigEndian.Uint16(p)}
	v := binary.BigEndian.Uint32(p[2:])
	switch uc.Event {
	case EventPingRequest, EventPingResponse:
		uc.Timestamp = v
	case EventSetBufferLength:
		if len(p) < 10 {
			return UserControl{}, fmt.Errorf("set buffer length: %w", ErrBufferTooShort)
		}
		uc.StreamID = v
		uc.BufferLength = binary.BigEndian.Uint32(p[6:])
	default:
		uc.StreamID = v
	}
	return uc, nil
}

// Message returns uc as a User Control message on chunk stream 2.
func (uc UserControl) Message() *Message {
	p := make([]byte, 6, 10)
	binary.BigEndian.PutUint16(p, uc.Event)
	switch uc.Event {
	case EventPingRequest, EventPingResponse:
		binary.BigEndian.PutUint32(p[2:], uc.Timestamp)
	case EventSetBufferLength:
		binary.BigEndian.PutUint32(p[2:], uc.StreamID)
		p = binary.BigEndian.AppendUint32(p, uc.BufferLength)
	default:
		binary.BigEndian.PutUint32(p[2:], uc.StreamID)
	}
	return &Message{Type: TypeUserControl, ChunkStreamID: CSIDControl, Payload: p}
}

func uint32Message(typ uint8, v uint32) *Message {
	return &Message{Type: typ, ChunkStreamID: CSIDControl, Payload: binary.BigEndian.AppendUint32(nil, v)}
}

// SetChunkSizeMessage announces our outgoing chunk size. Writing it through
// a Conn also switches that Conn's writer to the new size.
func SetChunkSizeMessage(n uint32) *Message { return uint32Message(TypeSetChunkSize, n) }

// AbortMessage tells the peer to drop the partial message on csid.
func AbortMessage(csid uint32) *Message { return uint32Message(TypeAbort, csid) }

// AckMessage acknowledges n bytes received (modulo 2^32).
func AckMessage(n uint32) *Message { return uint32Message(TypeAck, n) }

// WindowAckSizeMessage asks the peer to acknowledge every n bytes.
func WindowAckSizeMessage(n uint32) *Message { return uint32Message(TypeWindowAckSize, n) }

// SetPeerBandwidthMessage limits the peer's output bandwidth.
func SetPeerBandwidthMessage(n uint32, limit uint8) *Message {
	m := uint32Message(TypeSetPeerBandwidth, n)
	m.Payload = append(m.Payload, limit)
	return m
}

// ParseUint32Control decodes the 4-byte value of a Set Chunk Size, Abort,
// Ack, Window Ack Size or Set Peer Bandwidth message.
func ParseUint32Control(p []byte) (uint32, error) {
	if len(p) < 4 {
		return 0, fmt.Errorf("control message: %w", ErrBufferTooShort)
	}
	return binary.BigEndian.Uint32(p), nil
}
