package convert

import "errors"

// Errors; branch on them with errors.Is. Files that are not FLV or WAV, or
// damaged, fail with container/flv's and container/wav's errors.
var (
	// ErrNoAudio is returned for an FLV file without audio tags.
	ErrNoAudio = errors.New("convert: no audio")
	// ErrFormat is returned for a file extension or codec convert cannot handle.
	ErrFormat = errors.New("convert: unsupported format")
)
