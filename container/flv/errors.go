package flv

import "errors"

// Errors; branch on them with errors.Is.
var (
	// ErrNotFLV is a file that does not start like an FLV file.
	ErrNotFLV = errors.New("flv: not an FLV file")
	// ErrDamaged is a file whose structure is broken: a tag running past
	// the end of the file, an impossible tag type.
	ErrDamaged = errors.New("flv: damaged file")
	// ErrFormat is what FLV cannot hold or this reader does not read: an
	// encrypted tag, a tag of 16 MiB or more, a duration to rewrite in a
	// file that cannot seek.
	ErrFormat = errors.New("flv: unsupported")
)
