package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/codec/codecs"
)

// Transcoded streams.
//
// Hub.SubscribeCodec(key, Transcode{id, rate, budget}, r) subscribes r to
// key's audio in codec id at rate. The hub runs one transcoder per (key, id, rate), shared by every
// subscriber asking for it: the transcoder is itself a subscriber of key
// with its own goroutine and its own bounded queue (so it never stalls the
// publisher), and publishes the result on the derived key TranscodeKey(key,
// id, rate), e.g. "live/a#pcmu". It is created by the first SubscribeCodec
// and stopped by the Close of the derived stream's last subscriber; the hub
// owns it, Stats.Transcoders counts the running ones.
//
// Audio already in the target codec and rate passes through untouched (the
// same *Frame); nothing is decoded until the source sends another codec.
// Video and data frames pass through untouched. Output frames hold one codec
// frame each (Nellymoser 256 samples, Speex 20 ms, G.711 and G.722 20 ms);
// their timestamps are counted in samples from the first input timestamp,
// so they stay continuous when the frame duration changes (Nellymoser's
// 16 ms blocks become 20 ms PCMU frames), and are re-anchored when the
// input jumps by more than DiscontinuityMillis or a new publisher starts.

// derivedSep separates a source key from the codec in a transcoded stream's key.
const derivedSep = '#'

// DiscontinuityMillis is how far an input timestamp may stray from where the
// decoded samples say it should be before a transcoder re-anchors its output
// timestamps on it (a publisher's pause, silence suppression, a new publisher).
const DiscontinuityMillis = 100

// ErrCodec is returned by SubscribeCodec for a codec or rate the hub cannot
// transcode to.
var ErrCodec = errors.New("media: cannot transcode to this codec")

// TranscodeKey is the hub key of key's audio transcoded to id at rate (0:
// the codec's default rate): "KEY#NAME", or "KEY#NAME@RATE" for a rate other
// than the default.
func TranscodeKey(key string, id codec.ID, rate int) string {
	k := key + string(derivedSep) + id.String()
	if in, ok := codec.Lookup(id); ok && rate != 0 && rate != in.SampleRate {
		k += "@" + strconv.Itoa(rate)
	}
	return k
}

// Transcode says which codec a SubscribeCodec subscriber wants.
type Transcode struct {
	Codec codec.ID
	Rate  int // 0: the codec's default rate, codec.Info.SampleRate
	// Budget bounds the transcoders that budgeted subscriptions (players'
	// ?codec=) start: none starts while Budget or more such ones run
	// (Stats.BudgetTranscoders); below 0 none may start. 0 means not
	// budgeted: the server's own components (SIP legs, echo) are neither
	// bounded nor counted. Joining a running transcoder is always possible.
	Budget int
}

// ErrTranscoderBudget is returned by SubscribeCodec when the subscription
// would start a transcoder beyond its budget.
var ErrTranscoderBudget = errors.New("media: no transcoder available (the server's transcoding budget is used up)")

// SubscribeCodec subscribes r to key's audio transcoded as t says. Video
// and data come through unchanged. Like Subscribe, it waits for a
// publisher of key.
func (h *Hub) SubscribeCodec(key string, t Transcode, r Receiver) (*Subscriber, error) {
	id, rate, max := t.Codec, t.Rate, t.Budget
	in, ok := codec.Lookup(id)
	if !ok {
		return nil, fmt.Errorf("%w: codec id %d", ErrCodec, id)
	}
	if rate == 0 {
		rate = in.SampleRate
	}
	if !slices.Contains(codecs.Rates(id), rate) {
		return nil, fmt.Errorf("%w: %s at %d Hz", ErrCodec, id, rate)
	}
	dkey := TranscodeKey(key, id, rate)
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.streams[dkey]; (s == nil || s.tc == nil) && max != 0 && (max < 0 || h.Stats.BudgetTranscoders.Load() >= int64(max)) {
		return nil, ErrTranscoderBudget
	}
	out := h.get(dkey)
	if out.tc == nil {
		t := &transcoder{hub: h, key: key, out: out, target: id, rate: rate, done: make(chan struct{}), budgeted: max != 0}
		if t.budgeted {
			h.Stats.BudgetTranscoders.Add(1)
		}
		h.get(key).transcoders.Add(1) // before the subscription is visible to Write
		t.q = h.NewQueue(0)
		t.src = h.subscribeLocked(key, t.q)
		if src := h.streams[key]; src != nil && src.pub != nil {
			t.pub, _ = h.publishLocked(dkey) // cannot fail: nobody else publishes '#' keys
		}
		out.tc = t
		h.Stats.Transcoders.Add(1)
		if h.log != nil {
			h.log.Debug("transcoder started", "stream", key, "codec", id, "rate", rate)
		}
		go t.run()
	}
	return h.subscribeLocked(dkey, r), nil
}

