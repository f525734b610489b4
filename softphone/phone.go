// Package phone is the headless phone: it speaks the real protocol of the
// RTMP phone application (connect with user and password or token, invite
// or answer, publish and play the issued stream names) with real codecs,
// for tests, load and scripting. `flashvox client` is its command line.
package softphone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/message"
)

// SampleRate is the rate of the PCM a phone sends and records.
const SampleRate = 16000

// Options configure one phone call.
type Options struct {
	Server   string        // rtmp://HOST[:PORT]/phone, or rtmfp://HOST[:PORT]/phone
	User     string        // user name
	Secret   string        // password, or a token ("v1.…")
	Codec    codec.ID      // codec.Speex or codec.Nellymoser (default Speex)
	Mic      []int16       // 16 kHz mono sent as the microphone, looped; nil sends silence
	Duration time.Duration // hang up after this long; 0 waits for the other side
	// SetupTimeout bounds ringing (Call) and waiting for a call (Answer); 0: ctx only.
	SetupTimeout time.Duration
	DTMF         string // digits sent once the call is established
	Logger       *slog.Logger
	// P2P (RTMFP only) offers and accepts peer-to-peer calls: the phone
	// publishes for direct connections, plays the far peer by its peer ID
	// and falls back to relay (p2pFailed) when no audio comes over the
	// direct session within P2PTimeout (default DefaultP2PTimeout).
	P2P        bool
	P2PTimeout time.Duration
	// BlockP2P is a test hook: drop every datagram to or from a peer, so
	// the direct session never comes up.
	BlockP2P bool
	// OnSend and OnHear, if set, are told the timestamp of every audio
	// message sent and heard, with the local time (delay measurements).
	OnSend, OnHear func(ts uint32, at time.Time)
}

// Result is how a call went.
type Result struct {
	Call  string
	Heard []int16 // what the phone heard, 16 kHz mono, in arrival order
	// End is the event that ended the call (onBye, onRejected, onCancelled).
	End    *amf.Object
	Digits string // DTMF received
	// Holds are the far party's holds and resumes in order ("hold
	// sendonly", "unhold"), at most maxHolds.
	Holds []string
	// Media is what carried the call's audio: MediaP2P or MediaRelay.
	Media string
	// Established: the call was answered (Failover never redoes it).
	Established bool
}

// Errors of a call that did not go as asked.
var (
	ErrNotEstablished = errors.New("phone: call was not established")
	ErrAbnormalEnd    = errors.New("phone: call ended abnormally")
)

// event is one server push.
type event struct {
	method string
	obj    *amf.Object
}

// phone is one connection; the rtmp.Client's dispatch goroutine feeds
// events and audio, the caller's goroutine owns the rest.
type phone struct {
	opts   Options
	log    *slog.Logger
	c      *rtmp.Client
	events chan event
	audio  chan *message.Message

	mc       *rtmfp.Conn   // the RTMFP session with the server (nil over RTMP)
	direct   *directPub    // P2P: peers playing us directly
	relayPub atomic.Uint32 // the server stream we publish on (0: none yet)
}

