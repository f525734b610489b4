package sipbridge

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/flashvox/flashvox/call"
)

// hangupTimeout bounds sending BYE.
const hangupTimeout = 5 * time.Second

// runOutbound is the leg of web user from's call id to number to through
// trunk t. It owns the SIP dialog from INVITE to BYE.
func (b *Bridge) runOutbound(id, from, to string, t Trunk, q *eventQueue) {
	log := b.log.With("call", id, "to", to, "trunk", t.Name)
	b.Stats.Attempts.Add(1)
	dialCtx, cancelDial := context.WithCancel(b.ctx)
	defer cancelDial()
	// While the INVITE is pending, a user's hang-up cancels it (CANCEL).
	userEnd := make(chan call.Event, 1)
	stopWatch, watchDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case e := <-q.c:
				if isEnd(e) {
					userEnd <- e
					cancelDial()
					return
				}
			case <-stopWatch:
				return
			}
		}
	}()
	log.Info("sip invite")
	ch, err := b.stack.Invite(dialCtx, invite{
		User: to, HostPort: t.Address, Transport: t.Transport, From: from,
		Username: t.Username, Password: t.Password,
		OnProgress: func(int) { _ = b.opts.Calls.ExternalRinging(id) },
	})
	close(stopWatch)
	<-watchDone
	select {
	case e := <-userEnd:
		log.Info("sip call cancelled by the user", "reason", e.Reason)
		if ch != nil {
			b.hangup(ch, log)
		}
		b.Stats.fail(487)
		return
	default:
	}
	if err != nil {
		log.Info("sip call failed", "err", err)
		var se *StatusError
		if errors.As(err, &se) {
			b.Stats.fail(se.Code)
		} else {
			b.Stats.fail(0)
		}
		_ = b.opts.Calls.ExternalHangup(id, callReason(err))
		return
	}
	acc, err := b.opts.Calls.ExternalAnswer(id)
	if err != nil { // the user hung up as the answer came
		log.Info("sip call answered too late", "err", err)
		b.hangup(ch, log)
		return
	}
	log.Info("sip call established", "codec", ch.Codec().ID)
	b.bridge(ch, acc.Publish, acc.Play, q, gatewayParty{calls: b.opts.Calls, id: id}, log)
}

// bridge runs an established call's media until either side ends it:
// the peer's audio is published as pubKey, playKey is sent to the peer,
// q carries the user side's events and p is told what the SIP side does.
func (b *Bridge) bridge(ch channel, pubKey, playKey string, q *eventQueue, p party, log *slog.Logger) {
	b.Stats.Active.Add(1)
	defer b.Stats.Active.Add(-1)
	m := &mediaBridge{
		ch: ch, hub: b.opts.Hub, pubKey: pubKey, playKey: playKey,
		timeout: b.opts.RTPTimeout, stats: &b.Stats, log: log,
		dtmf: make(chan string, 8),
		onDTMF: func(d byte) {
			if err := p.dtmf(d); err != nil {
				log.Debug("dtmf not delivered", "err", err)
			}
		},
	}
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.run(ctx) }()
	for {
		select {
		case e := <-q.c:
			switch {
			case e.Type == call.EvDTMF:
				select {
				case m.dtmf <- e.Digits:
				default:
				}
				continue
			case !isEnd(e):
				continue
			}
			log.Info("sip call ended by the user", "reason", e.Reason)
			cancel()
			<-done
			b.hangup(ch, log)
			return
		case err := <-done:
			reason := call.ReasonHangup
			if !errors.Is(err, errPeerHangup) {
				reason = callReason(err)
			}
			log.Info("sip call ended", "reason", reason, "err", err)
			// The user hears of it first: a BYE to a dead peer takes its retransmissions.
			p.hangup(reason)
			if reason != call.ReasonHangup {
				b.hangup(ch, log)
			} else {
				_ = ch.Close()
			}
			return
		}
	}
}

// hangup sends BYE (bounded) and releases the channel.
func (b *Bridge) hangup(ch channel, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), hangupTimeout)
	defer cancel()
	if err := ch.Hangup(ctx); err != nil {
		log.Debug("bye failed", "err", err)
	}
	_ = ch.Close()
}
