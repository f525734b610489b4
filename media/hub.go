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
}

// Hub owns every stream. Its mutex guards the streams map only; each stream
// guards its own publisher and header state, and fan-out reads an immutable
// subscriber slice so publishers take no hub-wide lock per frame.
type Hub struct {
	mu       sync.Mutex
	streams  map[string]*stream
	watchers []func(key string) // guarded by mu
	demand   []func(key string) // guarded by mu (WatchDemand)
	guard    atomic.Pointer[PublishGuard]
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
	// audioCodec is the codec.ID of the last audio frame, for listings
	// (Streams); written by the publisher only when it changes.
	audioCodec atomic.Uint32
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

// DerivedSep marks a derived stream's key, "SOURCE#WHAT": a stream a
// server component makes from another (a transcoder's output). Only
// PublishDerived publishes such keys, so no client can pose as one.
const DerivedSep = '#'

// Publish claims key for one publisher. Keys holding DerivedSep are
// refused. Every watcher (WatchPublications) is told before Publish
// returns, so it can subscribe before the first frame.
func (h *Hub) Publish(key string) (*Publisher, error) {
	if strings.IndexByte(key, DerivedSep) >= 0 {
		return nil, fmt.Errorf("%w: %q: '#' is reserved for derived streams", ErrBadName, key)
	}
	return h.publish(key)
}

// PublishDerived is Publish for a derived stream's key, which must hold
// DerivedSep. Watchers are not told of derived streams.
func (h *Hub) PublishDerived(key string) (*Publisher, error) {
	return h.publishDerived(key, true)
}

// PublishDerivedRelay is PublishDerived for a derived stream made
// elsewhere (another node's transcoder, package cluster): its publisher
// does not follow the source here, so listings (Streams) do not take it
// for one of the source's players.
func (h *Hub) PublishDerivedRelay(key string) (*Publisher, error) {
	return h.publishDerived(key, false)
}

func (h *Hub) publishDerived(key string, follows bool) (*Publisher, error) {
	if strings.IndexByte(key, DerivedSep) < 0 {
		return nil, fmt.Errorf("%w: %q is not a derived stream's key", ErrBadName, key)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	p, err := h.publishLocked(key)
	if p != nil {
		p.followsSource = follows
	}
	return p, err
}

// PublishGuard says whether a client may claim key now (package cluster:
// is it published on another node). A non-nil error refuses the name;
// otherwise done is called once the publication is in the hub, with its
// publisher (which the guard may End later), or failed here (nil), and
// until then the guard must keep the claim as its own. It is called on
// the publisher's goroutine and may block briefly.
type PublishGuard func(key string) (done func(p *Publisher), err error)

// SetPublishGuard installs g for PublishClient (nil: none, the default).
func (h *Hub) SetPublishGuard(g PublishGuard) {
	if g == nil {
		h.guard.Store(nil)
		return
	}
	h.guard.Store(&g)
}

// PublishClient is Publish for a client's publication (RTMP, RTMFP,
// WHIP): a name in use here is refused at once, as by Publish, and then
// the guard, when one is set, may refuse it too (ErrBadName). Without a
// guard it is Publish. Server components (relays, transcoders, calls'
// forwarders, mixers) use Publish: they are not publishers of a name.
func (h *Hub) PublishClient(key string) (*Publisher, error) {
	gp := h.guard.Load()
	if gp == nil {
		return h.Publish(key)
	}
	if strings.IndexByte(key, DerivedSep) >= 0 {
		return nil, fmt.Errorf("%w: %q: '#' is reserved for derived streams", ErrBadName, key)
	}
	if h.Published(key) { // no need to ask anyone
		return nil, fmt.Errorf("%w: %q", ErrBadName, key)
	}
	done, err := (*gp)(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrBadName, key, err)
	}
	p, err := h.publish(key)
	done(p)
	return p, err
}

func (h *Hub) publish(key string) (*Publisher, error) {
	h.mu.Lock()
	p, err := h.publishLocked(key)
	watchers := h.watchers
	h.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, w := range watchers {
		w(key)
	}
	return p, nil
}

// WatchPublications calls fn(key) for every later publication of a
// (non-derived) stream, on the publisher's goroutine, before its first
// frame: the transcoders' history decoders (media/transcode) Tap every
// stream this way. fn may call the hub.
func (h *Hub) WatchPublications(fn func(key string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.watchers = append(h.watchers[:len(h.watchers):len(h.watchers)], fn)
}

func (h *Hub) publishLocked(key string) (*Publisher, error) {
	s := h.get(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadName, key)
	}
	p := &Publisher{hub: h, s: s}
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
// is a Queue or an Inline, Close closes it too.
func (h *Hub) Subscribe(key string, r Receiver) *Subscriber {
	h.mu.Lock()
	sub := h.subscribeLocked(key, r, false)
	demand := h.demandLocked(sub.s, 1)
	h.mu.Unlock()
	for _, fn := range demand {
		fn(key)
	}
	return sub
}

// WatchDemand calls fn(key) after a non-derived stream's subscriber count
// (taps not counted) goes from 0 to 1 or from 1 to 0, outside the hub's
// lock, on the goroutine that subscribed or closed. Calls for one key may
// arrive out of order from different goroutines, so fn reads the state
// now (SubscriberCount, Published) instead of trusting the edge: the
// cluster (package cluster) fetches a stream published on another node
// while a local player wants it.
func (h *Hub) WatchDemand(fn func(key string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.demand = append(h.demand[:len(h.demand):len(h.demand)], fn)
}

// demandLocked is the demand watchers to call when s's subscriber count,
// just changed, is now edge (1 after a subscribe, 0 after a close); called
// with h.mu held.
func (h *Hub) demandLocked(s *stream, edge int) []func(string) {
	if len(h.demand) == 0 || strings.IndexByte(s.key, DerivedSep) >= 0 {
		return nil
	}
	n := 0
	for _, sub := range *s.subs.Load() {
		if !sub.tap {
			n++
		}
	}
	if n != edge {
		return nil
	}
	return h.demand
}

// Tap is Subscribe for a server component that follows a stream without
// being one of its audience: a tap is not counted in SubscriberCount or
// Stats.Subscribers, and it receives each frame before every subscriber
// (so what it learns from a frame is known before anyone else has it).
func (h *Hub) Tap(key string, r Receiver) *Subscriber {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.subscribeLocked(key, r, true)
}

// storeFan rebuilds the fan-out list from subs. Called with s.mu held.
func (s *stream) storeFan(subs []*Subscriber) {
	fan := make([]Receiver, len(subs))
	for i, sub := range subs {
		fan[i] = sub.recv
		if sub.inline != nil {
			sub.inline.fanout.Store(int32(len(subs)))
		}
	}
	s.fan.Store(&fan)
}

func (h *Hub) subscribeLocked(key string, r Receiver, tap bool) *Subscriber {
	s := h.get(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := &Subscriber{hub: h, s: s, recv: r, tap: tap}
	if q, ok := r.(*Queue); ok {
		q.key.Store(&s.key)
		sub.q = q
	}
	if in, ok := r.(*Inline); ok {
		in.q.key.Store(&s.key)
		sub.inline = in
	}
	if s.pub != nil {
		for _, f := range []*Frame{s.meta, s.audioCfg, s.videoCfg} {
			if f != nil {
				sub.push(f)
			}
		}
	}
	old := *s.subs.Load()
	next := make([]*Subscriber, 0, len(old)+1)
	if tap {
		next = append(append(next, sub), old...)
	} else {
		next = append(append(next, old...), sub)
		h.Stats.Subscribers.Add(1)
	}
	s.subs.Store(&next)
	s.storeFan(next)
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
	hub    *Hub
	s      *stream
	closed atomic.Bool
	// followsSource: a derived stream's publisher that subscribes to its
	// source here (a transcoder); set before the publisher is returned.
	followsSource bool

	endMu sync.Mutex // guards onEnd, ended and why (End, OnEnd)
	onEnd func(why error)
	ended bool
	why   error
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
	if f.Kind == KindAudio && f.Codec != 0 && p.s.audioCodec.Load() != uint32(f.Codec) {
		p.s.audioCodec.Store(uint32(f.Codec))
	}
	fan := *p.s.fan.Load()
	for _, r := range fan {
		r.Receive(f)
	}
	st.FramesOut.Add(uint64(len(fan)))
}

// Close ends the publication; subscribers get an Unpublish event and keep
// waiting for a next publisher of the same name.
func (p *Publisher) Close() { p.close() }

func (p *Publisher) close() bool {
	if p.closed.Swap(true) {
		return false
	}
	h := p.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	p.closeLocked()
	h.releaseLocked(p.s)
	return true
}

// Closed reports whether the publication ended (Close or End).
func (p *Publisher) Closed() bool { return p.closed.Load() }

// End closes the publication for someone other than its owner (package
// cluster: the name went to another node's publisher): subscribers get
// the Unpublish event as by Close, and the owner's OnEnd function is
// called once with why, on End's goroutine, so the owner can tell its
// client. It reports whether the publication was still open (a Close
// first wins, and then nobody is told).
func (p *Publisher) End(why error) bool {
	if !p.close() {
		return false
	}
	p.endMu.Lock()
	p.ended, p.why = true, why
	fn := p.onEnd
	p.endMu.Unlock()
	if fn != nil {
		fn(why)
	}
	return true
}

// OnEnd sets the function End calls; when End came first it is called
// at once, on this goroutine. fn must not block for long.
func (p *Publisher) OnEnd(fn func(why error)) {
	p.endMu.Lock()
	ended, why := p.ended, p.why
	if !ended {
		p.onEnd = fn
	}
	p.endMu.Unlock()
	if ended {
		fn(why)
	}
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
	p.hub.Stats.Publishers.Add(-1)
}

// Subscriber is one subscription: a Receiver added to one stream.
type Subscriber struct {
	hub    *Hub
	s      *stream
	recv   Receiver
	q      *Queue  // recv, when it is a Queue: Close closes it
	inline *Inline // recv, when it is an Inline: Close closes it
	tap    bool    // subscribed by Tap: first, and not counted
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
	s.closeLocked()
	var demand []func(string)
	if !s.tap {
		demand = h.demandLocked(s.s, 0)
	}
	h.mu.Unlock()
	for _, fn := range demand {
		fn(s.s.key)
	}
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
	if s.inline != nil {
		s.inline.close()
	}
	if !s.tap {
		h.Stats.Subscribers.Add(-1)
	}
	h.releaseLocked(s.s)
}

// SubscriberCount is how many subscribers key has now.
func (h *Hub) SubscriberCount(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	if s := h.streams[key]; s != nil {
		for _, sub := range *s.subs.Load() {
			if !sub.tap {
				n++
			}
		}
	}
	return n
}