// transcoder publishes one stream's audio in another codec. Its goroutine
// (run) owns the codec state and reads src; the hub owns its lifetime:
// stopLocked, called by the derived stream's last subscriber with Hub.mu
// held, closes src, which ends run.
type transcoder struct {
	hub    *Hub
	key    string
	out    *stream
	target codec.ID
	rate   int
	src    *Subscriber
	q      *Queue // src's frames, read by run
	// pub publishes the derived stream while the source is published. It is
	// assigned by run with Hub.mu held and read by stopLocked with it held.
	pub     *Publisher
	stopped bool // guarded by Hub.mu
	done    chan struct{}
	// budgeted: started with a Transcode.Budget, counted in
	// Stats.BudgetTranscoders until it stops.
	budgeted bool
}

// stopLocked detaches the transcoder from the hub at once (so a new
// SubscribeCodec starts a fresh one) and lets its goroutine wind down.
func (t *transcoder) stopLocked() {
	if t.stopped {
		return
	}
	t.stopped = true
	t.out.tc = nil
	if t.pub != nil && !t.pub.closed.Swap(true) {
		t.pub.closeLocked()
	}
	t.src.s.transcoders.Add(-1)
	if !t.src.closed.Swap(true) {
		t.src.closeLocked()
	}
	t.hub.Stats.Transcoders.Add(-1)
	if t.budgeted {
		t.hub.Stats.BudgetTranscoders.Add(-1)
	}
	if t.hub.log != nil {
		t.hub.log.Debug("transcoder stopped", "stream", t.key, "codec", t.target, "rate", t.rate)
	}
}

func (t *transcoder) run() {
	defer close(t.done)
	c := newChain(t.target, t.rate)
	defer c.close()
	var slab frameSlab
	c.emit = func(ts uint32, pkt []byte) {
		if p := t.pub; p != nil {
			p.Write(slab.frame(t.target, t.rate, ts, pkt))
		}
	}
	var lastErr string
	for {
		f, err := t.q.Next(context.Background())
		if err != nil {
			return // ErrClosed: stopped
		}
		switch f.Kind {
		case KindPublish:
			c.reset()
			t.hub.mu.Lock()
			if !t.stopped {
				t.pub, _ = t.hub.publishLocked(t.out.key)
			}
			t.hub.mu.Unlock()
		case KindUnpublish:
			c.flush()
			t.hub.mu.Lock()
			if t.pub != nil && !t.pub.closed.Swap(true) {
				t.pub.closeLocked() // the derived stream keeps its subscribers: no release
			}
			t.pub = nil
			t.hub.mu.Unlock()
		case KindAudio:
			if c.passes(f) {
				t.hub.Stats.PassedThroughFrames.Add(1)
				c.flush()
				if t.pub != nil {
					t.pub.Write(f)
				}
				continue
			}
			t.hub.Stats.TranscodedFrames.Add(1)
			if err := c.push(f); err != nil && err.Error() != lastErr && t.hub.log != nil {
				lastErr = err.Error() // once per kind of trouble, not per packet
				t.hub.log.Warn("transcoder input", "stream", t.key, "codec", t.target, "err", err)
			}
		default:
			if t.pub != nil {
				t.pub.Write(f)
			}
		}
	}
}

// frameSlab carves output frames and their payloads out of shared blocks,
// so a transcoder allocates about once per 64 frames rather than twice per
// frame. Frames are immutable once written, so sharing a block is safe; a
// block lives as long as any of its frames.
type frameSlab struct {
	frames []Frame
	bytes  []byte
}

func (s *frameSlab) frame(id codec.ID, rate int, ts uint32, payload []byte) *Frame {
	if len(s.frames) == 0 {
		s.frames = make([]Frame, 64)
	}
	if len(s.bytes) < len(payload) {
		s.bytes = make([]byte, max(4096, len(payload)))
	}
	p := s.bytes[:len(payload):len(payload)]
	s.bytes = s.bytes[len(payload):]
	copy(p, payload)
	f := &s.frames[0]
	s.frames = s.frames[1:]
	*f = Frame{Kind: KindAudio, Codec: id, Rate: rate, Channels: 1, Timestamp: ts, Payload: p}
	return f
}

// closeCodec frees what a codec holds outside Go memory (Speex).
func closeCodec(c any) {
	if cl, ok := c.(io.Closer); ok {
		_ = cl.Close()
	}
}
