package media

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrBadName is returned by Publish when the name already has a publisher.
var ErrBadName = errors.New("media: stream name already published")

// Stats are the hub's counters, read by the metrics exporter.
type Stats struct {
	Publishers   atomic.Int64
	Subscribers  atomic.Int64
	FramesIn     atomic.Uint64
	FramesOut    atomic.Uint64 // frames queued to subscribers
	BytesIn      atomic.Uint64
	DroppedFrame atomic.Uint64 // frames a slow subscriber lost
	Transcoders  atomic.Int64  // transcoders running now, one per (stream, target codec)
	// BudgetTranscoders are the running transcoders players' ?codec= plays
	// started (SubscribeCodec with a Transcode.Budget), bounded by it.
	BudgetTranscoders atomic.Int64
	// Audio frames into transcoders: decoded (and encoded again), or
	// passed through untouched because they were in the target codec.
	TranscodedFrames    atomic.Uint64
	PassedThroughFrames atomic.Uint64
}

// Hub owns every stream. Its mutex guards the streams map only; each stream
// guards its own publisher and header state, and fan-out reads an immutable
// subscriber slice so publishers take no hub-wide lock per frame.
type Hub struct {
	mu       sync.Mutex
	streams  map[string]*stream
	queueLen int
	log      *slog.Logger
	Stats    Stats
}

// NewHub makes a hub whose subscribers buffer queueLen frames each.
func NewHub(queueLen int, log *slog.Logger) *Hub {
	if queueLen < 2 {
		queueLen = 2
	}
	return &Hub{streams: map[string]*stream{}, queueLen: queueLen, log: log}
}

type stream struct {
	key  string
	mu   sync.Mutex // guards pub, headers and subscriber list changes
	pub  *Publisher
	subs atomic.Pointer[[]*Subscriber] // copy-on-write
	fan  atomic.Pointer[[]Receiver]    // their receivers, as Write delivers to them

	// What a late joiner needs to decode, replayed on subscribe.
	meta, audioCfg, videoCfg *Frame

	// tc is the transcoder feeding this derived stream ("KEY#codec"), set
	// and cleared with Hub.mu held; it stops with the stream's last subscriber.
	tc *transcoder
	// transcoders counts the transcoders reading this stream (changed with
	// Hub.mu held): while there are any, Write hands them decoded audio
	// (see history.go).
	transcoders atomic.Int32
}

func (h *Hub) get(key string) *stream {
	s := h.streams[key]
	if s == nil {
		s = &stream{key: key}
		s.subs.Store(&[]*Subscriber{})
		s.fan.Store(&[]Receiver{})
		h.streams[key] = s
	}
	return s
}

// release drops an entry nobody uses any more. Called with h.mu held.
func (h *Hub) releaseLocked(s *stream) {
	s.mu.Lock()
	idle := s.pub == nil && len(*s.subs.Load()) == 0
	s.mu.Unlock()
	if idle {
		delete(h.streams, s.key)
	}
}

// Publish claims key for one publisher. Keys holding '#' are refused: they
// name transcoded streams, which only the hub's transcoders publish.
func (h *Hub) Publish(key string) (*Publisher, error) {
	if strings.IndexByte(key, derivedSep) >= 0 {
		return nil, fmt.Errorf("%w: %q: '#' is reserved for transcoded streams", ErrBadName, key)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.publishLocked(key)
}

func (h *Hub) publishLocked(key string) (*Publisher, error) {
	s := h.get(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadName, key)
	}
	p := &Publisher{hub: h, s: s, derived: strings.IndexByte(key, derivedSep) >= 0}
	s.pub = p
	s.meta, s.audioCfg, s.videoCfg = nil, nil, nil
	h.Stats.Publishers.Add(1)
	ev := &Frame{Kind: KindPublish}
	for _, sub := range *s.subs.Load() {
		sub.push(ev)
	}
	return p, nil
}

// Receiver gets one subscription's frames and events, in order, on the
// goroutine that produces them: a publisher's, or the hub's for the
// replayed headers and publish events. Receive must not block and must not
// call the hub; a Receiver that needs its own goroutine reads a Queue.
// Publisher.Write calls Receive straight from its subscriber list, so
// Receive may still be called after Close returns, by a Write that was
// already going through the old list: a Receiver must ignore frames once
// its owner has closed the subscription.
type Receiver interface {
	Receive(f *Frame)
}

// ReceiverFunc adapts a function to a Receiver.
type ReceiverFunc func(f *Frame)

// Receive calls fn(f).
func (fn ReceiverFunc) Receive(f *Frame) { fn(f) }

// Subscribe adds r to key, whether or not anyone publishes it yet: like
// Flash Media Server, a player of an unpublished name waits for it. A
// KindPublish event is delivered only when a publisher arrives later, so a
// player can tell "published since you asked" from "already live". When r
// is a Queue, Close closes it too.
func (h *Hub) Subscribe(key string, r Receiver) *Subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subscribeLocked(key, r)
}

