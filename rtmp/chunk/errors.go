package chunk

import "errors"

// Sentinel errors. Limit errors are wrapped with the limit's name and
// values. Their text keeps the "rtmp:" prefix the logs have always shown.
var (
	// ErrMessageTooLarge is a message header declaring more than the
	// reader's maximum message size (or a message too long to write).
	ErrMessageTooLarge = errors.New("rtmp: message too large")
	// ErrOverBudget is a peer holding more unfinished messages than its
	// budget (Reader.SetBudget).
	ErrOverBudget = errors.New("rtmp: over the buffered-bytes budget")
	// ErrTooManyChunkStreams is a peer opening more chunk streams than the
	// reader allows.
	ErrTooManyChunkStreams = errors.New("rtmp: too many chunk streams")
	// ErrInvalidChunkSize is a Set Chunk Size of 0 or with the top bit set.
	ErrInvalidChunkSize = errors.New("rtmp: invalid chunk size")
	// ErrNoPreviousHeader is a type 1-3 chunk on a chunk stream without a type 0.
	ErrNoPreviousHeader = errors.New("rtmp: chunk header refers to unknown chunk stream state")
)

// Chunk sizes.
const (
	// MinSize and MaxSize bound the chunk size; chunks never exceed a
	// message, whose size is 24 bits.
	MinSize = 1
	MaxSize = 1 << 24
	// DefaultSize is the protocol's initial chunk size, both directions.
	DefaultSize = 128
)
