package nellymoser

import "errors"

var (
	// ErrPacketSize is returned for a packet that is not a whole number of
	// 64-byte blocks.
	ErrPacketSize = errors.New("nellymoser: packet length is not a multiple of 64 bytes")
	// ErrFrameSize is returned when Encode is given other than 256 samples.
	ErrFrameSize = errors.New("nellymoser: encoder needs exactly 256 samples")
)
