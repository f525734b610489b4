package handshake

import "errors"

// Sentinel errors. Their text keeps the "rtmp:" prefix the logs have always
// shown: this package is the RTMP handshake, split out of package rtmp.
var (
	// ErrFailed is a handshake that could not be completed.
	ErrFailed = errors.New("rtmp: handshake failed")
	// ErrUnsupportedVersion is a C0/S0 byte we do not speak (not 3 or 6).
	ErrUnsupportedVersion = errors.New("rtmp: unsupported protocol version")
)
