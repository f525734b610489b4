package convert

import "errors"

// Errors; branch on them with errors.Is.
var (
	// ErrNotFLV is returned for a file that does not start like an FLV file.
	ErrNotFLV = errors.New("convert: not an FLV file")
	// ErrNotWAV is returned for a file that is not 16-bit PCM WAV.
	ErrNotWAV = errors.New("convert: not a 16-bit PCM WAV file")
	// ErrDamaged is returned for a file whose structure is broken (a tag
	// running past the end of the file, an impossible tag type).
	ErrDamaged = errors.New("convert: damaged file")
	// ErrNoAudio is returned for an FLV file without audio tags.
	ErrNoAudio = errors.New("convert: no audio")
	// ErrFormat is returned for a file extension or codec convert cannot handle.
	ErrFormat = errors.New("convert: unsupported format")
)
