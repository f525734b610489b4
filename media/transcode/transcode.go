// Package transcode delivers a hub stream's audio in another codec. It is
// an ordinary client of the media hub, built on its public API: one shared
// transcoder per (stream, codec, rate) subscribes to the stream through a
// media.Queue, on its own goroutine (so it never stalls the publisher),
// and publishes the result on the derived key Key(stream, codec, rate),
// e.g. "live/a#pcmu". The first Subscribe starts it, the Close of the last
// Subscription stops it; Stats.Transcoders counts the running ones.
//
// Audio already in the target codec and rate passes through untouched (the
// same *media.Frame); nothing is decoded until the source sends another
// codec. Video and data frames pass through untouched. Output frames hold
// one codec frame each (Nellymoser 256 samples, Speex 20 ms, G.711 and
// G.722 20 ms); their timestamps are counted in samples from the first
// input timestamp, so they stay continuous when the frame duration changes
// (Nellymoser's 16 ms blocks become 20 ms PCMU frames), and are re-anchored
// when the input jumps by more than DiscontinuityMillis or a new publisher
// starts.
//
// Speex streams are decoded from their first frame on by a history decoder
// that taps every published stream, so that a transcoder started
// mid-stream hears what a player from the start hears; see history.go.
package transcode

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
	"github.com/flashvox/flashvox/media"
)

// DiscontinuityMillis is how far an input timestamp may stray from where the
// decoded samples say it should be before a transcoder re-anchors its output
// timestamps on it (a publisher's pause, silence suppression, a new publisher).
const DiscontinuityMillis = 100

// ErrCodec is returned by Subscribe for a codec or rate it cannot
// transcode to.
var ErrCodec = errors.New("transcode: cannot transcode to this codec")

// ErrBudget is returned by Subscribe when the subscription would start a
// transcoder beyond its budget.
var ErrBudget = errors.New("transcode: no transcoder available (the server's transcoding budget is used up)")

// Key is the hub key of key's audio transcoded to id at rate (0: the
// codec's default rate): "KEY#NAME", or "KEY#NAME@RATE" for a rate other
// than the default.
func Key(key string, id codec.ID, rate int) string {
	k := key + string(media.DerivedSep) + id.String()
	if in, ok := codec.Lookup(id); ok && rate != 0 && rate != in.SampleRate {
		k += "@" + strconv.Itoa(rate)
	}
	return k
}

// Target says which codec a subscriber wants.
type Target struct {
	Codec codec.ID
	Rate  int // 0: the codec's default rate, codec.Info.SampleRate
	// Budget bounds the transcoders that budgeted subscriptions (players'
	// ?codec=) start: none starts while Budget or more such ones run
	// (Stats.BudgetTranscoders); below 0 none may start. 0 means not
	// budgeted: the server's own components (SIP legs, echo) are neither
	// bounded nor counted. Joining a running transcoder is always possible.
	Budget int
	// Missed is an audio frame of the source that the subscriber took
	// itself and could not use: an edge that moves to the transcoder at
	// the first frame in another codec (a publisher that declared none).
	// A transcoder this Subscribe starts codes it before the source's
	// next frames, so the subscriber loses nothing; a running one coded
	// it already, for the subscribers it had then.
	Missed *media.Frame
}

// Stats are the transcoders' counters, read by the metrics exporter.
type Stats struct {
	Transcoders atomic.Int64 // running now, one per (stream, target codec, rate)
	// BudgetTranscoders are the running transcoders that budgeted
	// subscriptions (Target.Budget) started.
	BudgetTranscoders atomic.Int64
	// Audio frames into transcoders: decoded (and encoded again), or
	// passed through untouched because they were in the target codec.
	TranscodedFrames    atomic.Uint64
	PassedThroughFrames atomic.Uint64
	// RemoteVariants are the variants subscribed here that another node
	// transcodes (SetRemote): no transcoder runs here for them.
	RemoteVariants atomic.Int64
	// Input frames lost on the way (a gap in the timestamps) that the
	// transcoders filled: from the next packet's in-band FEC (Opus), or
	// with the decoder's concealment.
	RecoveredFrames, ConcealedFrames atomic.Uint64
}

