package call

import (
	"errors"
	"fmt"
)

// Errors of the call API. Transports map them to their own codes; the text
// is what a client sees.
var (
	ErrNoCall       = errors.New("no such call")
	ErrNotParty     = errors.New("you are not a party of this call")
	ErrState        = errors.New("not possible in the call's current state")
	ErrAnswered     = errors.New("call was answered elsewhere")
	ErrSelfCall     = errors.New("cannot call yourself")
	ErrInCall       = errors.New("you are already in a call")
	ErrBadDTMF      = errors.New("DTMF digits must be 1..32 of 0-9 * # A-D")
	ErrStreamDenied = errors.New("stream name is not issued to you for an active call")
	ErrBadSignal    = errors.New("signal must be 1..16384 bytes")
	ErrSignalLimit  = errors.New("too many signalling messages in this call")
)

// errNotEstablished refuses what needs an answered call.
var errNotEstablished = fmt.Errorf("%w: call is not established", ErrState)
