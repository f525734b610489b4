package session

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp/message"
)

// player delivers one subscription to the client. Its Receive method is the
// hub receiver: it runs on the producers' goroutines (the publisher's, the hub's
// for events), so its timestamp state is under mu; the flags are set by the
// Serve goroutine.
type player struct {
	s        *Session
	t        Transport // s.t, here so that a frame does not touch the Session
	streamID uint32
	name     string
	key      string               // hub key, for the log
	sub      interface{ Close() } // a *media.Subscriber or *transcode.Subscription
	stopped  atomic.Bool
	paused   atomic.Bool
	noAudio  atomic.Bool
	noVideo  atomic.Bool
	quit     chan struct{} // closed by stopPlay

	mu           sync.Mutex
	wait         playWait // the application's play wait (playwait.go)
	started      bool     // the status messages are out; before, frames wait in pending
	pending      []*media.Frame
	msg          message.Message // reused: WriteMessage copies it
	flv          *flvLast        // FLV audio tag bodies, shared with the stream's other players
	last, offset uint32
	sent, rebase bool

	fb fallback // Opus played as Speex (fallback.go)
}

// play starts a live subscription. Arguments: name, start, duration, reset.
// Any start value plays live (flashvox records nothing to play back yet);
// like FMS, a name nobody publishes yet waits for its publisher, for ever
// or for the application's play wait (playwait.go).
func (s *Session) play(streamID uint32, c *message.Command) error {
	ns := s.streams[streamID]
	if ns == nil {
		return s.onStatus(streamID, errorInfo(codeStreamFailed, "play on a stream that was not created"))
	}
	name, _ := argString(c.Args, 0)
	if name == "" {
		// play(false/null) stops playback.
		s.stopPlay(ns)
		return nil
	}
	if ns.pub != nil {
		return s.onStatus(streamID, errorInfo(codePlayFailed, "This stream is publishing."))
	}
	s.stopPlay(ns) // a new play replaces the current one on this NetStream
	reset := argBool(c.Args, 3, true)
	base, query := splitName(name)
	want, err := parseCodecQuery(query)
	if err != nil {
		s.log.Info("play refused", "name", base, "why", err)
		return s.onStatus(streamID, errorInfo(codePlayFailed, err.Error(), "details", name))
	}
	key, err := s.hookPlay(StreamRequest{Name: base, Args: query, Start: argNumber(c.Args, 1), Duration: argNumber(c.Args, 2), Reset: reset})
	if err == nil {
		err = s.authorizeStream(false, base, query)
	}
	appName := key
	if err == nil {
		key, err = s.appConn.Play(key)
	}
	if err == nil && want.id != 0 {
		if err = s.mayTranscode(); err != nil {
			s.countTranscodeRefused()
		}
	}
	if err != nil {
		s.log.Info("play refused", "name", base, "why", err)
		return s.onStatus(streamID, errorInfo(codePlayFailed, err.Error(), "details", name))
	}
	// Subscribe before telling the client Play.Start, so nothing it
	// publishes elsewhere after that answer is missed; frames arriving in
	// between wait in pending and follow the status messages.
	p := &player{s: s, t: s.t, streamID: streamID, name: name, key: key, quit: make(chan struct{}), wait: playWait{d: s.playWaitOf()}}
	if err = s.subscribe(p, want); err != nil {
		s.log.Warn("play refused", "name", base, "why", err, "max_transcoders", s.opts.MaxTranscoders)
		return s.onStatus(streamID, errorInfo(codePlayFailed, err.Error(), "details", name))
	}
	ns.player = p
	if w, ok := s.appConn.(PlayWatcher); ok {
		if ends := w.PlayEnds(appName); ends != nil {
			go p.revokeOn(ends)
		}
	}
	if err := s.t.WriteMessage(message.UserControl{Event: message.EventStreamBegin, StreamID: streamID}.Message()); err != nil {
		return err
	}
	if reset {
		if err := s.onStatus(streamID, statusInfo(codePlayReset, "Playing and resetting "+name+".", "details", name, "clientid", 1.0)); err != nil {
			return err
		}
	}
	if err := s.onStatus(streamID, statusInfo(codePlayStart, "Started playing "+name+".", "details", name, "clientid", 1.0)); err != nil {
		return err
	}
	// |RtmpSampleAccess lets a SWF read the audio/video data (FMS sends it).
	if err := s.sendData(streamID, "|RtmpSampleAccess", true, true); err != nil {
		return err
	}

	p.start()
	if p.wait.d > 0 {
		p.armWait(s.opts.Hub.Published(key))
	}
	s.log.Info("play", "stream", key, "codec", want.id)
	return nil
}

