package call

import (
	"fmt"
	"time"

	"github.com/flashvox/flashvox/account"
)

type state uint8

const (
	stateRinging state = iota + 1
	stateActive
	stateEnded
)

// Call is one call between two users. Its fields are guarded by Service.mu.
type Call struct {
	ID, From, To string
	seq          uint64
	state        state
	callerDevice string
	calleeDevice string
	callerPeer   string // RTMFP peer ids the parties reported
	calleePeer   string
	mode         string    // media mode once answered: ModeRelay or ModeP2P
	fellBack     bool      // answered p2p, switched to relay by P2PFailed
	names        [2]string // [0] the caller publishes, [1] the callee publishes
	timer        *time.Timer
	ext          int             // which party is the gateway's (extNone, extCallee, extCaller)
	leg          Leg             // the gateway's side, when ext != extNone
	rang         bool            // an external callee's ringing was told
	early        bool            // names were issued for early media before the answer
	sig          [2]signalBudget // browser signalling sent by the caller [0] and the callee [1] (signal.go)

	cdr cdrStamps // CDR: start, answer, transports (cdr.go)
}

// Invite places a call from d's user to user to and returns its id. The
// outcome arrives as events: ringing (and incoming for the callee), or
// rejected with reason busy or offline.
func (s *Service) Invite(d *Device, to, peerID string) (string, error) {
	if gw := s.opts.Gateway; gw != nil && gw.Routes(to) {
		return s.inviteExternal(d, gw, to)
	}
	if !account.ValidUserName(to) {
		return "", account.ErrBadUser
	}
	if to == d.User {
		return "", ErrSelfCall
	}
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
	s.seq++
	c := &Call{ID: randomID(12), From: d.User, To: to, seq: s.seq, callerDevice: d.ID, callerPeer: peerID}
	c.cdr.started, c.cdr.fromKind = s.opts.Now(), d.Kind // CDR
	now := s.opts.Now()
	callee := s.users[to]
	log := s.log.With("call", c.ID)
	switch {
	case callee == nil || !callee.Online():
		log.Info("call refused", "from", c.From, "to", to, "reason", ReasonOffline)
		caller.Log.Append(now, Event{Type: EvRejected, Call: c.ID, From: c.From, To: to, Reason: ReasonOffline})
		return c.ID, nil
	case len(callee.calls) > 0:
		log.Info("call refused", "from", c.From, "to", to, "reason", ReasonBusy)
		caller.Log.Append(now, Event{Type: EvRejected, Call: c.ID, From: c.From, To: to, Reason: ReasonBusy})
		return c.ID, nil
	}
	c.state = stateRinging
	s.calls[c.ID] = c
	caller.calls[c.ID] = c
	callee.calls[c.ID] = c
	c.timer = time.AfterFunc(s.opts.RingTimeout, func() { s.noAnswer(c) })
	log.Info("call ringing", "from", c.From, "to", to)
	// No peer ID before the answer: the callee (or anyone ringing as it)
	// must not learn the caller's address unless they talk peer to peer.
	callee.Log.Append(now, Event{Type: EvIncoming, Call: c.ID, From: c.From, To: to})
	caller.Log.Append(now, Event{Type: EvRinging, Call: c.ID, From: c.From, To: to})
	s.presenceLocked(caller)
	s.presenceLocked(callee)
	return c.ID, nil
}

func (s *Service) noAnswer(c *Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.state == stateRinging {
		s.endLocked(c, EvCanceled, ReasonNoAnswer, "")
	}
}

// partyCall finds call id and checks that d's user is a party.
func (s *Service) partyCall(d *Device, id string) (*Call, error) {
	c := s.calls[id]
	if c == nil {
		return nil, ErrNoCall
	}
	if c.From != d.User && c.To != d.User {
		return nil, ErrNotParty
	}
	return c, nil
}

// activePartyCall is partyCall for an established call.
func (s *Service) activePartyCall(d *Device, id string) (*Call, error) {
	c, err := s.partyCall(d, id)
	if err != nil {
		return nil, err
	}
	if c.state != stateActive {
		return nil, errNotEstablished
	}
	return c, nil
}

