package rtmfp

import "errors"

// Errors a Conn or Server returns.
var (
	// ErrClosed is returned by a Conn whose session has ended.
	ErrClosed = errors.New("rtmfp: session closed")
	// ErrServerClosed is returned by Serve after the context ends.
	ErrServerClosed = errors.New("rtmfp: server closed")
)

// ErrIdle ends a session that received nothing for the idle timeout.
var ErrIdle = errors.New("rtmfp: idle timeout")

var (
	errNoControlFlow  = errors.New("rtmfp: no control flow from the peer yet")
	errTooManyStreams = errors.New("rtmfp: too many streams")
)

var errUnknownSession = errors.New("rtmfp: unknown session ID")
