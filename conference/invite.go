package conference

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/media"
)

// NumberDialer calls a phone number for a room (package sipbridge: the
// dial plan and a trunk, as the outbound calls of users). It returns at
// once; an error refuses before anything is sent. When the number answers,
// the dialer calls join and carries the call as that member's audio until
// the call or the membership ends; when the call fails instead (no answer,
// a final non-2xx, unreachable) it calls failed once with the reason, so
// that the moderators are told (EvInviteFailed). by is the moderator who
// invited.
type NumberDialer func(number, by string, join func() (*Member, error), failed func(reason string)) error

// Ringer rings users a moderator invites (package call's Service): the
// invitation is a call from "conf:ROOM" whose progress comes to leg; the
// room hangs it up through the returned handle when the member leaves.
type Ringer interface {
	InviteExternal(from, to string, leg call.Leg) (x call.External, reason string, err error)
}

// KindCall is a user invited into a room who answered on a call device:
// the device hears one stream, so the room is mixed (like a SIP member).
const KindCall = "call"

// IsNumber reports whether an invitation target is a phone number
// (digits, optionally with a leading +) rather than a user name.
func IsNumber(target string) bool {
	if len(target) == 0 || len(target) > 32 {
		return false
	}
	for i := 0; i < len(target); i++ {
		c := target[i]
		if !(c >= '0' && c <= '9' || c == '+' && i == 0) {
			return false
		}
	}
	return target != "+"
}

// Invite has a moderator bring target into room: a phone number is called
// (Options.Dialer) and joins as a SIP member when it answers; a user is
// rung on all its devices like a call from "conf:ROOM" and joins as a
// KindCall member when it accepts, hearing the room's mix on the call's
// stream. The invited skip the room's PIN and lock (the moderator vouched
// for them). Invite returns once the ringing starts; a failure later (no
// answer, busy, rejected, a SIP error) is told to the room's moderators as
// EvInviteFailed.
func (s *Service) Invite(by, room, target string) error {
	s.mu.Lock()
	r, _, err := s.lookup(room, "")
	owner := ""
	if r != nil {
		owner = r.owner
	}
	s.mu.Unlock()
	switch {
	case err != nil:
		return err
	case owner != "": // not forwarded yet (docs/CLUSTER.md)
		return fmt.Errorf("%w: the room is held by node %s", ErrCannotInvite, owner)
	case !r.isModerator(by):
		return ErrNotModerator
	case IsNumber(target):
		dial := s.opts.Dialer
		if dial == nil {
			return fmt.Errorf("%w: no SIP dial-out", ErrCannotInvite)
		}
		join := func() (*Member, error) {
			m, _, err := s.join(room, JoinOptions{User: "sip:" + target, Kind: KindSIP}, true)
			if err != nil {
				r.inviteFailed(target, by, joinFailReason(err))
			}
			return m, err
		}
		failed := func(reason string) { r.inviteFailed(target, by, reason) }
		if err := dial(target, by, join, failed); err != nil {
			return fmt.Errorf("%w: %w", ErrCannotInvite, err)
		}
		r.log.Info("number invited", "number", target, "by", by)
		return nil
	case account.ValidUserName(target):
		return s.inviteUser(r, target, by)
	}
	return fmt.Errorf("%w: %q is neither a user name nor a number", ErrCannotInvite, target)
}

