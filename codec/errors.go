package codec

import "errors"

// Errors shared by the codec packages; branch on them with errors.Is.
var (
	// ErrUnknownFormat is returned for an FLV SoundFormat or ID flashvox does not know.
	ErrUnknownFormat = errors.New("codec: unknown format")
	// ErrUnsupportedRate is returned when a codec cannot run at the requested sample rate.
	ErrUnsupportedRate = errors.New("codec: unsupported sample rate")
	// ErrNotImplemented is returned for a known codec flashvox cannot decode or encode.
	ErrNotImplemented = errors.New("codec: not implemented")
	// ErrFrameSize is returned by an Encoder given other than FrameSamples samples.
	ErrFrameSize = errors.New("codec: wrong number of samples for one frame")
	// ErrCorrupt is returned by a Decoder for a packet it cannot parse.
	ErrCorrupt = errors.New("codec: corrupt packet")
)
