package sipbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/flashvox/flashvox/call"
	"github.com/pion/rtp"
)

// ConferenceMember is a SIP caller's place in a room (package conference's
// *Member): it publishes the caller's audio to PublishKey and plays its
// "everyone but me" mix from PlayKey; Done closes when it is put out.
type ConferenceMember interface {
	Room() string // the room's name (for the leg's record)
	PublishKey() string
	PlayKey() string
	Done() <-chan struct{}
	Gone()
}

// ConferenceJoiner lets SIP callers into rooms.
type ConferenceJoiner struct {
	// Join puts caller into room as a SIP member with pin ("" = none
	// typed yet). Its error is mapped to the SIP answer: ErrConferenceFull
	// → 486, ErrConferenceRefused → 403, anything else → 480; and
	// ErrConferencePIN answers the call to collect a PIN by DTMF.
	Join func(room, caller, pin string) (ConferenceMember, error)
	// PINTimeout is how long a caller has to type each PIN entry (default
	// 15 s); PINAttempts is how many wrong entries hang up (default 3).
	PINTimeout  time.Duration
	PINAttempts int
}

// Conference join refusals, wrapped by a Join's errors.
var (
	ErrConferenceFull    = errors.New("sip: conference is full")
	ErrConferenceRefused = errors.New("sip: conference refused (locked)")
	ErrConferencePIN     = errors.New("sip: conference needs a PIN")
)

// Why a PIN entry hung up the caller (logged).
var (
	errPINTimeout  = errors.New("no PIN entered in time")
	errPINAttempts = errors.New("wrong PIN too many times")
	errPINNoDTMF   = errors.New("the caller cannot send RFC 4733 DTMF (no telephone-event in its SDP)")
)

// maxPINDigits bounds one PIN entry: a longer one counts as wrong.
const maxPINDigits = 32

// withDefaults fills j's zero PIN settings.
func (j ConferenceJoiner) withDefaults() ConferenceJoiner {
	if j.PINTimeout <= 0 {
		j.PINTimeout = 15 * time.Second
	}
	if j.PINAttempts <= 0 {
		j.PINAttempts = 3
	}
	return j
}

// runConference answers a call to conf:ROOM and bridges it to the
// caller's mix until either side ends it. A room with a PIN answers
// first and lets the caller type it (see collectPIN).
// caller is the member's name: "sip:USER" for an authenticated user,
// "ext:NUMBER" for a trunk's caller.
func (b *Bridge) runConference(o offer, target, caller string, log *slog.Logger) {
	room := strings.TrimPrefix(target, "conf:")
	meta := legMeta{direction: "in", peer: caller, party: target, started: b.opts.Now()}
	conf := b.confs
	if conf.Join == nil {
		log.Info("sip invite to a conference: conferences are off")
		b.respond(o, 480, "Temporarily Unavailable", log)
		return
	}
	log = log.With("room", room)
	m, err := conf.Join(room, caller, "")
	needPIN := errors.Is(err, ErrConferencePIN)
	switch {
	case needPIN:
	case errors.Is(err, ErrConferenceFull):
		b.respond(o, 486, "Busy Here", log)
		return
	case errors.Is(err, ErrConferenceRefused):
		b.respond(o, 403, "Forbidden", log)
		return
	case err != nil:
		log.Info("sip conference join refused", "err", err)
		b.respond(o, 480, "Temporarily Unavailable", log)
		return
	default:
		defer m.Gone()
	}
	ch, err := o.Answer()
	if err != nil {
		log.Info("sip answer failed", "err", err)
		b.Stats.fail(488)
		return
	}
	defer b.hangup(ch, log)
	b.Stats.Active.Add(1)
	defer b.Stats.Active.Add(-1)
	if needPIN {
		if m, err = b.collectPIN(ch, conf, room, caller, log); err != nil {
			log.Info("sip conference caller hung up", "reason", err)
			return
		}
		defer m.Gone()
	}
	log.Info("sip caller joined the conference", "codec", ch.Codec().ID)
	b.conferenceMedia(ch, m, meta, log)
}

