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
	// Dial starts the outbound leg of call id from user from to to. An
	// error refuses the call before anything is sent (no dial-plan rule,
	// not permitted, rate limited); its text is what the caller sees.
	// Progress comes back through ExternalRinging, ExternalAnswer and
	// ExternalHangup.
	Dial(id, from, to string) (Leg, error)
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
	leg, err := gw.Dial(c.ID, d.User, to)
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
// It returns the call id, or "" and the reason (offline, busy) when to
// cannot take it; the user's answer or refusal comes to leg.
func (s *Service) InviteExternal(from, to string, leg Leg) (id, reason string, err error) {
	if !account.ValidUserName(to) {
		return "", "", account.ErrBadUser
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", "", fmt.Errorf("%w: server is shutting down", ErrState)
	}
	callee := s.users[to]
	switch {
	case callee == nil || !callee.Online():
		return "", ReasonOffline, nil
	case len(callee.calls) > 0:
		return "", ReasonBusy, nil
	}
	s.seq++
	c := &Call{ID: randomID(12), From: from, To: to, seq: s.seq, state: stateRinging, ext: extCaller, leg: leg}
	s.calls[c.ID] = c
	callee.calls[c.ID] = c
	c.timer = time.AfterFunc(s.opts.RingTimeout, func() { s.noAnswer(c) })
	s.log.Info("external call ringing", "call", c.ID, "from", from, "to", to)
	callee.Log.Append(s.opts.Now(), Event{Type: EvIncoming, Call: c.ID, From: from, To: to})
	s.presenceLocked(callee)
	return c.ID, "", nil
}

// externalCall finds the gateway call id.
func (s *Service) externalCall(id string) (*Call, error) {
	c := s.calls[id]
	if c == nil || c.ext == extNone {
		return nil, ErrNoCall
	}
	return c, nil
}

// activeExternal finds the established gateway call id, the web user to
// tell of what the gateway's party did, and that party (by).
func (s *Service) activeExternal(id string) (c *Call, user, by string, err error) {
	c, err = s.externalCall(id)
	if err != nil {
		return nil, "", "", err
	}
	if c.state != stateActive {
		return nil, "", "", errNotEstablished
	}
	if c.ext == extCallee {
		return c, c.From, c.To, nil
	}
	return c, c.To, c.From, nil
}

// ExternalRinging tells the caller that the called number rings (SIP 180/183).
func (s *Service) ExternalRinging(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.externalCall(id)
	if err != nil {
		return err
	}
	if c.ext != extCallee || c.state != stateRinging || c.rang {
		return nil
	}
	c.rang = true
	s.users[c.From].Log.Append(s.opts.Now(), Event{Type: EvRinging, Call: c.ID, From: c.From, To: c.To})
	return nil
}

// ExternalAnswer establishes an outbound call the called number answered.
// The returned event's Publish and Play are the hub keys the gateway
// publishes the far end's audio to and plays the user's audio from.
func (s *Service) ExternalAnswer(id string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.externalCall(id)
	if err != nil {
		return Event{}, err
	}
	if c.ext != extCallee || c.state != stateRinging {
		return Event{}, fmt.Errorf("%w: call is not ringing", ErrState)
	}
	c.state = stateActive
	c.timer.Stop()
	if !c.early {
		s.issueNamesLocked(c)
	}
	s.log.Info("external call answered", "call", c.ID)
	c.mode = ModeRelay
	e := Event{Type: EvAccepted, Call: c.ID, From: c.From, To: c.To, Mode: ModeRelay,
		Publish: c.names[0], Play: c.names[1], Device: c.callerDevice}
	s.users[c.From].Log.Append(s.opts.Now(), e)
	e.Publish, e.Play = s.opts.StreamPrefix+c.names[1], s.opts.StreamPrefix+c.names[0]
	return e, nil
}

// issueNamesLocked grants c's two stream names.
func (s *Service) issueNamesLocked(c *Call) {
	c.names = [2]string{randomID(16), randomID(16)}
	s.streams[c.names[0]] = &grant{call: c, publisher: c.From, player: c.To}
	s.streams[c.names[1]] = &grant{call: c, publisher: c.To, player: c.From}
}

// ExternalEarlyMedia issues the call's stream names before the answer of
// a ringing outbound call whose far end sends audio (SIP 183 with SDP),
// tells the caller (early_media, with the name to play) and returns the
// hub key the gateway publishes the far end's audio to. The call keeps
// ringing; ExternalAnswer keeps the same names.
func (s *Service) ExternalEarlyMedia(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.externalCall(id)
	if err != nil {
		return "", err
	}
	if c.ext != extCallee || c.state != stateRinging {
		return "", fmt.Errorf("%w: call is not ringing", ErrState)
	}
	if !c.early {
		c.early = true
		s.issueNamesLocked(c)
	}
	s.users[c.From].Log.Append(s.opts.Now(), Event{Type: EvEarlyMedia, Call: c.ID, From: c.From, To: c.To, Play: c.names[1]})
	return s.opts.StreamPrefix + c.names[1], nil
}

// ExternalHold tells the user of an established call that the gateway's
// party put it on hold (held, reason sendonly or inactive) or resumed it.
func (s *Service) ExternalHold(id string, held bool, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, user, by, err := s.activeExternal(id)
	if err != nil {
		return err
	}
	e := Event{Type: EvUnhold, Call: c.ID, From: c.From, To: c.To, By: by}
	if held {
		e.Type, e.Reason = EvHold, reason
	}
	s.users[user].Log.Append(s.opts.Now(), e)
	return nil
}

// ExternalHangup ends call id from the gateway's side: a failed or
// refused outbound call (rejected with reason), a caller's CANCEL
// (cancelled), or a BYE (bye). reason is shown to the user.
func (s *Service) ExternalHangup(id, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.externalCall(id)
	if err != nil {
		return err
	}
	by := c.To
	if c.ext == extCaller {
		by = c.From
	}
	switch {
	case c.state == stateActive:
		s.endLocked(c, EvBye, reason, by)
	case c.ext == extCallee:
		s.endLocked(c, EvRejected, reason, by)
	default:
		s.endLocked(c, EvCanceled, reason, by)
	}
	return nil
}

// ExternalDTMF tells the user of an established call the digits the
// gateway's party sent.
func (s *Service) ExternalDTMF(id, digits string) error {
	if !validDTMF(digits) {
		return ErrBadDTMF
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, user, by, err := s.activeExternal(id)
	if err != nil {
		return err
	}
	s.users[user].Log.Append(s.opts.Now(), Event{Type: EvDTMF, Call: c.ID, From: c.From, To: c.To, By: by, Digits: digits})
	return nil
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
