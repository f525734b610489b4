package call

import "fmt"

// service is x's Service; the zero External gets an empty one, which
// knows no call (ErrNoCall).
func (x External) service() *Service {
	if x.s == nil {
		return &Service{}
	}
	return x.s
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

// Ringing tells the caller that the called number rings (SIP 180/183).
func (x External) Ringing() error {
	s, id := x.service(), x.ID
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

// Answer establishes an outbound call the called number answered.
// The returned event's Publish and Play are the hub keys the gateway
// publishes the far end's audio to and plays the user's audio from.
// The call's record names the callee's transport KindSIP.
func (x External) Answer() (Event, error) { return x.AnswerKind(KindSIP) }

// AnswerKind is Answer for a callee whose transport is kind (a user of
// another node of a cluster: the kind of the device that answered there),
// which the call's record and the call listing name.
func (x External) AnswerKind(kind string) (Event, error) {
	s, id := x.service(), x.ID
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
	c.cdr.answered, c.cdr.toKind = s.opts.Now(), kind // CDR
	if !c.early {
		s.issueNamesLocked(c)
	}
	s.log.Info("external call answered", "call", c.ID)
	c.mode = ModeRelay
	s.answeredLocked(c) // CDR
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

// EarlyMedia issues the call's stream names before the answer of
// a ringing outbound call whose far end sends audio (SIP 183 with SDP),
// tells the caller (early_media, with the name to play) and returns the
// hub key the gateway publishes the far end's audio to. The call keeps
// ringing; Answer keeps the same names.
func (x External) EarlyMedia() (string, error) {
	s, id := x.service(), x.ID
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

// Hold tells the user of an established call that the gateway's
// party put it on hold (held, reason sendonly or inactive) or resumed it.
func (x External) Hold(held bool, reason string) error {
	s, id := x.service(), x.ID
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

// Hangup ends the call from the gateway's side: a failed or
// refused outbound call (rejected with reason), a caller's CANCEL
// (cancelled), or a BYE (bye). reason is shown to the user.
func (x External) Hangup(reason string) error {
	s, id := x.service(), x.ID
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

// DTMF tells the user of an established call the digits the
// gateway's party sent.
func (x External) DTMF(digits string) error {
	s, id := x.service(), x.ID
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