// storeFan rebuilds the fan-out list from subs. Called with s.mu held.
func (s *stream) storeFan(subs []*Subscriber) {
	fan := make([]Receiver, len(subs))
	for i, sub := range subs {
		fan[i] = sub.recv
	}
	s.fan.Store(&fan)
}

func (h *Hub) subscribeLocked(key string, r Receiver) *Subscriber {
	s := h.get(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := &Subscriber{hub: h, s: s, recv: r}
	if q, ok := r.(*Queue); ok {
		q.key.Store(&s.key)
		sub.q = q
	}
	if s.pub != nil {
		for _, f := range []*Frame{s.meta, s.audioCfg, s.videoCfg} {
			if f != nil {
				sub.push(f)
			}
		}
	}
	old := *s.subs.Load()
	next := make([]*Subscriber, len(old), len(old)+1)
	copy(next, old)
	next = append(next, sub)
	s.subs.Store(&next)
	s.storeFan(next)
	h.Stats.Subscribers.Add(1)
	return sub
}

// Published reports whether key has a publisher now.
func (h *Hub) Published(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.streams[key]
	if s == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pub != nil
}

// Publisher writes one stream's frames.
type Publisher struct {
	hub     *Hub
	s       *stream
	closed  atomic.Bool
	derived bool    // a transcoder's output: its audio needs no history
	hist    history // decodes Speex from the first frame for late transcoders
}

// Write fans f out to every subscriber. f must not be modified afterwards.
// It never blocks on a subscriber.
func (p *Publisher) Write(f *Frame) {
	if p.closed.Load() {
		return
	}
	st := &p.hub.Stats
	st.FramesIn.Add(1)
	st.BytesIn.Add(uint64(len(f.Payload)))
	if f.Kind == KindData || f.Config {
		p.s.mu.Lock()
		switch {
		case f.Kind == KindData:
			p.s.meta = f
		case f.Kind == KindAudio:
			p.s.audioCfg = f
		default:
			p.s.videoCfg = f
		}
		p.s.mu.Unlock()
	}
	fan := *p.s.fan.Load()
	if f.Kind == KindAudio && !p.derived {
		f = p.hist.audio(f, &p.s.transcoders) // after loading fan: see history.audio
	}
	for _, r := range fan {
		r.Receive(f)
	}
	st.FramesOut.Add(uint64(len(fan)))
}

// Close ends the publication; subscribers get an Unpublish event and keep
// waiting for a next publisher of the same name.
func (p *Publisher) Close() {
	if p.closed.Swap(true) {
		return
	}
	h := p.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	p.closeLocked()
	h.releaseLocked(p.s)
}

// closeLocked is Close without the release of the stream entry, with h.mu
// held and p.closed already set.
func (p *Publisher) closeLocked() {
	p.s.mu.Lock()
	if p.s.pub == p {
		p.s.pub = nil
		p.s.meta, p.s.audioCfg, p.s.videoCfg = nil, nil, nil
		ev := &Frame{Kind: KindUnpublish}
		for _, sub := range *p.s.subs.Load() {
			sub.push(ev)
		}
	}
	p.s.mu.Unlock()
	p.hist.close()
	p.hub.Stats.Publishers.Add(-1)
}

// Subscriber is one subscription: a Receiver added to one stream.
type Subscriber struct {
	hub    *Hub
	s      *stream
	recv   Receiver
	q      *Queue // recv, when it is a Queue: Close closes it
	closed atomic.Bool
}

// push delivers an event or replayed header, unless the subscription is closed.
func (s *Subscriber) push(f *Frame) {
	if !s.closed.Load() {
		s.recv.Receive(f)
	}
}

// Close unsubscribes; a Queue's blocked Next returns ErrClosed.
func (s *Subscriber) Close() {
	if s.closed.Swap(true) {
		return
	}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.closeLocked()
}

// closeLocked is Close with h.mu held and s.closed already set. The last
// subscriber of a transcoded stream stops its transcoder.
func (s *Subscriber) closeLocked() {
	h := s.hub
	s.s.mu.Lock()
	old := *s.s.subs.Load()
	next := make([]*Subscriber, 0, len(old))
	for _, x := range old {
		if x != s {
			next = append(next, x)
		}
	}
	s.s.subs.Store(&next)
	s.s.storeFan(next)
	s.s.mu.Unlock()
	if s.q != nil {
		s.q.close()
	}
	h.Stats.Subscribers.Add(-1)
	if tc := s.s.tc; tc != nil && len(next) == 0 {
		tc.stopLocked()
	}
	h.releaseLocked(s.s)
}

// SubscriberCount is how many subscribers key has now.
func (h *Hub) SubscriberCount(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.streams[key]; s != nil {
		return len(*s.subs.Load())
	}
	return 0
}