// LiveQueueFrames is the input queue a server's transcoders should use
// (Service.InputQueue): 25 frames, half a second of 20 ms audio. A
// transcoder that falls behind (the machine is overloaded) drops the
// oldest audio beyond it, so a call's delay stays under half a second
// instead of growing to the hub's subscriber queue (seconds).
const LiveQueueFrames = 25

// Service runs the transcoders of one hub. Its mutex guards the maps; each
// transcoder's goroutine owns its codec state.
type Service struct {
	hub   *media.Hub
	log   *slog.Logger
	Stats Stats
	// InputQueue bounds each transcoder's input queue in frames, dropping
	// the oldest when full (media.Queue); 0: the hub's subscriber queue.
	// Set it before the first Subscribe: live servers use
	// LiveQueueFrames, tests that write bursts faster than real time keep
	// the hub's.
	InputQueue int

	mu      sync.Mutex
	running map[string]*transcoder // by derived key
	history map[string]*history    // by source key
	remote  Remote                 // SetRemote; nil: every variant is transcoded here
}

// New makes the transcoding service of hub and starts following every
// stream published from now on (the history decoders: create it before
// anything publishes).
func New(hub *media.Hub, log *slog.Logger) *Service {
	s := &Service{hub: hub, log: log, running: map[string]*transcoder{}, history: map[string]*history{}}
	hub.WatchPublications(s.published)
	return s
}

// Subscription is one subscriber's share of a transcoder.
type Subscription struct {
	s    *Service
	t    *transcoder
	sub  *media.Subscriber
	once sync.Once

	lossMu  sync.Mutex // held across the transcoder's setLoss
	lossPct int        // ReportLoss's, decaying
	closed  bool
}

// Close unsubscribes; the last subscriber of a transcoder stops it.
func (x *Subscription) Close() {
	x.once.Do(func() {
		x.lossMu.Lock()
		x.closed = true
		x.t.setLoss(x, 0, false)
		x.lossMu.Unlock()
		x.sub.Close()
		x.s.release(x.t)
	})
}

// ReportLoss tells the transcoder the packet loss, in percent, that the
// subscriber's receiver reports (RTCP): an encoder that can protect its
// packets (Opus in-band FEC, codec.LossTuner) does so while any of its
// subscribers reports loss. A report of some loss weighs until later
// reports have brought it down by a quarter each (five-second reports:
// half a minute from 10 % to none), so that one clean interval between
// lossy ones does not turn the protection off.
func (x *Subscription) ReportLoss(pct int) {
	pct = min(max(pct, 0), 100)
	x.lossMu.Lock()
	defer x.lossMu.Unlock()
	if x.closed {
		return // its share left with it
	}
	x.lossPct = max(pct, x.lossPct*3/4)
	x.t.setLoss(x, x.lossPct, true)
}

// ReportedLoss is the loss, in percent, the subscriber's reports weigh
// now (ReportLoss).
func (x *Subscription) ReportedLoss() int {
	x.lossMu.Lock()
	defer x.lossMu.Unlock()
	return x.lossPct
}

// ReportFractionLost is ReportLoss for an RTCP report block's fraction
// lost (of 256, RFC 3550 6.4.1): any loss counts as at least 1 %.
func (x *Subscription) ReportFractionLost(fraction uint8) {
	x.ReportLoss((int(fraction)*100 + 255) / 256)
}

// PassingThrough reports whether the transcoder's latest audio frame
// passed through untouched (the source is in the target codec: nothing
// is decoded), for an edge's pass-through counters.
func (x *Subscription) PassingThrough() bool { return x.t.passing.Load() }

