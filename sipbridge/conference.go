package sipbridge

import (
	"context"
	"errors"
	"log/slog"
	"strings"
)

// ConferenceMember is a SIP caller's place in a room (package conference's
// *Member): it publishes the caller's audio to PublishKey and plays its
// "everyone but me" mix from PlayKey; Done closes when it is put out.
type ConferenceMember interface {
	PublishKey() string
	PlayKey() string
	Done() <-chan struct{}
	Gone()
}

// ConferenceJoiner puts caller into room as a SIP member. Its error is
// mapped to the SIP answer: ErrConferenceFull → 486, ErrConferenceRefused
// → 403, anything else → 480.
type ConferenceJoiner func(room, caller string) (ConferenceMember, error)

// Conference join refusals, wrapped by a ConferenceJoiner's errors.
var (
	ErrConferenceFull    = errors.New("sip: conference is full")
	ErrConferenceRefused = errors.New("sip: conference refused (locked, PIN)")
)

// SetConferences lets inbound numbers with target conf:ROOM join rooms.
// Call it before serving; without it such calls get 480.
func (b *Bridge) SetConferences(j ConferenceJoiner) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.confs = j
}

// runConference answers a call to conf:ROOM and bridges it to the
// caller's mix until either side ends it.
func (b *Bridge) runConference(o offer, target string, log *slog.Logger) {
	room := strings.TrimPrefix(target, "conf:")
	b.mu.Lock()
	join := b.confs
	b.mu.Unlock()
	if join == nil {
		log.Info("sip invite to a conference: conferences are off")
		b.respond(o, 480, "Temporarily Unavailable", log)
		return
	}
	from := o.FromUser()
	if from == "" {
		from = "anonymous"
	}
	m, err := join(room, "sip:"+from)
	switch {
	case errors.Is(err, ErrConferenceFull):
		b.respond(o, 486, "Busy Here", log)
		return
	case errors.Is(err, ErrConferenceRefused):
		b.respond(o, 403, "Forbidden", log)
		return
	case err != nil:
		log.Info("sip conference join refused", "room", room, "err", err)
		b.respond(o, 480, "Temporarily Unavailable", log)
		return
	}
	defer m.Gone()
	log = log.With("room", room)
	ch, err := o.Answer()
	if err != nil {
		log.Info("sip answer failed", "err", err)
		b.Stats.fail(488)
		return
	}
	defer b.hangup(ch, log)
	b.Stats.Active.Add(1)
	defer b.Stats.Active.Add(-1)
	log.Info("sip caller joined the conference", "codec", ch.Codec().ID)
	mb := &mediaBridge{ch: ch, hub: b.opts.Hub, pubKey: m.PublishKey(), playKey: m.PlayKey(),
		timeout: b.opts.RTPTimeout, stats: &b.Stats, log: log, dtmf: make(chan string, 1), onDTMF: func(byte) {}}
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go func() {
		select {
		case <-m.Done(): // kicked, or the room ended
			cancel()
		case <-ctx.Done():
		}
	}()
	log.Info("sip conference call ended", "err", mb.run(ctx))
}
