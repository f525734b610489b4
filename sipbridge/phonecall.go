package sipbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/events"
)

// Calls of SIP phones registered (or authenticated) as users. A phone is
// a device of its user in call.Service, so it takes part in calls exactly
// as a web device does: the bridge acts for it through the same Service
// methods (Invite, Accept, Hangup, DTMF) and learns what happens from the
// user's event log.

// party is the call service's side of an established SIP leg.
type party interface {
	// hangup tells the service the SIP side ended the call.
	hangup(reason string)
	// dtmf tells the other party a digit the SIP side sent.
	dtmf(digit byte) error
	// hold tells the other party the SIP side held (reason sendonly or
	// inactive) or resumed the call.
	hold(held bool, reason string)
}

// gatewayParty is a gateway call (a trunk or an inbound number).
type gatewayParty struct{ x call.External }

func (p gatewayParty) hangup(reason string)          { _ = p.x.Hangup(reason) }
func (p gatewayParty) dtmf(d byte) error             { return p.x.DTMF(string(d)) }
func (p gatewayParty) hold(held bool, reason string) { _ = p.x.Hold(held, reason) }

// deviceParty is a SIP phone's device of a user.
type deviceParty struct {
	calls *call.Service
	dev   *call.Device
	id    string
}

func (p deviceParty) hangup(string) { _ = p.calls.Hangup(p.dev, p.id) }

// hold: a registered phone's hold is not relayed to the other user (the
// call service has no hold for devices); the bridge still stops sending.
func (p deviceParty) hold(bool, string) {}
func (p deviceParty) dtmf(d byte) error {
	return p.calls.DTMF(p.dev, p.id, string(d))
}

// ringPhone rings a registered phone for an incoming call of its user:
// INVITE to its contact, CANCEL when the call is answered elsewhere or
// ends, Accept on 200 (the first device to accept wins; a phone that
// answers second gets BYE).
func (b *Bridge) ringPhone(ctx context.Context, bd *binding, inc call.Event, q *eventQueue) {
	id := inc.Call
	log := b.log.With("call", id, "user", bd.user, "contact", bd.uri)
	ringStart := b.opts.Now()
	b.Stats.Attempts.Add(1)
	dialCtx, cancelDial := context.WithCancel(ctx)
	defer cancelDial()
	stopWatch, watchDone := make(chan struct{}), make(chan struct{})
	var gone call.Event
	go func() {
		defer close(watchDone)
		for {
			select {
			case e := <-q.c:
				if isEnd(e) || (e.Type == call.EvAccepted && e.Device != bd.dev.ID) {
					gone = e
					cancelDial()
					return
				}
			case <-stopWatch:
				return
			}
		}
	}()
	log.Info("sip phone ringing")
	// What a calling phone or trunk offered comes first: pass-through.
	codecs := orderCodecs(b.opts.Codecs, b.legs.offeredBy(inc.From))
	ch, err := b.stack.Invite(dialCtx, invite{URI: bd.uri, Transport: bd.transport, From: inc.From, Codecs: codecs})
	close(stopWatch)
	<-watchDone
	if gone.Type != "" || ctx.Err() != nil {
		log.Info("sip phone stops ringing", "event", gone.Type, "reason", gone.Reason)
		if ch != nil {
			b.hangup(ch, log)
		}
		return
	}
	if err != nil {
		log.Info("sip phone did not answer", "err", err)
		var se *StatusError
		if errors.As(err, &se) {
			b.Stats.fail(se.Code)
			switch se.Code { // the user declined on this phone: the call is refused
			case 486, 600:
				_ = b.calls.Reject(bd.dev, id, call.ReasonBusy)
			case 603:
				_ = b.calls.Reject(bd.dev, id, call.ReasonRejected)
			}
		}
		return
	}
	b.legs.setAnswered(id, ch.Codec().ID) // before the caller is told
	defer b.legs.forget(id)
	acc, err := b.calls.Accept(bd.dev, id, "")
	if err != nil {
		log.Info("sip phone answered too late", "err", err)
		b.hangup(ch, log)
		return
	}
	pub, err1 := b.calls.StreamKey(bd.user, acc.Publish, true)
	play, err2 := b.calls.StreamKey(bd.user, acc.Play, false)
	if err := errors.Join(err1, err2); err != nil {
		log.Info("sip phone call ended as it was answered", "err", err)
		b.hangup(ch, log)
		return
	}
	log.Info("sip phone answered", "codec", ch.Codec().ID)
	b.bridge(ch, pub, play, q, deviceParty{calls: b.calls, dev: bd.dev, id: id},
		legMeta{call: id, direction: "out", peer: bd.user, party: inc.From, started: ringStart}, log)
}