// Subscribe subscribes r to key's audio transcoded as t says. Video and
// data come through unchanged. Like media.Hub.Subscribe, it waits for a
// publisher of key.
func (s *Service) Subscribe(key string, t Target, r media.Receiver) (*Subscription, error) {
	in, ok := codec.Lookup(t.Codec)
	if !ok {
		return nil, fmt.Errorf("%w: codec id %d", ErrCodec, t.Codec)
	}
	rate := t.Rate
	if rate == 0 {
		rate = in.SampleRate
	}
	if !slices.Contains(codecs.Rates(t.Codec), rate) {
		return nil, fmt.Errorf("%w: %s at %d Hz", ErrCodec, t.Codec, rate)
	}
	dkey := Key(key, t.Codec, rate)
	started := false
	s.mu.Lock()
	tc := s.running[dkey]
	if tc == nil {
		// A stream published on another node is transcoded there, once
		// for the cluster (remote.go); the budget is that node's.
		tc = s.subscribeRemoteLocked(key, dkey, t, rate)
	}
	if tc == nil {
		if t.Budget != 0 && (t.Budget < 0 || s.Stats.BudgetTranscoders.Load() >= int64(t.Budget)) {
			s.mu.Unlock()
			return nil, ErrBudget
		}
		tc = s.startLocked(key, dkey, t.Codec, rate, t.Budget != 0, t.Missed)
		started = true
	}
	tc.refs++
	s.mu.Unlock()
	// After the transcoder published the derived stream (when the source
	// is live): a subscriber of a live stream gets no publish event.
	x := &Subscription{s: s, t: tc, sub: s.hub.Subscribe(dkey, r)}
	if started {
		// Only now: its first frames' output would have gone to no one.
		tc.start()
	}
	return x, nil
}

// release drops one reference to t, stopping it with the last.
func (s *Service) release(t *transcoder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.refs--; t.refs > 0 {
		return
	}
	delete(s.running, t.dkey)
	if t.remote != nil {
		_ = t.remote.Close()
		s.Stats.RemoteVariants.Add(-1)
		return
	}
	t.stop()
	s.untrackLocked(t.key)
	s.Stats.Transcoders.Add(-1)
	if t.budgeted {
		s.Stats.BudgetTranscoders.Add(-1)
	}
	if s.log != nil {
		s.log.Debug("transcoder stopped", "stream", t.key, "codec", t.target, "rate", t.rate)
	}
}

// startLocked sets up the transcoder of key to id at rate, missed (if
// any) first in its input; its goroutine is the caller's to start.
// Called with s.mu held.
func (s *Service) startLocked(key, dkey string, id codec.ID, rate int, budgeted bool, missed *media.Frame) *transcoder {
	t := &transcoder{s: s, key: key, dkey: dkey, target: id, rate: rate, budgeted: budgeted}
	s.running[dkey] = t
	s.runLocked(t, missed)
	return t
}

// runLocked sets up t's transcoding: its source subscription (after
// missed, if any, so that it is coded first), the derived publication.
// Called with s.mu held; t.start starts its goroutine.
func (s *Service) runLocked(t *transcoder, missed *media.Frame) {
	key, id, rate := t.key, t.target, t.rate
	t.hist = s.trackLocked(key) // before t subscribes: it hands t decoded Speex
	t.q = s.hub.NewQueue(s.InputQueue)
	if missed != nil && missed.Kind == media.KindAudio {
		t.q.Receive(missed)
	}
	t.src = s.hub.Subscribe(key, t.q)
	if s.hub.Published(key) {
		// A publish event may follow in t.q if the publisher came just
		// now: run keeps this publication then (see publishDerived).
		t.publishDerived()
	}
	s.Stats.Transcoders.Add(1)
	if t.budgeted {
		s.Stats.BudgetTranscoders.Add(1)
	}
	if s.log != nil {
		s.log.Debug("transcoder started", "stream", key, "codec", id, "rate", rate)
	}
}

// closeCodec frees what a codec holds outside Go memory (Speex).
func closeCodec(c any) {
	if cl, ok := c.(io.Closer); ok {
		_ = cl.Close()
	}
}