// Accept answers a ringing call on device d (the callee's). The first
// accept wins; a later one gets ErrAnswered. It returns the accepted event
// as written to the callee's log: the names to publish and play.
func (s *Service) Accept(d *Device, id, peerID string) (Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.partyCall(d, id)
	if err != nil {
		return Event{}, err
	}
	if c.To != d.User || c.ext == extCallee {
		return Event{}, fmt.Errorf("%w: only the callee accepts", ErrState)
	}
	if c.state == stateActive {
		return Event{}, ErrAnswered
	}
	c.state = stateActive
	c.calleeDevice, c.calleePeer = d.ID, peerID
	c.cdr.answered, c.cdr.toKind = s.opts.Now(), d.Kind // CDR
	c.timer.Stop()
	c.names = [2]string{randomID(16), randomID(16)}
	s.streams[c.names[0]] = &grant{call: c, publisher: c.From, player: c.To}
	s.streams[c.names[1]] = &grant{call: c, publisher: c.To, player: c.From}
	now := s.opts.Now()
	c.mode = s.modeLocked(c, d)
	s.answeredLocked(c) // CDR
	s.log.Info("call accepted", "call", c.ID, "device", d.ID, "mode", c.mode)
	base := Event{Type: EvAccepted, Call: c.ID, From: c.From, To: c.To, Mode: c.mode, Device: d.ID}
	toCaller, toCallee := base, base
	toCaller.Publish, toCaller.Play = c.names[0], c.names[1]
	toCallee.Publish, toCallee.Play = c.names[1], c.names[0]
	if c.mode == ModeP2P { // a relayed call hides each party's peer ID (address) from the other
		toCaller.PeerID, toCallee.PeerID = c.calleePeer, c.callerPeer
	}
	if c.ext == extCaller {
		toCaller.Kind = d.Kind
	}
	s.tellLocked(c, c.From, now, toCaller)
	s.users[c.To].Log.Append(now, toCallee)
	return toCallee, nil
}

// Reject refuses a ringing call (callee only). reason may be "busy";
// anything else is reported as "rejected".
func (s *Service) Reject(d *Device, id, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.partyCall(d, id)
	if err != nil {
		return err
	}
	if c.To != d.User {
		return fmt.Errorf("%w: only the callee rejects; the caller hangs up", ErrState)
	}
	if c.state != stateRinging {
		return fmt.Errorf("%w: call is already answered", ErrState)
	}
	if reason != ReasonBusy {
		reason = ReasonRejected
	}
	s.endLocked(c, EvRejected, reason, d.User)
	return nil
}

// Hangup ends a call from either side: before the answer the caller
// cancels (cancelled) and the callee rejects (rejected); after it, bye.
func (s *Service) Hangup(d *Device, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.partyCall(d, id)
	if err != nil {
		return err
	}
	switch {
	case c.state == stateActive:
		s.endLocked(c, EvBye, ReasonHangup, d.User)
	case c.From == d.User:
		s.endLocked(c, EvCanceled, ReasonCanceled, d.User)
	default:
		s.endLocked(c, EvRejected, ReasonRejected, d.User)
	}
	return nil
}

// DTMF sends digits to the other party of an established call.
func (s *Service) DTMF(d *Device, id, digits string) error {
	if !validDTMF(digits) {
		return ErrBadDTMF
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.activePartyCall(d, id)
	if err != nil {
		return err
	}
	other := c.To
	if d.User == c.To {
		other = c.From
	}
	s.tellLocked(c, other, s.opts.Now(), Event{Type: EvDTMF, Call: c.ID, From: c.From, To: c.To, By: d.User, Digits: digits})
	return nil
}

func validDTMF(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !((r >= '0' && r <= '9') || r == '*' || r == '#' || (r >= 'A' && r <= 'D')) {
			return false
		}
	}
	return true
}

// endLocked moves c to ended, revokes its stream names and tells both parties.
func (s *Service) endLocked(c *Call, typ, reason, by string) {
	if c.state == stateEnded {
		return
	}
	c.state = stateEnded
	if c.timer != nil {
		c.timer.Stop()
	}
	for _, n := range c.names {
		delete(s.streams, n)
	}
	delete(s.calls, c.ID)
	s.recordLocked(c, typ, reason, by) // CDR
	s.log.Info("call ended", "call", c.ID, "event", typ, "reason", reason, "by", by, "mode", c.mode, "fell_back", c.fellBack)
	// An answered call's bye says which mode carried the media at the end
	// (relay after a fallback), so the log alone tells the call's record.
	now := s.opts.Now()
	e := Event{Type: typ, Call: c.ID, From: c.From, To: c.To, Reason: reason, By: by, Mode: c.mode}
	for _, name := range []string{c.From, c.To} {
		if c.isExternal(name) {
			c.leg.Event(e)
			continue
		}
		u := s.users[name]
		delete(u.calls, c.ID)
		u.Log.Append(now, e)
	}
	for _, name := range []string{c.From, c.To} {
		if !c.isExternal(name) {
			s.presenceLocked(s.users[name])
		}
	}
}