// subscribe subscribes p to its stream as published, or through the shared
// transcoder of the codec it asked for, and gives it its share of the
// stream's FLV bodies. The codec was validated by parseCodecQuery: only the
// budget (or a server without transcoding) can refuse.
func (s *Session) subscribe(p *player, want codecChoice) error {
	var sub interface{ Close() }
	key := p.key
	if want.id == 0 {
		sub = s.opts.Hub.Subscribe(p.key, p)
	} else {
		if s.opts.Transcoder == nil {
			return errors.New("this server does not transcode")
		}
		x, err := s.opts.Transcoder.Subscribe(p.key, transcode.Target{Codec: want.id, Rate: want.rate, Budget: s.opts.MaxTranscoders}, p)
		if err != nil {
			s.countTranscodeRefused()
			return err
		}
		sub, key = x, transcode.Key(p.key, want.id, want.rate)
	}
	// Before p.start: deliverLocked reads p.flv only once started.
	p.mu.Lock()
	p.flv = s.opts.flv.get(key)
	p.mu.Unlock()
	p.sub = &playSub{sub: sub, share: s.opts.flv, key: key, flv: p.flv}
	return nil
}

// codecChoice is what a player asked for with NAME?codec=C&rate=HZ; the
// zero value means the stream as published.
type codecChoice struct {
	id   codec.ID
	rate int
}

// playRates are the codecs a player may ask for, those FLV can carry, and
// their rates (the first is the default). G.722 has no FLV SoundFormat: the
// SIP bridge gets it from the Go API, transcode.Service.Subscribe.
var playRates = map[codec.ID][]int{
	codec.Nellymoser: {16000, 8000},
	codec.Speex:      {16000},
	codec.PCMU:       {8000},
	codec.PCMA:       {8000},
}

// parseCodecQuery reads codec= and rate= from a play name's query string;
// other parameters (tokens) are the application's business.
func parseCodecQuery(query string) (codecChoice, error) {
	if query == "" {
		return codecChoice{}, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return codecChoice{}, fmt.Errorf("bad query string: %w", err)
	}
	name := q.Get("codec")
	if name == "" {
		if q.Has("rate") {
			return codecChoice{}, errors.New("rate= needs codec=")
		}
		return codecChoice{}, nil
	}
	id, _ := codec.ParseID(name)
	rates, ok := playRates[id]
	if !ok {
		return codecChoice{}, fmt.Errorf("codec=%s: not one of nellymoser, speex, pcmu, pcma", name)
	}
	c := codecChoice{id: id, rate: rates[0]}
	if r := q.Get("rate"); r != "" {
		c.rate, err = strconv.Atoi(r)
		if err != nil || !slices.Contains(rates, c.rate) {
			return codecChoice{}, fmt.Errorf("rate=%s: %s plays at %v Hz", r, id, rates)
		}
	}
	return c, nil
}

// play2 switches streams (dynamic streaming); for live audio it is a play
// of the new name without reset.
func (s *Session) play2(streamID uint32, c *message.Command) error {
	obj, _ := argAt(c.Args, 0).(*amf.Object)
	if obj == nil {
		return s.onStatus(streamID, errorInfo(codePlayFailed, "play2 needs NetStreamPlayOptions"))
	}
	return s.play(streamID, &message.Command{Name: "play", Args: []any{obj.GetString("streamName"), -2.0, -1.0, false}})
}

