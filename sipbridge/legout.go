package sipbridge

import (
	"context"
	"fmt"
	"sync"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// legOut is where a SIP leg's outgoing audio comes from: the web user's
// stream, subscribed on the hub directly through a media.Inline while
// its frames are in the call's codec (pass-through: no transcoder, and
// each frame is sent as RTP on the publisher's goroutine when the writer
// is idle, since a UDP send does not wait for the phone); the first audio
// frame in another codec moves the leg, for good, to the hub's shared
// transcoder to the call's codec, read through a queue (writeQueue
// frames) by the writer goroutine. The writer goroutine owns the switch
// and the rtpWriter; deliver uses the rtpWriter only under the Inline's
// lock, which the writer holds whenever it sends while the Inline is the
// source. mu guards the source against subscribe and close, which come
// from run's goroutine.
type legOut struct {
	m *mediaBridge
	c rtpCodec
	w *rtpWriter

	mu     sync.Mutex
	key    string
	in     *media.Inline // nil once on the transcoder
	q      *media.Queue  // the current source's queued frames
	direct *media.Subscriber
	tsub   *transcode.Subscription
	closed bool
	// changed tells the writer that q changed (a switch: capacity 1).
	changed chan struct{}
}

func newLegOut(m *mediaBridge, c rtpCodec) *legOut {
	o := &legOut{m: m, c: c, w: newRTPWriter(m.ch, c, m.stats), changed: make(chan struct{}, 1)}
	o.w.out = &m.leg.bytesOut
	o.in = m.hub.NewInline(writeQueue, o.deliver)
	o.q = o.in.Queue()
	return o
}

// subscribe starts playing key (once: a later key is ignored): through
// the transcoder at once when the stream is known to be in another codec
// (a page's WHIP declares its codec when it publishes), else directly.
func (o *legOut) subscribe(key string) {
	o.mu.Lock()
	if o.closed || o.key != "" {
		o.mu.Unlock()
		return
	}
	o.key = key
	o.mu.Unlock()
	if id := o.m.hub.AudioCodec(key); id != 0 && id != o.c.ID {
		err := o.toTranscoder(nil)
		if err == nil {
			return
		}
		o.m.log.Info("sip leg: no transcoder yet, trying again at the first frame", "stream", key, "err", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.direct = o.m.hub.Subscribe(key, o.in)
	}
}

// source is the current source: its Inline (nil on the transcoder) and
// queue.
func (o *legOut) source() (*media.Inline, *media.Queue) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.in, o.q
}

// deliver sends a frame in the call's codec at once (publisher's
// goroutine, Inline locked); DTMF frames (paced) and audio in another
// codec are the writer's.
func (o *legOut) deliver(f *media.Frame) bool {
	switch {
	case o.m.held.Load():
		return true // held: nothing is sent (as in send)
	case f.Kind == media.KindDTMF, f.Kind == media.KindPublish:
		return false // the writer's (a publisher's codec may call for a transcoder)
	case f.Kind != media.KindAudio || len(f.Payload) == 0:
		return true
	case f.Codec != o.c.ID:
		return false
	}
	o.m.stats.FramesPassedThrough.Add(1)
	if err := o.w.audio(f.Timestamp, f.Payload); err != nil {
		o.m.log.Debug("rtp write failed", "err", err)
	}
	return true
}

// toTranscoder moves the leg to the shared transcoder of its stream to
// the call's codec: on the writer goroutine with the Inline locked, or
// from subscribe before anything was subscribed to the Inline. missed is
// the frame in another codec that made it move (transcode.Target.Missed).
func (o *legOut) toTranscoder(missed *media.Frame) error {
	q := o.m.hub.NewQueue(writeQueue)
	tsub, err := o.m.tc.Subscribe(o.key, transcode.Target{Codec: o.c.ID, Missed: missed}, q)
	if err != nil {
		return fmt.Errorf("sip: subscribe %s as %s: %w", o.key, o.c.ID, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		tsub.Close()
		return nil
	}
	if o.direct != nil {
		o.direct.Close() // no deliver after it: the writer holds the Inline
	}
	o.direct, o.in, o.q, o.tsub = nil, nil, q, tsub
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return nil
}

// close ends the current subscription.
func (o *legOut) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	if o.direct != nil {
		o.direct.Close()
	}
	if o.tsub != nil {
		o.tsub.Close()
	}
}

// run is the writer goroutine: it sends the queued frames (those deliver
// left, or all of a transcoder's) and the call's digits until ctx ends; a
// failed move to a transcoder ends it with the error.
func (o *legOut) run(ctx context.Context) error {
	m := o.m
	var paths digitPaths
	for {
		in, q := o.source()
		select {
		case <-ctx.Done():
			return nil
		case <-o.changed:
		case <-q.Ready():
			for {
				lock(in)
				f := q.TryNext()
				if f == nil {
					unlock(in)
					break
				}
				err := o.send(ctx, f, in != nil, &paths)
				unlock(in)
				if err != nil {
					return err
				}
				if in != nil && o.transcoder() != nil {
					break // moved: read the transcoder's queue
				}
			}
		case digits := <-m.dtmf:
			lock(in)
			m.sendDigits(ctx, o.w, &paths, pathEvent, []byte(digits))
			unlock(in)
		}
	}
}

// send sends one queued frame on the writer goroutine; direct: the
// source is the Inline.
func (o *legOut) send(ctx context.Context, f *media.Frame, direct bool, paths *digitPaths) error {
	m := o.m
	if f.Kind == media.KindPublish && direct {
		// A new publisher that declared another codec (a page's WHIP):
		// move now, not at its first frame, which the move would lose.
		if id := m.hub.AudioCodec(o.key); id != 0 && id != o.c.ID {
			return o.toTranscoder(nil)
		}
		return nil
	}
	if f.Kind == media.KindDTMF && !m.held.Load() {
		m.sendDigits(ctx, o.w, paths, pathFrame, f.Payload)
	}
	if m.held.Load() || f.Kind != media.KindAudio || len(f.Payload) == 0 {
		return nil
	}
	if f.Codec != o.c.ID {
		if direct {
			return o.toTranscoder(f) // f is coded first if this starts the transcoder
		}
		return nil
	}
	if x := o.transcoder(); x != nil && !x.PassingThrough() {
		m.stats.FramesTranscoded.Add(1)
	} else {
		m.stats.FramesPassedThrough.Add(1)
	}
	if err := o.w.audio(f.Timestamp, f.Payload); err != nil {
		m.log.Debug("rtp write failed", "err", err)
	}
	return nil
}

func (o *legOut) transcoder() *transcode.Subscription {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tsub
}

func lock(in *media.Inline) {
	if in != nil {
		in.Lock()
	}
}

func unlock(in *media.Inline) {
	if in != nil {
		in.Unlock()
	}
}
