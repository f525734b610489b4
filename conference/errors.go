package conference

import (
	"errors"
	"fmt"
	"time"
)

// Errors of room operations; branch on them with errors.Is.
var (
	ErrBadRoom      = errors.New("conference: room names are 1-64 letters, digits, '.', '_' or '-'")
	ErrNoRoom       = errors.New("conference: no such room")
	ErrRoomFull     = errors.New("conference: room is full")
	ErrTooManyRooms = errors.New("conference: too many rooms")
	ErrLocked       = errors.New("conference: room is locked")
	ErrBadPIN       = errors.New("conference: wrong PIN")
	ErrNotMember    = errors.New("conference: not a member of this room")
	ErrNotModerator = errors.New("conference: only a moderator may do this")
	ErrBadMode      = errors.New("conference: mode must be relay, mixed or auto")
	ErrBadCodec     = errors.New("conference: codec must be speex, nellymoser, pcmu, pcma or opus")
	ErrClosed       = errors.New("conference: service is shutting down")
	ErrStreamDenied = errors.New("conference: stream not issued to this user")
	ErrCannotInvite = errors.New("conference: cannot invite")
)

// ErrThrottled refuses a join from an address that guessed a room's PIN
// wrong too often; the error is a *ThrottledError saying when to retry.
var ErrThrottled = errors.New("conference: too many wrong PINs")

// ThrottledError is a join refused by Options.Throttle.
type ThrottledError struct {
	Retry time.Duration // when the next try may be made
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v, retry in %s", ErrThrottled, e.Retry.Truncate(time.Second)+time.Second)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }
