package softphone

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flashvox/flashvox/amf"
)

// ConferencePrefix makes a Call target a conference room: "conf:ROOM".
const ConferencePrefix = "conf:"

// conference joins room and talks in it: it publishes the microphone and
// plays the room's mix (mixed rooms) or every other member's stream (relay
// rooms, following joins, departures and the switch to mixed). It leaves
// when the duration ends or ctx ends, and stops when the room puts it out.
// Result.Call is the member id; Result.End the event that put it out.
func (p *phone) conference(ctx context.Context, room string) (*Result, error) {
	r, pubID, cs, err := p.joinRoom(ctx, room)
	if err != nil {
		return r, err
	}
	mctx, stop := context.WithCancel(ctx)
	defer stop()
	sendErr := make(chan error, 1)
	go func() { sendErr <- p.send(mctx, pubID) }()
	heard := make(chan []int16, 1)
	go func() { heard <- p.hear(mctx) }()
	defer func() {
		stop()
		r.Heard = <-heard
	}()
	var timeout <-chan time.Time
	if p.opts.Duration > 0 {
		t := time.NewTimer(p.opts.Duration)
		defer t.Stop()
		timeout = t.C
	}
	leave := func() error {
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := p.call(lctx, "leaveConference", room)
		return err
	}
	for {
		select {
		case <-timeout:
			return r, leave()
		case <-ctx.Done():
			return r, leave()
		case err := <-sendErr:
			return r, fmt.Errorf("phone: sending audio: %w", err)
		case <-p.c.Done():
			return r, fmt.Errorf("phone: connection lost: %w", p.c.Err())
		case e := <-p.events:
			if e.obj.GetString("room") != room {
				continue
			}
			if done, err := cs.onRoomEvent(ctx, e, r); done || err != nil {
				return r, err
			}
		}
	}
}

// joinRoom joins room, publishes to it and plays what the room says to
// play (its mix, or the other members' streams).
func (p *phone) joinRoom(ctx context.Context, room string) (*Result, uint32, *confStreams, error) {
	// The mix is encoded in our codec from its first frame (it never
	// changes codec), so the ?codec= play below passes it through.
	joined, err := p.call(ctx, "joinConference", room, amf.NewObject("codec", p.opts.Codec.String()))
	if err != nil {
		return nil, 0, nil, err
	}
	if joined == nil {
		return nil, 0, nil, fmt.Errorf("phone: joinConference %s: empty answer", room)
	}
	r := &Result{Call: joined.GetString("member")}
	p.log.Info("joined the conference", "room", room, "member", r.Call, "mode", joined.GetString("mode"))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pubID, err := p.c.CreateStream(sctx)
	if err != nil {
		return r, 0, nil, err
	}
	if err := p.c.Publish(sctx, pubID, joined.GetString("publish"), "live"); err != nil {
		return r, 0, nil, fmt.Errorf("phone: publish: %w", err)
	}
	cs := &confStreams{p: p, playing: map[string]uint32{}}
	if play := joined.GetString("play"); play != "" {
		if err := cs.play(ctx, "", play); err != nil {
			return r, 0, nil, err
		}
	}
	if v, _ := joined.Get("members"); v != nil {
		ms, _ := v.([]any)
		for _, v := range ms {
			if m, ok := v.(*amf.Object); ok && m.GetString("play") != "" {
				if err := cs.play(ctx, m.GetString("id"), m.GetString("play")); err != nil {
					return r, 0, nil, err
				}
			}
		}
	}
	return r, pubID, cs, nil
}

// onRoomEvent follows the room: plays joiners, switches to the mix, stops
// leavers' streams; done when we left or the room ended.
func (cs *confStreams) onRoomEvent(ctx context.Context, e event, r *Result) (done bool, err error) {
	member, play := e.obj.GetString("member"), e.obj.GetString("play")
	switch e.method {
	case "onConferenceJoined":
		if play != "" {
			return false, cs.play(ctx, member, play)
		}
	case "onConferenceMode": // mixed now: the mix replaces the others' streams
		cs.stopAll()
		return false, cs.play(ctx, "", play)
	case "onConferenceLeft":
		if member != r.Call {
			cs.stop(member)
			return false, nil
		}
		r.End = e.obj
		if reason := e.obj.GetString("reason"); reason != "left" && reason != "ended" {
			return true, fmt.Errorf("%w: %s", ErrAbnormalEnd, describe(e.obj))
		}
		return true, nil
	}
	return false, nil
}

// confStreams are the streams a conference member plays, by the member
// they carry ("" for the mix).
type confStreams struct {
	p       *phone
	playing map[string]uint32
}

func (cs *confStreams) play(ctx context.Context, member, name string) error {
	if _, ok := cs.playing[member]; ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id, err := cs.p.c.CreateStream(ctx)
	if err != nil {
		return err
	}
	// The mix comes in our own codec; the others' streams come as sent
	// (hear decodes any codec).
	if member == "" {
		name += "?codec=" + cs.p.opts.Codec.String()
	}
	if err := cs.p.c.Play(ctx, id, name); err != nil {
		return fmt.Errorf("phone: play %s: %w", name, err)
	}
	cs.playing[member] = id
	return nil
}

func (cs *confStreams) stop(member string) {
	if id, ok := cs.playing[member]; ok {
		_ = cs.p.c.DeleteStream(id)
		delete(cs.playing, member)
	}
}

func (cs *confStreams) stopAll() {
	for m := range cs.playing {
		cs.stop(m)
	}
}

// conferenceRoom returns ROOM of a "conf:ROOM" target.
func conferenceRoom(to string) (string, bool) {
	return strings.CutPrefix(to, ConferencePrefix)
}
