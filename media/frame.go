// Package media is the hub: named streams, one publisher and many
// subscribers each, fan-out without copying, and a bounded queue per
// subscriber so a slow reader loses its oldest frames instead of stalling
// anyone. It knows nothing of RTMP, calls or SIP.
//
// Hub.SubscribeCodec delivers a stream's audio in another codec through one
// shared transcoder per (stream, codec, rate), started by its first
// subscriber and stopped with its last; see transcode.go and Stats.Transcoders.
// Speex streams are decoded from their first frame on, so that a transcoder
// started mid-stream hears what a player from the start hears; see history.go.
package media

// Kind says what a Frame carries.
type Kind uint8

// Frame kinds. Publish and Unpublish are events queued in order with media so
// a player sees "PublishNotify" before the first frame of a new publisher.
const (
	KindAudio Kind = iota + 1
	KindVideo
	KindData
	KindPublish
	KindUnpublish
)

func (k Kind) String() string {
	switch k {
	case KindAudio:
		return "audio"
	case KindVideo:
		return "video"
	case KindData:
		return "data"
	case KindPublish:
		return "publish"
	case KindUnpublish:
		return "unpublish"
	}
	return "unknown"
}

// Frame is one immutable unit of a stream: an FLV tag body (for audio, the
// first byte is the FLV sound format byte) and its timestamp in milliseconds.
// Publishers hand frames to the hub and never touch them again; subscribers
// receive the same pointer.
type Frame struct {
	Kind      Kind
	Timestamp uint32
	Payload   []byte

	// dec is Payload decoded by the publisher's history decoder, for the
	// codecs whose decoders must follow a stream from its first frame
	// (Speex; see history.go). The hub sets it on its own copy of the
	// frame, only while a transcoder reads the stream; read-only. A pointer
	// keeps Frame at 40 bytes for every other frame.
	dec *decoded
}

// decoded is the PCM of one frame.
type decoded struct{ pcm []int16 }

// isAudioConfig reports an AAC sequence header (format 10, packet type 0):
// late joiners need it to decode.
func (f *Frame) isAudioConfig() bool {
	return f.Kind == KindAudio && len(f.Payload) >= 2 && f.Payload[0]>>4 == 10 && f.Payload[1] == 0
}

// isVideoConfig reports an AVC/HEVC sequence header (codec 7 or 12, packet
// type 0) or an enhanced-RTMP sequence start.
func (f *Frame) isVideoConfig() bool {
	if f.Kind != KindVideo || len(f.Payload) < 2 {
		return false
	}
	if f.Payload[0]&0x80 != 0 { // enhanced RTMP: low nibble is the packet type
		return f.Payload[0]&0x0f == 0
	}
	codec := f.Payload[0] & 0x0f
	return (codec == 7 || codec == 12) && f.Payload[1] == 0
}