func dial(ctx context.Context, o Options) (*phone, error) {
	if o.Codec == 0 {
		o.Codec = codec.Speex
	}
	if o.Codec != codec.Speex && o.Codec != codec.Nellymoser {
		return nil, fmt.Errorf("phone: codec %s: use speex or nellymoser", o.Codec)
	}
	p := &phone{opts: o, log: o.Logger, events: make(chan event, 256), audio: make(chan *message.Message, 512)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	var peers rtmfp.Handler
	if o.P2P {
		p.direct = newDirectPub(p.log)
		peers = p.direct
	}
	c, mc, err := connectServer(ctx, o.Server, rtmp.ClientOptions{
		ConnectArgs: []any{o.User, o.Secret},
		Logger:      p.log,
		OnCommand: func(cmd *message.Command, _ *message.Message) {
			if len(cmd.Args) == 0 {
				return
			}
			if obj, ok := cmd.Args[0].(*amf.Object); ok {
				if cmd.Name == "onSessionEnd" { // the token expired or was revoked: the server closes next
					p.log.Warn("session ended by the server", "reason", obj.GetString("reason"), "description", obj.GetString("description"))
				}
				select {
				case p.events <- event{cmd.Name, obj}:
				default:
					p.log.Warn("event dropped: phone is not reading", "method", cmd.Name)
				}
			}
		},
		OnMessage: func(m *message.Message) {
			if m.Type == message.TypeAudio && len(m.Payload) >= 2 {
				p.onAudio(m)
			}
		},
	}, peers, o.BlockP2P)
	if err != nil {
		return nil, fmt.Errorf("%w %s as %s: %w", ErrConnect, o.Server, o.User, err)
	}
	p.c, p.mc = c, mc
	if p.mc == nil {
		p.direct = nil // P2P needs RTMFP
	}
	if p.direct != nil {
		if err := p.announce(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return p, nil
}

func (p *phone) onAudio(m *message.Message) {
	if p.opts.OnHear != nil {
		p.opts.OnHear(m.Timestamp, time.Now())
	}
	select {
	case p.audio <- m:
	default: // the decoder fell behind: lose audio, never stall the connection
	}
}

// peerArgs is invite's and accept's options object: our peer ID when we
// offer peer-to-peer.
func (p *phone) peerArgs() []any {
	if p.direct == nil {
		return nil
	}
	return []any{amf.NewObject("peerId", p.mc.NearID())}
}

func (p *phone) close() { p.c.Close() }

func (p *phone) setupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if p.opts.SetupTimeout > 0 {
		return context.WithTimeout(ctx, p.opts.SetupTimeout)
	}
	return context.WithCancel(ctx)
}

func (p *phone) call(ctx context.Context, name string, args ...any) (*amf.Object, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := p.c.Call(ctx, name, args...)
	if err != nil {
		return nil, fmt.Errorf("phone: %s: %w", name, err)
	}
	o, _ := firstArg(res).(*amf.Object)
	return o, nil
}

func firstArg(c *message.Command) any {
	if len(c.Args) > 0 {
		return c.Args[0]
	}
	return nil
}

// next returns the next pushed event for call id ("" for any call),
// skipping presence, or fails when ctx ends or the connection drops.
func (p *phone) next(ctx context.Context, id string) (event, error) {
	for {
		select {
		case e := <-p.events:
			if e.method == "onPresence" || (id != "" && e.obj.GetString("call") != id) {
				continue
			}
			return e, nil
		case <-ctx.Done():
			return event{}, ctx.Err()
		case <-p.c.Done():
			return event{}, fmt.Errorf("%w: %w", ErrConnectionLost, p.c.Err())
		}
	}
}

func describe(o *amf.Object) string {
	s := o.GetString("type")
	if r := o.GetString("reason"); r != "" {
		s += ": " + r
	}
	if by := o.GetString("by"); by != "" {
		s += " (by " + by + ")"
	}
	return s
}

// Call places a call to user to, talks until the duration ends (then hangs
// up) or the other side hangs up, and reports what it heard.
// A target "conf:ROOM" joins the conference room instead (see conference).
func Call(ctx context.Context, o Options, to string) (*Result, error) {
	p, err := dial(ctx, o)
	if err != nil {
		return nil, err
	}
	defer p.close()
	if room, ok := conferenceRoom(to); ok {
		return p.conference(ctx, room)
	}
	res, err := p.call(ctx, "invite", append([]any{to}, p.peerArgs()...)...)
	if err != nil {
		return nil, err
	}
	r := &Result{Call: res.GetString("call")}
	sctx, cancel := p.setupContext(ctx)
	defer cancel()
	for {
		e, err := p.next(sctx, r.Call)
		if err != nil {
			_, _ = p.call(ctx, "bye", r.Call) // stop the ringing
			return r, fmt.Errorf("%w: %w", ErrNotEstablished, err)
		}
		switch e.method {
		case "onRinging", "onEarlyMedia":
			p.log.Info("ringing", "call", r.Call, "to", to)
			continue
		case "onAccepted":
			return r, p.talk(ctx, r, e.obj)
		}
		r.End = e.obj
		return r, fmt.Errorf("%w: %s", ErrNotEstablished, describe(e.obj))
	}
}

// Answer waits for an incoming call, accepts it and talks as Call does.
func Answer(ctx context.Context, o Options) (*Result, error) {
	p, err := dial(ctx, o)
	if err != nil {
		return nil, err
	}
	defer p.close()
	var r Result
	sctx, cancel := p.setupContext(ctx)
	defer cancel()
	for {
		e, err := p.next(sctx, "")
		if err != nil {
			return nil, fmt.Errorf("%w: waiting for a call: %w", ErrNotEstablished, err)
		}
		if e.method == "onIncomingCall" {
			r.Call = e.obj.GetString("call")
			p.log.Info("incoming call", "call", r.Call, "from", e.obj.GetString("from"))
			break
		}
	}
	acc, err := p.call(ctx, "accept", append([]any{r.Call}, p.peerArgs()...)...)
	if err != nil {
		return &r, err
	}
	return &r, p.talk(ctx, &r, acc)
}
