// Package media is the hub: named streams, one publisher and many
// subscribers each, fan-out without copying. A subscriber is a Receiver
// called on the publisher's goroutine; one that reads on its own goroutine
// uses a Queue, a bounded ring that loses its oldest frames (counted)
// instead of stalling anyone. It knows nothing of RTMP, calls or SIP.
//
// Transcoding is not the hub's business: media/transcode is an ordinary
// client that subscribes to a stream and publishes its audio in another
// codec on a derived key (DerivedSep).
package media

import "github.com/flashvox/flashvox/codec"

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
	// KindDTMF carries telephone digits sent in the stream (a WebRTC
	// publisher's RFC 4733 events): Payload holds their characters,
	// "0-9*#A-D". Edges that cannot carry them skip the frame.
	KindDTMF
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
	case KindDTMF:
		return "dtmf"
	}
	return "unknown"
}

// Frame is one immutable unit of a stream. Publishers hand frames to the
// hub and never touch them again; subscribers receive the same pointer.
//
// An audio frame says what it is: Codec, Rate and Channels, and Payload is
// one bare codec packet (no FLV sound byte, no RTP header: those belong to
// the edge that speaks them, see codec.SplitFLVAudio and sipbridge). Audio
// whose codec its edge could not name (Codec 0: an FLV SoundFormat flashvox
// does not know, enhanced RTMP's ExHeader) keeps its FLV tag body so that
// RTMP and RTMFP players still get it; every other edge skips it.
//
// Video and data frames, which only RTMP and RTMFP carry (relays of ffmpeg
// or OBS streams), hold their FLV tag body (video) or AMF0 body (data).
type Frame struct {
	Kind  Kind
	Codec codec.ID // audio: the codec of Payload, 0 when unknown
	// Config marks what a late joiner needs before it can decode: an AAC
	// AudioSpecificConfig, an AVC/HEVC sequence header. The hub replays the
	// latest of each kind to every new subscriber.
	Config bool
	// FLV is the FLV sound byte the audio arrived with, when it did; an
	// RTMP/RTMFP edge writes it again (codec.AppendFLVAudio) so that a relay
	// is byte-identical. The hub and other edges ignore it.
	FLV       codec.FLVHint
	Timestamp uint32 // milliseconds
	Rate      int    // audio: PCM rate in Hz; 0 when only the codec's config says (AAC)
	Channels  int    // audio: 1 or 2
	Payload   []byte
}

// FLVAudio is what an FLV audio tag header would say about f (an audio
// frame with a known codec).
func (f *Frame) FLVAudio() codec.FLVAudio {
	return codec.FLVAudio{ID: f.Codec, Rate: f.Rate, Channels: f.Channels, Config: f.Config, Hint: f.FLV}
}
