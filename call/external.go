package call

import (
	"fmt"
	"time"

	"github.com/flashvox/flashvox/account"
)

// Gateway carries calls whose other party is not a user: phone numbers
// through a SIP trunk, SIP phones, the echo test number (package
// sipbridge). The Service calls it with Service.mu held: its methods must
// not block and must not call back into the Service on the same goroutine.
type Gateway interface {
	// Routes reports whether to names the gateway's party (a number,
	// echo) rather than a user.
	Routes(to string) bool
	// Dial starts the outbound leg of call x (x.ID) from user from to to.
	// An error refuses the call before anything is sent (no dial-plan
	// rule, not permitted, rate limited); its text is what the caller
	// sees. Progress comes back through x (Ringing, Answer, Hangup).
	Dial(x External, from, to string) (Leg, error)
}

// External is a gateway's handle on one of its calls, handed out by
// Gateway.Dial and InviteExternal: what the gateway's party does (it
// rings, answers, holds, sends digits, hangs up) reaches the call service
// through it, so the service has no per-call methods for gateways. The
// zero External is no call: its methods return ErrNoCall.
type External struct {
	ID string
	// UserKind is, in Gateway.Dial, the kind of the calling user's device
	// (KindRTMP, KindSIP...): a gateway that carries the call to another
	// server tells it there, for that server's records.
	UserKind string
	s        *Service
}

// Leg is the gateway's side of one call. Event is told what the user side
// does: accepted (the user answered an inbound call; Publish and Play are
// hub keys for the gateway), rejected, cancelled, bye, dtmf. It is called
// with Service.mu held and must not block or call the Service.
type Leg interface {
	Event(e Event)
}

// Which party of a call is the gateway's.
const (
	extNone   = iota
	extCallee // outbound: a user called a number
	extCaller // inbound: a number called a user
)

// Reasons of calls through the gateway.
const (
	// ReasonRTPTimeout ends a call whose SIP peer stopped sending media.
	ReasonRTPTimeout = "rtp_timeout"
)

// inviteExternal places a call from d's user to the gateway's party to.
func (s *Service) inviteExternal(d *Device, gw Gateway, to string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	caller := s.users[d.User]
	if caller == nil || !caller.Has(d) {
		return "", fmt.Errorf("%w: device is gone", ErrState)
	}
	if s.closed {
		return "", fmt.Errorf("%w: server is shutting down", ErrState)
	}
	if len(caller.calls) > 0 {
		return "", ErrInCall
	}
	c := &Call{ID: randomID(12), From: d.User, To: to, callerDevice: d.ID, ext: extCallee}
	c.cdr.started, c.cdr.fromKind, c.cdr.toKind = s.opts.Now(), d.Kind, KindSIP // CDR
	leg, err := gw.Dial(External{ID: c.ID, UserKind: d.Kind, s: s}, d.User, to)
	if err != nil {
		s.log.Info("external call refused", "call", c.ID, "from", d.User, "to", to, "err", err)
		return "", err
	}
	s.seq++
	c.seq, c.leg, c.state = s.seq, leg, stateRinging
	s.calls[c.ID] = c
	caller.calls[c.ID] = c
	c.timer = time.AfterFunc(s.opts.RingTimeout, func() { s.noAnswer(c) })
	s.log.Info("external call dialing", "call", c.ID, "from", c.From, "to", to)
	s.presenceLocked(caller)
	return c.ID, nil
}

// InviteExternal rings user to for a call from the gateway's party from.
// It returns the call's handle, or the zero External and the reason
// (offline, busy) when to cannot take it; the user's answer or refusal
// comes to leg. The call's record names the caller's transport KindSIP.
func (s *Service) InviteExternal(from, to string, leg Leg) (x External, reason string, err error) {
	return s.InviteExternalKind(from, KindSIP, to, leg)
}

// InviteExternalKind is InviteExternal for a caller whose transport is
// kind (a user of another node of a cluster on an RTMP phone: KindRTMP),
// which the call's record and the call listing name.
func (s *Service) InviteExternalKind(from, kind, to string, leg Leg) (x External, reason string, err error) {
	if !account.ValidUserName(to) {
		return External{}, "", account.ErrBadUser
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return External{}, "", fmt.Errorf("%w: server is shutting down", ErrState)
	}
	callee := s.users[to]
	switch {
	case callee == nil || !callee.Online():
		return External{}, ReasonOffline, nil
	case len(callee.calls) > 0:
		return External{}, ReasonBusy, nil
	}
	s.seq++
	c := &Call{ID: randomID(12), From: from, To: to, seq: s.seq, state: stateRinging, ext: extCaller, leg: leg}
	c.cdr.started, c.cdr.fromKind = s.opts.Now(), kind // CDR
	s.calls[c.ID] = c
	callee.calls[c.ID] = c
	c.timer = time.AfterFunc(s.opts.RingTimeout, func() { s.noAnswer(c) })
	s.log.Info("external call ringing", "call", c.ID, "from", from, "to", to)
	callee.Log.Append(s.opts.Now(), Event{Type: EvIncoming, Call: c.ID, From: from, To: to})
	s.presenceLocked(callee)
	return External{ID: c.ID, s: s}, "", nil
}

// isExternal reports whether party name of c is the gateway's.
func (c *Call) isExternal(name string) bool {
	return (c.ext == extCallee && name == c.To) || (c.ext == extCaller && name == c.From)
}

// tellLocked writes e, which happened at at, to party name of c: its user's log, or the gateway's
// leg with hub keys in place of stream names.
func (s *Service) tellLocked(c *Call, name string, at time.Time, e Event) {
	if !c.isExternal(name) {
		s.users[name].Log.Append(at, e)
		return
	}
	if e.Publish != "" {
		e.Publish, e.Play = s.opts.StreamPrefix+e.Publish, s.opts.StreamPrefix+e.Play
	}
	c.leg.Event(e)
}
