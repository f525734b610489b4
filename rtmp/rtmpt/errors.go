package rtmpt

import "errors"

// Sentinel errors.
var (
	// ErrBadPath is a request path that is no tunnel command.
	ErrBadPath = errors.New("rtmpt: bad request path")
	// ErrUnknownSession is a session id the tunnel does not know (never
	// issued, closed or expired).
	ErrUnknownSession = errors.New("rtmpt: unknown session")
	// ErrSequence is a sequence number that does not follow the last one.
	ErrSequence = errors.New("rtmpt: sequence number out of order")
	// ErrTooManySessions is an open refused by MaxSessions.
	ErrTooManySessions = errors.New("rtmpt: too many sessions")
	// ErrBodyTooLarge is a body over MaxBody.
	ErrBodyTooLarge = errors.New("rtmpt: body too large")
	// ErrBufferFull is a send whose bytes the RTMP side did not take within
	// the send wait.
	ErrBufferFull = errors.New("rtmpt: session buffer full")
	// ErrClosed is an operation on a closed session.
	ErrClosed = errors.New("rtmpt: session closed")
	// ErrHTTPStatus is a tunnel request answered with other than 200.
	ErrHTTPStatus = errors.New("rtmpt: unexpected HTTP status")
)
