package sipbridge

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/media"
)

// hangupTimeout bounds sending BYE.
const hangupTimeout = 5 * time.Second

// runOutbound is the leg of web user from's call x to number to through
// trunk t. It owns the SIP dialog from INVITE to BYE.
func (b *Bridge) runOutbound(x call.External, from, to string, t Trunk, q *eventQueue) {
	id := x.ID
	log := b.log.With("call", id, "to", to, "trunk", t.Name)
	meta := legMeta{call: id, direction: "out", peer: t.Name, party: from, started: b.opts.Now()}
	b.Stats.Attempts.Add(1)
	dialCtx, cancelDial := context.WithCancel(b.ctx)
	defer cancelDial()
	// While the INVITE is pending, a user's hang-up cancels it (CANCEL).
	userEnd, stopWatch := watchUserEnd(q, cancelDial)
	log.Info("sip invite")
	p := gatewayParty{x}
	var early *liveMedia // 183 with SDP: the far end's audio before the answer
	ch, err := b.stack.Invite(dialCtx, invite{
		User: to, HostPort: t.Address, Transport: t.Transport, From: from,
		Username: t.Username, Password: t.Password,
		// A calling phone's codecs first: the trunk's pick passes through.
		Codecs:     orderCodecs(b.trunkCodecs(t), b.legs.offeredBy(from)),
		OnProgress: func(int) { _ = x.Ringing() },
		OnEarlyMedia: func(ch channel) {
			key, err := x.EarlyMedia()
			if err != nil {
				log.Info("early media not played", "err", err)
				return
			}
			log.Info("sip early media", "codec", ch.Codec().ID)
			early = b.startMedia(ch, key, "", p, log)
		},
	})
	stopWatch()
	select {
	case e := <-userEnd:
		log.Info("sip call cancelled by the user", "reason", e.Reason)
		early.stop()
		if ch != nil {
			b.hangup(ch, log)
		}
		b.Stats.fail(487)
		return
	default:
	}
	if err != nil {
		early.stop()
		log.Info("sip call failed", "err", err)
		var se *StatusError
		if errors.As(err, &se) {
			b.Stats.fail(se.Code)
		} else {
			b.Stats.fail(0)
		}
		_ = x.Hangup(callReason(err))
		return
	}
	// Before the answer is told: a calling phone answers with this codec.
	b.legs.setAnswered(id, ch.Codec().ID)
	defer b.legs.forget(id)
	acc, err := x.Answer()
	if err != nil { // the user hung up as the answer came
		log.Info("sip call answered too late", "err", err)
		early.stop()
		b.hangup(ch, log)
		return
	}
	log.Info("sip call established", "codec", ch.Codec().ID, "early_media", early != nil)
	if early != nil {
		early.m.answered <- acc.Play
		b.bridgeLive(ch, early, q, p, meta, log)
		return
	}
	b.bridge(ch, acc.Publish, acc.Play, q, p, meta, log)
}

// watchUserEnd watches q while an INVITE is pending: the user's end of
// the call is put in the returned channel and cancels the dial. stop ends
// the watch and waits for it, so that q's later events go to the bridge.
func watchUserEnd(q *eventQueue, cancelDial context.CancelFunc) (userEnd <-chan call.Event, stop func()) {
	ended := make(chan call.Event, 1)
	stopWatch, watchDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			select {
			case e := <-q.c:
				if isEnd(e) {
					ended <- e
					cancelDial()
					return
				}
			case <-stopWatch:
				return
			}
		}
	}()
	return ended, func() {
		close(stopWatch)
		<-watchDone
	}
}

// liveMedia is a running mediaBridge.
type liveMedia struct {
	m      *mediaBridge
	cancel context.CancelFunc
	done   chan error
}

// stop ends the media and waits for it (nil: nothing runs).
func (l *liveMedia) stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}

// startMedia runs ch's media: the peer's audio published as pubKey, playKey
// ("" until the answer, for early media) sent to it; p is told its DTMF
// and holds.
func (b *Bridge) startMedia(ch channel, pubKey, playKey string, p party, log *slog.Logger) *liveMedia {
	return b.startMediaOn(ch, nil, pubKey, playKey, p, log)
}

// startMediaOn is startMedia with pubKey already published as pub (nil:
// not yet).
func (b *Bridge) startMediaOn(ch channel, pub *media.Publisher, pubKey, playKey string, p party, log *slog.Logger) *liveMedia {
	b.Stats.established(ch.Codec().ID)
	m := &mediaBridge{
		ch: ch, hub: b.opts.Hub, tc: b.opts.Transcoder, pub: pub, pubKey: pubKey, playKey: playKey,
		timeout: b.opts.RTPTimeout, jitter: b.opts.JitterBuffer, stats: &b.Stats, log: log,
		dtmf:     make(chan string, 8),
		answered: make(chan string, 1),
		onDTMF: func(d byte) {
			if err := p.dtmf(d); err != nil {
				log.Debug("dtmf not delivered", "err", err)
			}
		},
		onHold: func(held bool, dir string) {
			// Our recvonly answers the peer's sendonly.
			reason := map[string]string{dirRecvOnly: dirSendOnly, dirInactive: dirInactive}[dir]
			p.hold(held, reason)
		},
	}
	ctx, cancel := context.WithCancel(b.ctx)
	l := &liveMedia{m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { l.done <- m.run(ctx) }()
	return l
}

// bridge runs an established call's media until either side ends it:
// the peer's audio is published as pubKey, playKey is sent to the peer,
// q carries the user side's events and p is told what the SIP side does.
func (b *Bridge) bridge(ch channel, pubKey, playKey string, q *eventQueue, p party, meta legMeta, log *slog.Logger) {
	b.bridgeLive(ch, b.startMedia(ch, pubKey, playKey, p, log), q, p, meta, log)
}

// bridgeLive is bridge with the media already running (early media).
func (b *Bridge) bridgeLive(ch channel, l *liveMedia, q *eventQueue, p party, meta legMeta, log *slog.Logger) {
	b.Stats.Active.Add(1)
	defer b.Stats.Active.Add(-1)
	m, cancel, done := l.m, l.cancel, l.done
	defer cancel()
	answered, reason := b.opts.Now(), ""
	defer func() { b.recordLeg(meta, ch, m, answered, reason) }() // after the media stopped
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
			reason = e.Reason
			cancel()
			<-done
			b.hangup(ch, log)
			return
		case err := <-done:
			reason = call.ReasonHangup
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