// inviteUser rings user for room r; see Invite.
func (s *Service) inviteUser(r *room, user, by string) error {
	calls := s.opts.Calls
	if calls == nil {
		return fmt.Errorf("%w: no call service", ErrCannotInvite)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.invites.Add(1) // under mu: Close waits only once closed is set
	s.mu.Unlock()
	leg := newInviteLeg()
	x, reason, err := calls.InviteExternal(TargetPrefix+r.name, user, leg)
	if err == nil && reason != "" {
		err = fmt.Errorf("%s is %s", user, reason)
	}
	if err != nil {
		s.invites.Done()
		return fmt.Errorf("%w: %w", ErrCannotInvite, err)
	}
	log := r.log.With("invited", user, "by", by, "call", x.ID)
	log.Info("user invited, ringing")
	go func() {
		defer s.invites.Done()
		if reason := s.runInvitedUser(r.name, user, x, leg, log); reason != "" {
			r.inviteFailed(user, by, reason)
		}
	}()
	return nil
}

// runInvitedUser waits for the invited user's answer, then carries the
// call's audio to and from the user's membership until one of them ends.
// It returns why the invitation failed, or "" when the user joined (or
// the server stops).
func (s *Service) runInvitedUser(room, user string, x call.External, leg *inviteLeg, log *slog.Logger) (failed string) {
	h := s.opts.Hub
	var acc call.Event
	for acc.Type == "" {
		select {
		case e := <-leg.c:
			switch e.Type {
			case call.EvAccepted:
				acc = e
			case call.EvRejected, call.EvCanceled, call.EvBye:
				log.Info("invitation not answered", "event", e.Type, "reason", e.Reason)
				if e.Reason == "" {
					return e.Type
				}
				return e.Reason
			}
		case <-s.done:
			_ = x.Hangup(ReasonShutdown)
			return ""
		}
	}
	m, _, err := s.join(room, JoinOptions{User: user, Kind: KindCall}, true)
	if err != nil {
		log.Info("invited user answered but cannot join", "err", err)
		_ = x.Hangup("conference_" + ReasonEnded)
		return joinFailReason(err)
	}
	// The user's device publishes acc.Play and plays acc.Publish: its
	// audio goes to the member's stream, the member's mix to the device.
	pub, err := h.Publish(m.PublishKey())
	if err != nil {
		log.Info("invited user's audio cannot be published", "err", err)
		m.Gone()
		_ = x.Hangup("conference_failed")
		return ReasonFailed
	}
	defer pub.Close()
	mixPub, err := h.Publish(acc.Publish)
	if err != nil {
		log.Info("room mix cannot be sent to the invited user", "err", err)
		m.Gone()
		_ = x.Hangup("conference_failed")
		return ReasonFailed
	}
	defer mixPub.Close()
	// Receivers may write to another stream's publisher (see gate).
	forward := func(to *media.Publisher) media.ReceiverFunc {
		return func(f *media.Frame) {
			if f.Kind == media.KindAudio {
				to.Write(f)
			}
		}
	}
	in := h.Subscribe(acc.Play, forward(pub))
	defer in.Close()
	out := h.Subscribe(m.PlayKey(), forward(mixPub))
	defer out.Close()
	log.Info("invited user joined", "member", m.ID)
	for {
		select {
		case e := <-leg.c:
			if e.Type == call.EvBye || e.Type == call.EvCanceled || e.Type == call.EvRejected {
				log.Info("invited user hung up", "reason", e.Reason)
				m.Leave()
				return ""
			}
		case <-m.Done():
			_ = x.Hangup("conference_left")
			return ""
		}
	}
}

// joinFailReason is the invite_failed reason of an invited target that
// answered but could not join.
func joinFailReason(err error) string {
	if errors.Is(err, ErrRoomFull) {
		return ReasonRoomFull
	}
	return ReasonFailed
}

// inviteFailed tells r's moderators and the inviter (if they are members)
// that target's invitation failed. A room that ended meanwhile has nobody
// to tell.
func (r *room) inviteFailed(target, by, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := Event{Type: EvInviteFailed, Time: r.svc.opts.Now(), Room: r.name, User: target, Reason: reason, By: by}
	told := 0
	for _, m := range r.members {
		if m.User == by || slices.Contains(r.moderators, m.User) {
			m.tell(e)
			told++
		}
	}
	r.log.Info("invitation failed", "target", target, "by", by, "reason", reason, "told", told)
}

// inviteLeg is the call.Leg of an invitation: events queued for
// runInvitedUser. The call service calls Event with its lock held, so it
// never blocks; an invitation gets a handful of events, far below the
// queue's size.
type inviteLeg struct{ c chan call.Event }

func newInviteLeg() *inviteLeg { return &inviteLeg{c: make(chan call.Event, 64)} }

// Event queues e (call.Leg).
func (l *inviteLeg) Event(e call.Event) {
	select {
	case l.c <- e:
	default:
	}
}
