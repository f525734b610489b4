package message

// Message types (RTMP 1.0 §5.4, §7.1).
const (
	TypeSetChunkSize     uint8 = 1
	TypeAbort            uint8 = 2
	TypeAck              uint8 = 3
	TypeUserControl      uint8 = 4
	TypeWindowAckSize    uint8 = 5
	TypeSetPeerBandwidth uint8 = 6
	TypeAudio            uint8 = 8
	TypeVideo            uint8 = 9
	TypeDataAMF3         uint8 = 15
	TypeSharedObjectAMF3 uint8 = 16
	TypeCommandAMF3      uint8 = 17
	TypeDataAMF0         uint8 = 18
	TypeSharedObjectAMF0 uint8 = 19
	TypeCommandAMF0      uint8 = 20
	TypeAggregate        uint8 = 22
)

// Chunk stream ids used when a Message leaves ChunkStreamID at 0.
const (
	CSIDControl uint32 = 2
	CSIDCommand uint32 = 3
	CSIDAudio   uint32 = 4
	CSIDData    uint32 = 5
	CSIDVideo   uint32 = 6
)

// Message is one reassembled RTMP message. Payload is owned by whoever holds
// the Message once it is returned by a reader; a Message given to a writer
// must not be modified afterwards (its Payload may be shared by many conns).
type Message struct {
	Type          uint8
	Timestamp     uint32
	StreamID      uint32
	ChunkStreamID uint32
	Payload       []byte
}

// IsMedia reports whether m is audio or video, the messages a full write
// queue may drop.
func (m *Message) IsMedia() bool {
	return m.Type == TypeAudio || m.Type == TypeVideo
}

// IsControl reports whether m is a protocol control message (types 1-6).
func (m *Message) IsControl() bool {
	return m.Type >= TypeSetChunkSize && m.Type <= TypeSetPeerBandwidth
}
