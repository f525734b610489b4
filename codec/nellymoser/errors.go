package nellymoser

import (
	"fmt"

	"github.com/flashvox/flashvox/codec"
)

var (
	// ErrPacketSize is returned for a packet that is not a whole number of
	// 64-byte blocks; it wraps codec.ErrCorrupt.
	ErrPacketSize = fmt.Errorf("nellymoser: packet length is not a multiple of 64 bytes: %w", codec.ErrCorrupt)
	// ErrFrameSize is returned when Encode is given other than 256 samples;
	// it wraps codec.ErrFrameSize.
	ErrFrameSize = fmt.Errorf("nellymoser: encoder needs exactly 256 samples: %w", codec.ErrFrameSize)
)

var (
	_ codec.Decoder = (*Decoder)(nil)
	_ codec.Encoder = (*Encoder)(nil)
)