// conferenceMedia bridges an established call to member m's audio until
// the call ends or m is put out (kicked, the room ended), and records the
// leg (reason: hangup, room — the member was put out —, shutdown, or the
// media's failure).
func (b *Bridge) conferenceMedia(ch channel, m ConferenceMember, meta legMeta, log *slog.Logger) {
	mb := &mediaBridge{ch: ch, hub: b.opts.Hub, tc: b.opts.Transcoder, pubKey: m.PublishKey(), playKey: m.PlayKey(),
		timeout: b.opts.RTPTimeout, stats: &b.Stats, log: log, dtmf: make(chan string, 1), onDTMF: func(byte) {}}
	answered := b.opts.Now()
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go func() {
		select {
		case <-m.Done(): // kicked, or the room ended
			cancel()
		case <-ctx.Done():
		}
	}()
	err := mb.run(ctx)
	log.Info("sip conference call ended", "err", err)
	reason := call.ReasonHangup
	switch {
	case b.ctx.Err() != nil:
		reason = "shutdown"
	case ctx.Err() != nil:
		reason = "room"
	case !errors.Is(err, errPeerHangup):
		reason = callReason(err)
	}
	b.recordLeg(meta, ch, mb, answered, reason)
}

// collectPIN lets an answered caller type the room's PIN as RFC 4733
// digits ended by '#' ('*' starts the entry over), with no prompt: the
// caller hears silence. Each entry has conf.PINTimeout; a right PIN joins;
// conf.PINAttempts wrong ones, a timeout, the caller's BYE or a refusal
// other than the PIN end it with an error (the caller then gets BYE).
func (b *Bridge) collectPIN(ch channel, conf ConferenceJoiner, room, caller string, log *slog.Logger) (ConferenceMember, error) {
	if !ch.Codec().DTMF {
		return nil, errPINNoDTMF
	}
	log.Info("sip conference caller is asked for the PIN")
	entries := make(chan string)
	verdict := make(chan bool) // true: read the next entry
	readErr := make(chan error, 1)
	go func() { readErr <- readPINs(ch, entries, verdict) }()
	// stop ends the reader without waiting: the caller's hangup (BYE, then
	// the RTP sockets closed) unblocks a ReadRTP in progress.
	stop := func() { close(verdict) }
	timer := time.NewTimer(conf.PINTimeout)
	defer timer.Stop()
	for wrong := 0; ; {
		select {
		case pin := <-entries:
			m, err := conf.Join(room, caller, pin)
			switch {
			case err == nil:
				verdict <- false // the reader returns before media starts
				<-readErr
				return m, nil
			case !errors.Is(err, ErrConferencePIN):
				stop()
				return nil, fmt.Errorf("joining after the PIN: %w", err)
			}
			b.Stats.AuthFailures.Add(1)
			if wrong++; wrong >= conf.PINAttempts {
				stop()
				return nil, fmt.Errorf("%w (%d)", errPINAttempts, wrong)
			}
			log.Info("sip conference caller typed a wrong PIN", "attempt", wrong)
			verdict <- true
			timer.Reset(conf.PINTimeout)
		case <-timer.C:
			stop()
			return nil, fmt.Errorf("%w (%s)", errPINTimeout, conf.PINTimeout)
		case <-ch.Done():
			stop()
			return nil, errPeerHangup
		case err := <-readErr:
			stop()
			return nil, fmt.Errorf("rtp read while waiting for the PIN: %w", err)
		case <-b.ctx.Done():
			stop()
			return nil, b.ctx.Err()
		}
	}
}

