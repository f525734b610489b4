package sipbridge

import (
	"log/slog"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/codec"
)

// RemoteRinger rings users connected to other nodes of a cluster for a
// trunk's call to an inbound number that arrived here (the cluster's
// RingRemote). events gets ringing, accepted (Publish: the key the
// caller's audio goes to, Play: the key played to the caller), the end
// (rejected, cancelled, bye with a reason) and DTMF, without blocking.
// false: the user is online on no other node.
type RemoteRinger interface {
	RingRemote(from, to string, events func(call.Event)) (RemoteCall, bool)
}

// RemoteCall is the caller's side of such a call.
type RemoteCall interface {
	Hangup(reason string)
	DTMF(digits string)
	// Hold tells the user that the caller held (reason sendonly or
	// inactive) or resumed the call.
	Hold(held bool, reason string)
}

// remoteParty is the bridge's party of a call to another node's user.
type remoteParty struct{ rc RemoteCall }

func (p remoteParty) hangup(reason string)          { p.rc.Hangup(reason) }
func (p remoteParty) dtmf(d byte) error             { p.rc.DTMF(string(d)); return nil }
func (p remoteParty) hold(held bool, reason string) { p.rc.Hold(held, reason) }

// ringRemote rings user on another node for a trunk's call from (an
// external caller) when this node has no such user online; false: no
// node has them, the caller gets 480 as before.
func (b *Bridge) ringRemote(o offer, user, from string, codecs []codec.ID, log *slog.Logger) bool {
	if b.remote == nil {
		return false
	}
	q := newEventQueue()
	started := b.opts.Now()
	rc, ok := b.remote.RingRemote(from, user, q.Event)
	if !ok {
		return false
	}
	log = log.With("user", user, "remote", true)
	log.Info("sip call ringing a user on another node")
	if err := o.Ringing(); err != nil {
		log.Debug("180 failed", "err", err)
	}
	acc, ok := b.waitAnswer(o, q, func(reason string) { rc.Hangup(reason) }, log)
	if !ok {
		return true
	}
	ch, err := o.AnswerWith(codecs, 0)
	if err != nil {
		log.Info("sip answer failed", "err", err)
		rc.Hangup(callReason(err))
		return true
	}
	log.Info("sip call established", "codec", ch.Codec().ID, "call", acc.Call)
	b.bridge(ch, acc.Publish, acc.Play, q, remoteParty{rc}, legMeta{call: acc.Call, direction: "in", peer: from, party: user, started: started}, log)
	return true
}

// waitAnswer waits for the user's answer to a ringing inbound call and
// answers the caller's refusals (486, 603, 480, 487 for a cancel, 503 on
// shutdown); hangup tells the user's side of a cancel or shutdown.
func (b *Bridge) waitAnswer(o offer, q *eventQueue, hangup func(string), log *slog.Logger) (call.Event, bool) {
	for {
		select {
		case <-o.Canceled():
			log.Info("sip call cancelled by the caller")
			hangup(call.ReasonCanceled)
			b.Stats.fail(487)
			return call.Event{}, false
		case <-b.ctx.Done():
			hangup("shutdown")
			b.respond(o, 503, "Service Unavailable", log)
			return call.Event{}, false
		case e := <-q.c:
			switch {
			case e.Type == call.EvAccepted:
				return e, true
			case e.Type == call.EvRejected && e.Reason == call.ReasonBusy:
				b.respond(o, 486, "Busy Here", log)
				return call.Event{}, false
			case e.Type == call.EvRejected:
				b.respond(o, 603, "Decline", log)
				return call.Event{}, false
			case isEnd(e): // no answer, the user went offline, node lost, shutdown
				b.respond(o, 480, "Temporarily Unavailable", log)
				return call.Event{}, false
			}
		}
	}
}
