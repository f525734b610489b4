package transcode

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

// transcoder publishes one stream's audio in another codec. Its goroutine
// (run) owns the codec state and reads q; the Service owns its lifetime:
// the last Subscription's Close stops it, closing src, which ends run.
type transcoder struct {
	s        *Service
	key      string // the source stream
	dkey     string // the derived stream it publishes
	target   codec.ID
	rate     int
	budgeted bool // counted in Stats.BudgetTranscoders
	refs     int  // subscriptions sharing it, guarded by Service.mu
	// remote, while the variant is fetched from another node (remote.go):
	// no goroutine runs, the Remote publishes dkey; guarded by Service.mu.
	// budget is the first subscriber's Target.Budget, for localize.
	remote io.Closer
	budget int
	hist   *history
	src    *media.Subscriber
	q      *media.Queue // src's frames, read by run

	// mu guards pub and stopped: run publishes and unpublishes the
	// derived stream as the source comes and goes, stop closes it at once
	// so that a transcoder started next can publish the same key.
	mu      sync.Mutex
	pub     *media.Publisher
	stopped bool

	// passing: the last audio frame passed through untouched (it was
	// in the target codec); read by Subscription.PassingThrough.
	passing atomic.Bool

	// The loss its subscribers' receivers report (Subscription.ReportLoss):
	// each one's, under lossMu, and the highest, which run gives the
	// encoder (codec.LossTuner) when it changes.
	lossMu sync.Mutex
	losses map[*Subscription]int
	loss   atomic.Int32
}

// setLoss records x's loss (absent: none) and the highest of all.
func (t *transcoder) setLoss(x *Subscription, pct int, present bool) {
	t.lossMu.Lock()
	defer t.lossMu.Unlock()
	if present {
		if t.losses == nil {
			t.losses = map[*Subscription]int{}
		}
		t.losses[x] = pct
	} else {
		delete(t.losses, x)
	}
	top := 0
	for _, v := range t.losses {
		top = max(top, v)
	}
	t.loss.Store(int32(top))
}

// publishDerived publishes the derived stream unless it is published or t
// is stopped.
func (t *transcoder) publishDerived() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped || t.pub != nil {
		return
	}
	p, err := t.s.hub.PublishDerived(t.dkey)
	if err != nil {
		// Only a transcoder publishes derived keys, one per key: cannot happen.
		if t.s.log != nil {
			t.s.log.Error("transcoder cannot publish", "stream", t.dkey, "err", err)
		}
		return
	}
	t.pub = p
}

// unpublishDerived ends the derived publication; its subscribers stay and
// wait for the next.
func (t *transcoder) unpublishDerived() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pub != nil {
		t.pub.Close()
		t.pub = nil
	}
}

// write publishes f on the derived stream, if it is published.
func (t *transcoder) write(f *media.Frame) {
	t.mu.Lock()
	p := t.pub
	t.mu.Unlock()
	if p != nil {
		p.Write(f) // a Write after Close is ignored
	}
}

// stop detaches t at once: the derived publication ends and src closes,
// which ends run. Called with Service.mu held.
func (t *transcoder) stop() {
	t.unpublishDerived()
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.src.Close()
}

// start runs t's goroutine, once its first subscriber is attached to
// the derived stream.
func (t *transcoder) start() { go t.run() }

func (t *transcoder) run() {
	c := newChain(t.target, t.rate)
	defer c.close()
	var slab frameSlab
	c.emit = func(ts uint32, pkt []byte) {
		t.write(slab.frame(t.target, t.rate, ts, pkt))
	}
	st := &t.s.Stats
	c.stats = st
	var lastErr string
	var loss int32
	for {
		f, err := t.q.Next(context.Background())
		if err != nil {
			return // ErrClosed: stopped
		}
		switch f.Kind {
		case media.KindPublish:
			c.reset()
			t.publishDerived()
		case media.KindUnpublish:
			c.flush()
			t.unpublishDerived()
		case media.KindAudio:
			if c.passes(f) {
				st.PassedThroughFrames.Add(1)
				t.passing.Store(true)
				c.flush()
				t.write(f)
				continue
			}
			st.TranscodedFrames.Add(1)
			t.passing.Store(false)
			if l := t.loss.Load(); l != loss {
				loss = l
				c.setLoss(int(l))
			}
			if err := c.push(f, t.hist.pcm(f)); err != nil && err.Error() != lastErr && t.s.log != nil {
				lastErr = err.Error() // once per kind of trouble, not per packet
				t.s.log.Warn("transcoder input", "stream", t.key, "codec", t.target, "err", err)
			}
		default:
			t.write(f)
		}
	}
}

// frameSlab carves output frames and their payloads out of shared blocks,
// so a transcoder allocates about once per 64 frames rather than twice per
// frame. Frames are immutable once written, so sharing a block is safe; a
// block lives as long as any of its frames.
type frameSlab struct {
	frames []media.Frame
	bytes  []byte
}

func (s *frameSlab) frame(id codec.ID, rate int, ts uint32, payload []byte) *media.Frame {
	if len(s.frames) == 0 {
		s.frames = make([]media.Frame, 64)
	}
	if len(s.bytes) < len(payload) {
		s.bytes = make([]byte, max(4096, len(payload)))
	}
	p := s.bytes[:len(payload):len(payload)]
	s.bytes = s.bytes[len(payload):]
	copy(p, payload)
	f := &s.frames[0]
	s.frames = s.frames[1:]
	*f = media.Frame{Kind: media.KindAudio, Codec: id, Rate: rate, Channels: 1, Timestamp: ts, Payload: p}
	return f
}
