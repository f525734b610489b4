package sipbridge

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// serveOffer decides an inbound INVITE (on the stack's goroutine, which
// ends the dialog when this returns). Nothing that costs an RTP port or
// rings anyone happens before the caller is known:
//   - an inbound number called from a trunk's address (Trunk.InboundFrom)
//     rings its target as today; the caller is external (externalCaller);
//   - everything else needs a digest login as the From user first (407;
//     the same answers for unknown and known users): then inbound numbers
//     and echo answer, user names ring users and dial-plan numbers go to
//     a trunk, as that user (names and numbers it may not dial get 403,
//     unknown ones 404).
func (b *Bridge) serveOffer(o offer) {
	b.Stats.Attempts.Add(1)
	to := o.ToUser()
	log := b.log.With("from", o.FromUser(), "to", to, "source", o.Source())
	target := b.inboundTarget(to)
	if target != "" {
		if tr := b.trunkFor(o.Source()); tr != "" {
			b.serveTarget(o, target, externalCaller(o.FromUser()), "", b.trunkCodecs(b.routes().trunks[tr]), log.With("trunk", tr))
			return
		}
	}
	user, ok := b.authenticate(o, log)
	if !ok {
		return
	}
	log = log.With("user", user)
	switch {
	case target != "":
		b.serveTarget(o, target, "sip:"+user, user, b.opts.Codecs, log)
	case to == EchoTarget:
		b.runSIPEcho(o, b.opts.Codecs, log)
	default:
		b.servePhoneOffer(o, user, to, log)
	}
}

// serveTarget connects a call to an inbound number's target. caller is
// the name shown; user is the authenticated user placing it ("" for a
// trunk's external caller); codecs is the order its answer picks by.
func (b *Bridge) serveTarget(o offer, target, caller, user string, codecs []codec.ID, log *slog.Logger) {
	flash, codecEcho := codecEchoTarget(target)
	switch {
	case target == EchoTarget:
		b.runSIPEcho(o, codecs, log)
	case codecEcho:
		b.runSIPCodecEcho(o, flash, log)
	case strings.HasPrefix(target, "conf:"):
		b.runConference(o, target, caller, log)
	case user != "":
		b.runPhoneCall(o, user, target, log)
	default:
		b.runInbound(o, target, caller, codecs, log)
	}
}

// servePhoneOffer places an authenticated user's call to a user name or
// a dial-plan number.
func (b *Bridge) servePhoneOffer(o offer, user, to string, log *slog.Logger) {
	_, toTrunk := route(b.routes().dialPlan, to)
	if !toTrunk && !b.isUser(to) {
		log.Info("sip invite to an unknown number")
		b.respond(o, 404, "Not Found", log)
		return
	}
	b.runPhoneCall(o, user, to, log)
}

func (b *Bridge) respond(o offer, code int, reason string, log *slog.Logger) {
	b.Stats.fail(code)
	if err := o.Respond(code, reason); err != nil {
		log.Debug("respond failed", "code", code, "err", err)
	}
}

