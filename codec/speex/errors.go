package speex

import "errors"

// ErrClosed is returned by a Decoder or Encoder used after Close.
var ErrClosed = errors.New("speex: closed")