// runPhoneCall places the call of an authenticated SIP phone of user to
// to (a user, or a number through the dial plan) and answers the phone
// when the callee answers. The phone is a device of user for the call.
func (b *Bridge) runPhoneCall(o offer, user, to string, log *slog.Logger) {
	started := b.opts.Now()
	dev := b.calls.Attach(user, call.KindSIP)
	defer b.calls.Detach(dev)
	lg := b.calls.Log(user)
	cursor := lg.Head()
	defer b.legs.setOffered(user, o.Offered())()
	id, err := b.calls.Invite(dev, to, "")
	if err != nil {
		code, reason := inviteErrorStatus(err)
		log.Info("sip phone call refused", "err", err, "code", code)
		b.respond(o, code, reason, log)
		return
	}
	log = log.With("call", id)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	q := newEventQueue()
	go followCall(ctx, lg, cursor, id, q)
	var acc call.Event
wait:
	for {
		select {
		case <-o.Canceled():
			log.Info("sip phone call cancelled by the caller")
			_ = b.calls.Hangup(dev, id)
			b.Stats.fail(487)
			return
		case <-b.ctx.Done():
			_ = b.calls.Hangup(dev, id)
			b.respond(o, 503, "Service Unavailable", log)
			return
		case e := <-q.c:
			switch e.Type {
			case call.EvRinging:
				if err := o.Ringing(); err != nil {
					log.Debug("180 failed", "err", err)
				}
			case call.EvAccepted:
				acc = e
				break wait
			case call.EvRejected, call.EvCanceled, call.EvBye:
				code, reason := endStatus(e.Reason)
				log.Info("sip phone call not answered", "reason", e.Reason, "code", code)
				b.respond(o, code, reason, log)
				return
			}
		}
	}
	pub, err1 := b.calls.StreamKey(user, acc.Publish, true)
	play, err2 := b.calls.StreamKey(user, acc.Play, false)
	if err := errors.Join(err1, err2); err != nil {
		log.Info("sip phone call ended as it was answered", "err", err)
		b.respond(o, 480, "Temporarily Unavailable", log)
		return
	}
	ch, err := o.AnswerWith(b.opts.Codecs, b.legs.answeredCodec(id))
	if err != nil {
		log.Info("sip answer failed", "err", err)
		_ = b.calls.Hangup(dev, id)
		return
	}
	log.Info("sip phone call established", "codec", ch.Codec().ID)
	b.bridge(ch, pub, play, q, deviceParty{calls: b.calls, dev: dev, id: id},
		legMeta{call: id, direction: "in", peer: user, party: to, started: started}, log)
}

// followCall copies the events of call id from lg (from cursor on) to q
// until the call ends or ctx does.
func followCall(ctx context.Context, lg *events.Log, cursor uint64, id string, q *eventQueue) {
	for {
		p, err := lg.Wait(ctx, cursor, 0)
		if err != nil {
			return
		}
		cursor = p.Next
		for _, en := range p.Events {
			e, ok := en.Event.(call.Event)
			if !ok || e.Call != id {
				continue
			}
			q.Event(e)
			if isEnd(e) {
				return
			}
		}
	}
}

// inviteErrorStatus is the SIP answer to a phone's call that the call
// service refused at once.
func inviteErrorStatus(err error) (int, string) {
	switch {
	case errors.Is(err, ErrNoRoute), errors.Is(err, account.ErrBadUser):
		return 404, "Not Found"
	case errors.Is(err, ErrNotPermitted), errors.Is(err, call.ErrSelfCall):
		return 403, "Forbidden"
	case errors.Is(err, ErrRateLimited):
		return 403, "Rate Limited"
	case errors.Is(err, ErrDailyLimit):
		return 403, "Daily Limit Reached"
	case errors.Is(err, call.ErrInCall):
		return 486, "Busy Here"
	}
	return 500, "Server Internal Error"
}

// endStatus is the SIP final response for a call that ended unanswered
// with the call service's reason ("busy", or "sip 486 Busy Here" relayed
// from a trunk).
func endStatus(reason string) (int, string) {
	switch reason {
	case call.ReasonBusy:
		return 486, "Busy Here"
	case call.ReasonRejected:
		return 603, "Decline"
	case call.ReasonOffline, call.ReasonNoAnswer:
		return 480, "Temporarily Unavailable"
	}
	if rest, ok := strings.CutPrefix(reason, "sip "); ok {
		num, text, _ := strings.Cut(rest, " ")
		if code, err := strconv.Atoi(num); err == nil && code >= 400 && code < 700 {
			return code, text
		}
	}
	return 480, fmt.Sprintf("Temporarily Unavailable (%s)", reason)
}
