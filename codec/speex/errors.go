package speex

import "errors"

// ErrClosed is returned by a Decoder or Encoder used after Close.
var ErrClosed = errors.New("speex: closed")

// ErrUnavailable is every NewDecoder and NewEncoder of a binary built
// without cgo (libspeex is a C library).
var ErrUnavailable = errors.New("speex: not available in this build")
