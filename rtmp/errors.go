package rtmp

import "errors"

// Sentinel errors. Limit errors are wrapped with the limit's name and values.
var (
	// ErrClosed is returned by Conn methods after Close.
	ErrClosed = errors.New("rtmp: connection closed")
	// ErrQueueFull is returned by WriteMessage when the write queue is full
	// and no queued media message could be dropped to make room.
	ErrQueueFull = errors.New("rtmp: write queue full")
	// ErrIdleTimeout closes a connection that sent nothing for ReadTimeout.
	ErrIdleTimeout = errors.New("rtmp: read idle timeout")
	// ErrLimit is a server limit (connections in total or per IP) being hit.
	ErrLimit = errors.New("rtmp: limit reached")
)
