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
	// started (SubscribeCodecSinkMax), bounded by their budget.
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
	fan  atomic.Pointer[[]fanout]      // the same subscribers, as Write delivers to them

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
		s.fan.Store(&[]fanout{})
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

// Subscribe adds a subscriber to key, whether or not anyone publishes it yet:
// like Flash Media Server, a player of an unpublished name waits for it. A
// KindPublish event is queued only when a publisher arrives later, so a
// player can tell "published since you asked" from "already live".
func (h *Hub) Subscribe(key string) *Subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subscribeLocked(key, nil)
}

// Sink receives a subscriber's frames and events directly, on the goroutine
// that produces them (a publisher's, or the hub's for replayed headers and
// publish events), instead of through the subscriber's queue. A sink must
// not block and must not call the hub; an RTMP connection's non-blocking,
// drop-oldest write queue is the intended one. It may be called once or
// twice more while Close runs.
type Sink func(f *Frame)

// SubscribeSink is Subscribe delivering to sink: no queue and no goroutine
// per subscriber, so fan-out costs one function call per frame.
func (h *Hub) SubscribeSink(key string, sink Sink) *Subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subscribeLocked(key, sink)
}

// Receiver is a Sink as an interface, for the busiest subscribers (RTMP
// players): Publisher.Write calls Receive straight from its subscriber list,
// touching neither the Subscriber nor a closure, two cache misses per
// subscriber per frame that showed in bench/relay's profile. Unlike a Sink,
// Receive may still be called after Close returns, by a Write that was
// already going through the old subscriber list: a Receiver must ignore
// frames once its owner has closed the subscription.
type Receiver interface {
	Receive(f *Frame)
}

// SubscribeReceiver is SubscribeSink for a Receiver.
func (h *Hub) SubscribeReceiver(key string, r Receiver) *Subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	sub := h.subscribeLocked(key, r.Receive)
	sub.s.mu.Lock()
	defer sub.s.mu.Unlock()
	sub.recv = r
	sub.s.storeFan(*sub.s.subs.Load())
	return sub
}

// fanout is one subscriber as Publisher.Write sees it: recv when it is a
// Receiver, else sub.
type fanout struct {
	recv Receiver
	sub  *Subscriber
}

// storeFan rebuilds the fan-out list from subs. Called with s.mu held.
func (s *stream) storeFan(subs []*Subscriber) {
	fan := make([]fanout, len(subs))
	for i, sub := range subs {
		fan[i] = fanout{recv: sub.recv, sub: sub}
	}
	s.fan.Store(&fan)
}

func (h *Hub) subscribeLocked(key string, sink Sink) *Subscriber {
	s := h.get(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := &Subscriber{hub: h, s: s, sink: sink}
	if sink == nil {
		sub.q = newQueue(h.queueLen)
	} else {
		sub.q = newQueue(0) // closed-state bookkeeping only; frames go to sink
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
	for _, e := range fan {
		if e.recv != nil {
			e.recv.Receive(f)
			continue
		}
		if e.sub.push(f) {
			st.DroppedFrame.Add(1)
			e.sub.noteDrop()
		}
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

// Subscriber receives one stream's frames through its own bounded queue.
type Subscriber struct {
	hub       *Hub
	s         *stream
	q         *queue
	sink      Sink     // when set, frames bypass q
	recv      Receiver // when set, Publisher.Write calls it directly (sink is recv.Receive)
	closed    atomic.Bool
	dropBurst atomic.Bool // a drop was logged and no frame was read since
}

// push delivers f and reports whether the subscriber's queue lost a frame.
func (s *Subscriber) push(f *Frame) (dropped bool) {
	if s.sink != nil {
		if !s.closed.Load() {
			s.sink(f)
		}
		return false
	}
	return s.q.push(f)
}

func (s *Subscriber) noteDrop() {
	if !s.dropBurst.Swap(true) && s.hub.log != nil {
		s.hub.log.Warn("slow subscriber is losing frames", "stream", s.s.key)
	}
}

// Dropped is how many frames this subscriber lost to its full queue.
func (s *Subscriber) Dropped() uint64 { return s.q.droppedCount() }

// Close unsubscribes; a blocked Next returns ErrClosed.
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
	s.q.close()
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
