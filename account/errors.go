package account

import "errors"

// Errors of credential checks. Transports map them to their own codes; the
// text is what a client sees.
var (
	ErrBadCredentials = errors.New("wrong user or password")
	ErrBadToken       = errors.New("malformed token")
	ErrTokenSignature = errors.New("token signature does not match")
	ErrTokenExpired   = errors.New("token expired")
	ErrTokenRevoked   = errors.New("token revoked (logged out)")
	ErrTokenUser      = errors.New("token is for another user")
	ErrThrottled      = errors.New("too many failed attempts from your address")
	ErrBusy           = errors.New("server busy checking passwords; try again")
	ErrBadUser        = errors.New("invalid user name")
)

// Errors of a Directory (AuthOptions.Directory).
var (
	// ErrNoAccount is wrapped by a Directory that has no such user.
	ErrNoAccount = errors.New("no such account")
	// ErrDirectory wraps a Directory's failure (the database is down): the
	// check fails without saying whether the password was right.
	ErrDirectory = errors.New("account directory unavailable")
	// ErrDisabled: the account exists and is disabled.
	ErrDisabled = errors.New("account disabled")
)