// readPINs reads the caller's RTP and sends each PIN entry (the digits
// before '#') on entries, then waits for the verdict: true reads on, false
// or a closed verdict returns nil. Audio packets are dropped.
func readPINs(ch channel, entries chan<- string, verdict <-chan bool) error {
	c := ch.Codec()
	buf := make([]byte, 1500)
	var (
		p   rtp.Packet
		det dtmfDetector
		pin []byte
	)
	for {
		if err := ch.ReadRTP(buf, &p); err != nil {
			return err
		}
		if p.PayloadType != c.DTMFType {
			continue
		}
		d, ok := det.push(p.Timestamp, p.Payload)
		switch {
		case !ok:
			continue
		case d == '*':
			pin = pin[:0]
			continue
		case d != '#':
			if len(pin) <= maxPINDigits {
				pin = append(pin, d)
			}
			continue
		}
		entry := string(pin)
		if len(pin) > maxPINDigits {
			entry = "#" // never a PIN: counted as wrong
		}
		pin = pin[:0]
		select {
		case entries <- entry:
		case <-verdict: // closed: the caller is gone
			return nil
		}
		if more, ok := <-verdict; !more || !ok {
			return nil
		}
	}
}

// confDialTimeout bounds the ringing of a number invited into a room.
const confDialTimeout = 60 * time.Second

// DialConference calls number for a room, at moderator by's invitation
// (conference.NumberDialer): through the trunk of the dial plan's rule
// for number, which must permit by, within by's call rate limit. It
// returns once the call is placed; when the number answers, join makes it
// a member and the call carries the member's audio (mixed) until either
// ends. When the call fails instead, failed gets the reason: "sip 486
// Busy Here" for a final response (callReason), no_answer when nobody
// answered within confDialTimeout, sip_error when the trunk is unreachable.
func (b *Bridge) DialConference(number, by string, join func() (ConferenceMember, error), failed func(reason string)) error {
	rt := b.routes()
	r, ok := route(rt.dialPlan, number)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoRoute, number)
	}
	if !r.permitted(by) {
		return fmt.Errorf("%w: %s", ErrNotPermitted, number)
	}
	if !b.limit.allow(by) {
		return fmt.Errorf("%w: limit %d", ErrRateLimited, b.opts.CallsPerMinute)
	}
	t, ok := rt.trunks[r.Trunk]
	if !ok {
		return fmt.Errorf("%w: trunk %q is not configured", ErrNoRoute, r.Trunk)
	}
	if !b.goLeg(func() { b.runConferenceDial(number, by, t, join, failed) }) {
		return ErrClosed
	}
	return nil
}

func (b *Bridge) runConferenceDial(number, by string, t Trunk, join func() (ConferenceMember, error), failed func(reason string)) {
	log := b.log.With("to", number, "trunk", t.Name, "invited_by", by)
	started := b.opts.Now()
	b.Stats.Attempts.Add(1)
	ctx, cancel := context.WithTimeout(b.ctx, confDialTimeout)
	defer cancel()
	log.Info("sip invite into a conference")
	ch, err := b.stack.Invite(ctx, invite{User: number, HostPort: t.Address, Transport: t.Transport, From: by,
		Username: t.Username, Password: t.Password})
	if err != nil {
		log.Info("sip conference invitation failed", "err", err)
		var se *StatusError
		if errors.As(err, &se) {
			b.Stats.fail(se.Code)
		} else {
			b.Stats.fail(0)
		}
		reason := callReason(err)
		if errors.Is(err, context.DeadlineExceeded) && b.ctx.Err() == nil {
			reason = call.ReasonNoAnswer
		}
		failed(reason)
		return
	}
	defer b.hangup(ch, log)
	m, err := join()
	if err != nil {
		log.Info("sip conference invitation answered but cannot join", "err", err)
		return
	}
	defer m.Gone()
	b.Stats.Active.Add(1)
	defer b.Stats.Active.Add(-1)
	log.Info("sip invited number joined the conference", "codec", ch.Codec().ID)
	b.conferenceMedia(ch, m, legMeta{direction: "out", peer: t.Name, party: "conf:" + m.Room(), started: started}, log)
}
