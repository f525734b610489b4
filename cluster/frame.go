package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// The wire form of a media.Frame between nodes, one NATS message each:
//
//	0     version (frameVersion)
//	1     kind (media.Kind)
//	2     flags: bit 0 Config
//	3     codec (codec.ID)
//	4-5   FLV hint (codec.FLVHint), big endian
//	6-9   timestamp, ms, big endian
//	10-13 rate, Hz, big endian
//	14    channels
//	15-   payload (the rest of the message)
//
// 15 bytes beside a 64-byte Nellymoser block: the NATS subject and header
// cost more than this (see BENCHMARKS.md).
const (
	frameVersion    = 1
	frameHeaderSize = 15
	// MaxFramePayload bounds one frame's payload, below NATS's default
	// 1 MiB message size; bigger frames (a huge video keyframe) are not
	// relayed and are counted.
	MaxFramePayload = 1<<20 - 4096
	maxRate         = 384000
	maxChannels     = 8
	flagConfig      = 1
)

// Errors of UnmarshalFrame.
var (
	errFrameShort   = errors.New("cluster: frame shorter than its header")
	errFrameVersion = errors.New("cluster: unknown frame version")
	errFrameKind    = errors.New("cluster: unknown frame kind")
	errFrameField   = errors.New("cluster: frame field out of range")
	errFrameSize    = errors.New("cluster: frame payload too large")
)

// FrameSize is the encoded size of f.
func FrameSize(f *media.Frame) int { return frameHeaderSize + len(f.Payload) }

// AppendFrame appends the wire form of f to b.
func AppendFrame(b []byte, f *media.Frame) ([]byte, error) {
	if len(f.Payload) > MaxFramePayload {
		return b, fmt.Errorf("%w: %d bytes", errFrameSize, len(f.Payload))
	}
	var flags byte
	if f.Config {
		flags |= flagConfig
	}
	b = append(b, frameVersion, byte(f.Kind), flags, byte(f.Codec))
	b = binary.BigEndian.AppendUint16(b, uint16(f.FLV))
	b = binary.BigEndian.AppendUint32(b, f.Timestamp)
	b = binary.BigEndian.AppendUint32(b, uint32(max(f.Rate, 0)))
	b = append(b, byte(min(max(f.Channels, 0), 255)))
	return append(b, f.Payload...), nil
}

// UnmarshalFrame decodes one frame. Its Payload aliases b (a NATS message
// is not reused, so the frame may keep it). It never panics on any input.
func UnmarshalFrame(b []byte) (*media.Frame, error) {
	if len(b) < frameHeaderSize {
		return nil, errFrameShort
	}
	if b[0] != frameVersion {
		return nil, fmt.Errorf("%w: %d", errFrameVersion, b[0])
	}
	kind := media.Kind(b[1])
	if kind < media.KindAudio || kind > media.KindUnpublish {
		return nil, fmt.Errorf("%w: %d", errFrameKind, b[1])
	}
	if b[2]&^flagConfig != 0 {
		return nil, fmt.Errorf("%w: flags %#x", errFrameField, b[2])
	}
	rate := binary.BigEndian.Uint32(b[10:14])
	if rate > maxRate || b[14] > maxChannels {
		return nil, fmt.Errorf("%w: rate %d, channels %d", errFrameField, rate, b[14])
	}
	payload := b[frameHeaderSize:]
	if len(payload) > MaxFramePayload {
		return nil, fmt.Errorf("%w: %d bytes", errFrameSize, len(payload))
	}
	if (kind == media.KindPublish || kind == media.KindUnpublish) && len(payload) != 0 {
		return nil, fmt.Errorf("%w: %s event with a payload", errFrameField, kind)
	}
	if len(payload) == 0 {
		payload = nil
	}
	return &media.Frame{
		Kind:      kind,
		Config:    b[2]&flagConfig != 0,
		Codec:     codec.ID(b[3]),
		FLV:       codec.FLVHint(binary.BigEndian.Uint16(b[4:6])),
		Timestamp: binary.BigEndian.Uint32(b[6:10]),
		Rate:      int(rate),
		Channels:  int(b[14]),
		Payload:   payload,
	}, nil
}