func argAt(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

func (s *Session) stopPlay(ns *netStream) {
	p := ns.player
	if p == nil {
		return
	}
	ns.player = nil
	close(p.quit)
	p.stopWait()
	p.stopFallback()
	if p.stopped.Swap(true) {
		return // revoked already
	}
	p.sub.Close()
	if s.ctx.Err() == nil {
		_ = s.onStatus(ns.id, statusInfo(codePlayStop, "Stopped playing "+p.name+".", "details", p.name))
	}
}

// revokeOn stops the play when ends closes (its permission ended: a
// conference member kicked) unless the play stops first. The client gets
// NetStream.Play.Stop; the NetStream stays, so a new play is asked again.
func (p *player) revokeOn(ends <-chan struct{}) {
	select {
	case <-ends:
	case <-p.quit:
		return
	}
	p.stopFallback()
	if p.stopped.Swap(true) {
		return
	}
	p.sub.Close()
	p.s.log.Info("play stopped: access ended", "stream", p.key)
	_ = p.s.onStatus(p.streamID, statusInfo(codePlayStop, "Stopped playing "+p.name+": access ended.", "details", p.name))
}

func (s *Session) countTranscodeRefused() {
	if s.opts.Stats != nil {
		s.opts.Stats.TranscodeRefused.Add(1)
	}
}

func (s *Session) pause(streamID uint32, c *message.Command) error {
	ns := s.streams[streamID]
	if ns == nil || ns.player == nil {
		return s.onStatus(streamID, errorInfo(codeStreamFailed, "pause on a stream that is not playing"))
	}
	if argBool(c.Args, 0, true) {
		ns.player.paused.Store(true)
		return s.onStatus(streamID, statusInfo(codePauseNotify, "Pausing "+ns.player.name+"."))
	}
	ns.player.paused.Store(false)
	return s.onStatus(streamID, statusInfo(codeUnpauseNotify, "Unpausing "+ns.player.name+"."))
}

func (s *Session) receive(streamID uint32, c *message.Command) error {
	ns := s.streams[streamID]
	if ns == nil || ns.player == nil {
		return nil
	}
	on := argBool(c.Args, 0, true)
	if c.Name == "receiveAudio" {
		ns.player.noAudio.Store(!on)
	} else {
		ns.player.noVideo.Store(!on)
	}
	return nil
}

func (s *Session) sendData(streamID uint32, vals ...any) error {
	p, err := amf.Encode0(nil, vals...)
	if err != nil {
		return err
	}
	return s.t.WriteMessage(&message.Message{Type: message.TypeDataAMF0, StreamID: streamID, Payload: p})
}

// Receive sends one frame or event to the client (the media.Receiver:
// stopped makes it ignore frames after stopPlay). Timestamps
// are the publisher's, except that a new publisher of the same name
// continues from the last timestamp sent, so they never go backwards.
// Paused or filtered media is skipped, so an unpaused live player resumes at
// the live point.
func (p *player) Receive(f *media.Frame) {
	if p.stopped.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noteLocked(f.Kind)
	if !p.started {
		if len(p.pending) < maxPending {
			p.pending = append(p.pending, f)
		}
		return
	}
	p.deliverLocked(f)
}

// maxPending bounds the frames held between subscribing and Play.Start.
const maxPending = 256

// start sends what arrived while the play was being set up, then lets
// frames through as they come.
func (p *player) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = true
	for _, f := range p.pending {
		p.deliverLocked(f)
	}
	p.pending = nil
}

func (p *player) deliverLocked(f *media.Frame) {
	s := p.s
	switch f.Kind {
	case media.KindPublish:
		_ = s.onStatus(p.streamID, statusInfo(codePlayPublishNotify, p.name+" is now published.", "details", p.name))
		p.rebase = p.sent
		return
	case media.KindUnpublish:
		_ = s.onStatus(p.streamID, statusInfo(codePlayUnpublish, p.name+" is now unpublished.", "details", p.name))
		return
	case media.KindDTMF:
		return // FLV has no DTMF; phone-app calls send digits by command
	}
	if p.paused.Load() || (f.Kind == media.KindAudio && p.noAudio.Load()) || (f.Kind == media.KindVideo && p.noVideo.Load()) {
		return
	}
	if p.rebase {
		p.offset = p.last - f.Timestamp
		p.rebase = false
	}
	ts := f.Timestamp + p.offset
	if p.sent && int32(ts-p.last) < 0 {
		ts = p.last // never backwards, even across a publisher's own jumps
	}
	payload := f.Payload
	if f.Kind == media.KindAudio {
		var ok bool
		if payload, ok = p.flv.audioBody(f); !ok {
			if needsFallback(f) {
				p.startFallback(f) // Opus: heard as Speex (fallback.go)
			}
			return // a codec FLV cannot carry (G.722, Opus)
		}
	}
	p.msg = message.Message{Type: msgType(f.Kind), Timestamp: ts, StreamID: p.streamID, Payload: payload}
	// A full write queue drops the oldest media (or this frame); a closed
	// connection ends the session, whose Serve stops this player.
	if err := p.t.WriteMessage(&p.msg); err != nil {
		return
	}
	p.last, p.sent = ts, true
}

func msgType(k media.Kind) uint8 {
	switch k {
	case media.KindAudio:
		return message.TypeAudio
	case media.KindVideo:
		return message.TypeVideo
	}
	return message.TypeDataAMF0
}