// runInbound rings user for a trunk's call from (an external caller) and
// bridges the call once answered, with the first of codecs the trunk
// offered (the codec of a phone that answered first).
func (b *Bridge) runInbound(o offer, user, from string, codecs []codec.ID, log *slog.Logger) {
	q := newEventQueue()
	started := b.opts.Now()
	defer b.legs.setOffered(from, o.Offered())()
	x, reason, err := b.calls.InviteExternal(from, user, q)
	switch {
	case err != nil:
		log.Info("sip call refused", "err", err)
		b.respond(o, 480, "Temporarily Unavailable", log)
		return
	case reason == call.ReasonBusy:
		b.respond(o, 486, "Busy Here", log)
		return
	case reason == call.ReasonOffline && b.ringRemote(o, user, from, codecs, log): // cluster: online on another node
		return
	case reason != "":
		b.respond(o, 480, "Temporarily Unavailable", log)
		return
	}
	id := x.ID
	log = log.With("call", id, "user", user)
	log.Info("sip call ringing")
	if err := o.Ringing(); err != nil {
		log.Debug("180 failed", "err", err)
	}
	var acc call.Event
wait:
	for {
		select {
		case <-o.Canceled():
			log.Info("sip call cancelled by the caller")
			_ = x.Hangup(call.ReasonCanceled)
			b.Stats.fail(487)
			return
		case <-b.ctx.Done():
			_ = x.Hangup("shutdown")
			b.respond(o, 503, "Service Unavailable", log)
			return
		case e := <-q.c:
			switch {
			case e.Type == call.EvAccepted:
				acc = e
				break wait
			case e.Type == call.EvRejected && e.Reason == call.ReasonBusy:
				b.respond(o, 486, "Busy Here", log)
				return
			case e.Type == call.EvRejected:
				b.respond(o, 603, "Decline", log)
				return
			case isEnd(e): // no answer, the user went offline, shutdown
				b.respond(o, 480, "Temporarily Unavailable", log)
				return
			}
		}
	}
	// The caller's stream is published, in the codec the answer will
	// name, before the 200 OK: the user may play it (a page's WHEP) while
	// the ACK is on its way, and is given that codec to pass through.
	pub, err := b.opts.Hub.Publish(acc.Publish)
	if err != nil {
		log.Info("sip call's stream taken", "err", err)
		_ = x.Hangup("publish_failed")
		b.respond(o, 500, "Server Internal Error", log)
		return
	}
	pub.DeclareAudioCodec(o.Chooses(codecs, b.legs.answeredCodec(id)))
	ch, err := o.AnswerWith(codecs, b.legs.answeredCodec(id))
	if err != nil {
		pub.Close()
		log.Info("sip answer failed", "err", err)
		_ = x.Hangup(callReason(err))
		return
	}
	log.Info("sip call established", "codec", ch.Codec().ID)
	meta := legMeta{call: id, direction: "in", peer: from, party: user, started: started}
	b.bridgeLive(ch, b.startMediaOn(ch, pub, acc.Publish, acc.Play, gatewayParty{x}, log), q, gatewayParty{x}, meta, log)
}

// runSIPEcho answers (the first of codecs offered) and sends every audio
// packet back until the caller hangs up or goes silent for the RTP timeout.
func (b *Bridge) runSIPEcho(o offer, codecs []codec.ID, log *slog.Logger) {
	ch, err := o.AnswerWith(codecs, 0) // echoed as it is: any codec will do
	if err != nil {
		log.Info("sip answer failed", "err", err)
		b.Stats.fail(488)
		return
	}
	defer b.hangup(ch, log)
	b.Stats.Active.Add(1)
	defer b.Stats.Active.Add(-1)
	log.Info("sip echo answered", "codec", ch.Codec().ID)
	b.Stats.established(ch.Codec().ID)
	c := ch.Codec()
	w := newRTPWriter(ch, c, &b.Stats)
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	readErr := make(chan error, 1)
	go func() {
		buf := make([]byte, 1500)
		var p rtp.Packet
		for {
			if err := ch.ReadRTP(buf, &p); err != nil {
				readErr <- err
				return
			}
			last.Store(time.Now().UnixNano())
			b.Stats.RTPIn.Add(1)
			if p.PayloadType == c.PayloadType || (c.DTMF && p.PayloadType == c.DTMFType) {
				_ = w.send(p.PayloadType, p.Timestamp, p.Marker, p.Payload)
			}
		}
	}()
	tick := time.NewTicker(min(b.opts.RTPTimeout/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ch.Done():
			log.Info("sip echo ended by the caller")
		case err := <-readErr:
			log.Info("sip echo ended", "err", err)
			return
		case <-tick.C:
			if time.Since(time.Unix(0, last.Load())) <= b.opts.RTPTimeout {
				continue
			}
			log.Info("sip echo ended", "err", errRTPTimeout)
		case <-b.ctx.Done():
		}
		_ = ch.Close()
		<-readErr
		return
	}
}

// runWebEcho is the echo extension for a web user: answer at once and
// publish back what the user publishes, untouched.
func (b *Bridge) runWebEcho(x call.External, q *eventQueue) {
	log := b.log.With("call", x.ID, "to", EchoTarget)
	acc, err := x.Answer()
	if err != nil {
		log.Info("echo answer failed", "err", err)
		return
	}
	pub, err := b.opts.Hub.Publish(acc.Publish)
	if err != nil {
		_ = x.Hangup("echo_failed")
		return
	}
	defer pub.Close()
	frames := b.opts.Hub.NewQueue(0)
	sub := b.opts.Hub.Subscribe(acc.Play, frames)
	defer sub.Close()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go func() {
		for {
			select {
			case e := <-q.c:
				if isEnd(e) {
					cancel()
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	log.Info("echo answered")
	for {
		f, err := frames.Next(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				log.Info("echo ended", "err", err)
			}
			if b.ctx.Err() != nil {
				_ = x.Hangup("shutdown")
			}
			return
		}
		if f.Kind == media.KindAudio {
			pub.Write(f)
		}
	}
}
