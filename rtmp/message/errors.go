package message

import "errors"

// Sentinel errors. Their text keeps the "rtmp:" prefix the logs have always
// shown: this package is RTMP's message layer, split out of package rtmp.
var (
	// ErrBufferTooShort is a message payload shorter than its format needs.
	ErrBufferTooShort = errors.New("rtmp: buffer too short")
	// ErrNotCommand is ParseCommand given a message that is not type 17 or 20.
	ErrNotCommand = errors.New("rtmp: not a command message")
	// ErrBadCommand is a command whose name or transaction id is malformed.
	ErrBadCommand = errors.New("rtmp: malformed command")
	// ErrBadAggregate is an aggregate message whose sub-messages overrun it.
	ErrBadAggregate = errors.New("rtmp: malformed aggregate message")
)
