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
	// ErrMessageTooLarge is a message header declaring more than MaxMessageSize.
	ErrMessageTooLarge = errors.New("rtmp: message too large")
	// ErrOverBudget is a peer holding more unfinished messages than its
	// budget (PreConnectBuffer before connect is admitted, MaxBuffered after).
	ErrOverBudget = errors.New("rtmp: over the buffered-bytes budget")
	// ErrTooManyChunkStreams is a peer opening more than MaxChunkStreams.
	ErrTooManyChunkStreams = errors.New("rtmp: too many chunk streams")
	// ErrInvalidChunkSize is a Set Chunk Size of 0 or with the top bit set.
	ErrInvalidChunkSize = errors.New("rtmp: invalid chunk size")
	// ErrNoPreviousHeader is a type 1-3 chunk on a chunk stream without a type 0.
	ErrNoPreviousHeader = errors.New("rtmp: chunk header refers to unknown chunk stream state")
	// ErrLimit is a server limit (connections in total or per IP) being hit.
	ErrLimit = errors.New("rtmp: limit reached")
)
