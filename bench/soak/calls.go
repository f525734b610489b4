package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// phoneConn is one normal user's connection to the phone application:
// pushed events go to a channel, audio to the track of the current call.
type phoneConn struct {
	user   string
	c      *rtmp.Client
	events chan event
	cur    atomic.Pointer[track]
}

type event struct {
	method string
	obj    *amf.Object
}

func dialPhone(ctx context.Context, url, user string) (*phoneConn, error) {
	p := &phoneConn{user: user, events: make(chan event, 64)}
	c, err := rtmp.Dial(ctx, url, rtmp.ClientOptions{
		ConnectArgs: []any{user, user},
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			for _, a := range cmd.Args {
				if o, ok := a.(*amf.Object); ok {
					select {
					case p.events <- event{cmd.Name, o}:
					default:
					}
					return
				}
			}
		},
		OnMessage: func(m *message.Message) {
			if tr := p.cur.Load(); tr != nil && m.Type == message.TypeAudio && len(m.Payload) > 1 {
				tr.add(time.Now(), m.Timestamp, markerSent(m.Payload))
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", user, err)
	}
	p.c = c
	return p, nil
}

// wait returns the next event named method for call id ("" = any call).
func (p *phoneConn) wait(ctx context.Context, method, id string) (*amf.Object, error) {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case e := <-p.events:
			if e.method == method && (id == "" || e.obj.GetString("call") == id) {
				return e.obj, nil
			}
		case <-t.C:
			return nil, fmt.Errorf("%s: no %s within 10 s", p.user, method)
		case <-p.c.Done():
			return nil, fmt.Errorf("%s: connection lost: %v", p.user, p.c.Err())
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (p *phoneConn) call(ctx context.Context, name string, args ...any) (*amf.Object, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := p.c.Call(ctx, name, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", p.user, name, err)
	}
	if len(res.Args) > 0 {
		if o, ok := res.Args[0].(*amf.Object); ok {
			return o, nil
		}
	}
	return nil, fmt.Errorf("%s: %s: no answer object", p.user, name)
}

// media publishes markers on pub and plays play into tr until ctx ends.
func (p *phoneConn) media(ctx context.Context, pub, playName string, tr *track) error {
	ps, err := p.c.CreateStream(ctx)
	if err != nil {
		return err
	}
	defer p.c.DeleteStream(ps)
	if err := p.c.Publish(ctx, ps, pub, "live"); err != nil {
		return fmt.Errorf("%s: publish: %w", p.user, err)
	}
	ss, err := p.c.CreateStream(ctx)
	if err != nil {
		return err
	}
	defer p.c.DeleteStream(ss)
	p.cur.Store(tr)
	defer p.cur.Store(nil)
	if err := p.c.Play(ctx, ss, playName); err != nil {
		return fmt.Errorf("%s: play: %w", p.user, err)
	}
	return sendMarkers(ctx, p.c, ps)
}

// callStats counts the calls of the normal load.
type callStats struct {
	mu             sync.Mutex
	placed, failed int
	why            []string
	tracks         []*track
}

func (cs *callStats) result(err error, trs ...*track) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.placed++
	cs.tracks = append(cs.tracks, trs...)
	if err != nil {
		cs.failed++
		if len(cs.why) < 10 {
			cs.why = append(cs.why, err.Error())
		}
	}
}

// callLoop has calla<i> call callb<i> again and again, each call talking
// both ways for length, until ctx ends; a lost connection is redialled.
func callLoop(ctx context.Context, url string, i int, length time.Duration, cs *callStats) {
	var a, b *phoneConn
	defer func() {
		for _, p := range []*phoneConn{a, b} {
			if p != nil {
				p.c.Close()
			}
		}
	}()
	for n := 0; ctx.Err() == nil; n++ {
		var err error
		if a == nil || isDone(a.c) {
			a, err = dialPhone(ctx, url, fmt.Sprintf("calla%d", i))
		}
		if err == nil && (b == nil || isDone(b.c)) {
			b, err = dialPhone(ctx, url, fmt.Sprintf("callb%d", i))
		}
		if err != nil {
			if ctx.Err() == nil {
				cs.result(err)
			}
			sleepCtx(ctx, time.Second)
			continue
		}
		ta := newTrack("call", fmt.Sprintf("call%d.%d b→a", i, n), frameDur)
		tb := newTrack("call", fmt.Sprintf("call%d.%d a→b", i, n), frameDur)
		err = oneCall(ctx, a, b, length, ta, tb)
		if ctx.Err() != nil { // the run ended mid-call: not a failure
			cs.mu.Lock()
			cs.tracks = append(cs.tracks, ta, tb)
			cs.mu.Unlock()
			return
		}
		cs.result(err, ta, tb)
		sleepCtx(ctx, 500*time.Millisecond)
	}
}

// oneCall: a invites b, b accepts, both talk for length, a hangs up, b is told.
func oneCall(ctx context.Context, a, b *phoneConn, length time.Duration, ta, tb *track) error {
	inv, err := a.call(ctx, "invite", b.user)
	if err != nil {
		return err
	}
	id := inv.GetString("call")
	if _, err := b.wait(ctx, "onIncomingCall", id); err != nil {
		return err
	}
	accB, err := b.call(ctx, "accept", id)
	if err != nil {
		return err
	}
	accA, err := a.wait(ctx, "onAccepted", id)
	if err != nil {
		return err
	}
	tctx, stop := context.WithTimeout(ctx, length)
	defer stop()
	errs := make(chan error, 2)
	go func() { errs <- a.media(tctx, accA.GetString("publish"), accA.GetString("play"), ta) }()
	go func() { errs <- b.media(tctx, accB.GetString("publish"), accB.GetString("play"), tb) }()
	err = errors.Join(<-errs, <-errs)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := a.c.Call(bctx, "bye", id); err != nil { // answers no object
		return fmt.Errorf("%s: bye: %w", a.user, err)
	}
	_, err = b.wait(ctx, "onBye", id)
	return err
}

func isDone(c *rtmp.Client) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
