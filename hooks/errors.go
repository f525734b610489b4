package hooks

import (
	"errors"
	"fmt"
)

// Sentinels matched with errors.Is on the errors the hooks return.
var (
	// ErrDenied: the hook answered with a status that refuses (not 2xx or 3xx).
	ErrDenied = errors.New("hooks: denied")
	// ErrUnavailable: the hook could not be asked (connection refused,
	// timeout, a malformed answer). It refuses too: a hook that cannot be
	// reached must not open the door.
	ErrUnavailable = errors.New("hooks: unavailable")
	// ErrBadRedirect: a 3xx whose Location is no usable stream name
	// (an rtmp:// relay target, control characters, too long).
	ErrBadRedirect = errors.New("hooks: bad redirect")
)

// Error is a refusal by one hook. Its text is what the client reads in the
// status description, so it names the hook and the HTTP status but never the
// hook's URL or network details (those go to the log).
type Error struct {
	Hook   string // on_connect, on_publish or on_play
	Status int    // HTTP status; 0 when there was no answer
	Err    error  // ErrDenied, ErrBadRedirect, or the cause wrapped in ErrUnavailable
}

func (e *Error) Error() string {
	switch {
	case errors.Is(e.Err, ErrDenied):
		return fmt.Sprintf("denied by the %s hook (HTTP %d)", e.Hook, e.Status)
	case errors.Is(e.Err, ErrBadRedirect):
		return fmt.Sprintf("the %s hook redirected to an unusable name (HTTP %d)", e.Hook, e.Status)
	}
	return fmt.Sprintf("the %s hook is unavailable", e.Hook)
}

// Unwrap gives the sentinel or the cause.
func (e *Error) Unwrap() error { return e.Err }
