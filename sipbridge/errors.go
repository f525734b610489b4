package sipbridge

import (
	"errors"
	"fmt"
)

// Errors of the bridge.
var (
	ErrNoRoute      = errors.New("sip: no dial-plan rule matches this number")
	ErrNotPermitted = errors.New("sip: you may not dial this number")
	ErrRateLimited  = errors.New("sip: too many calls per minute")
	ErrDailyLimit   = errors.New("sip: too many calls today")
	ErrClosed       = errors.New("sip: bridge is closed")
	errRTPTimeout   = errors.New("sip: no RTP from the peer")
	errPeerHangup   = errors.New("sip: the peer hung up")
)

// StatusError is a final non-2xx SIP response to an INVITE.
type StatusError struct {
	Code   int
	Reason string
}

func (e *StatusError) Error() string { return fmt.Sprintf("sip: %d %s", e.Code, e.Reason) }

// callReason is the reason a web user sees when a SIP call ends with err:
// "sip 486 Busy Here" for a SIP status, else a short code.
func callReason(err error) string {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("sip %d %s", se.Code, se.Reason)
	case errors.Is(err, errRTPTimeout):
		return "rtp_timeout"
	}
	return "sip_error"
}
