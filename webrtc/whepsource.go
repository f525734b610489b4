package webrtc

import (
	"context"
	"fmt"
	"sync"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// whepSource is where a WHEP session's frames come from. It starts as a
// plain hub subscription: audio already in the session's codec is sent as
// it is (pass-through: no transcoder, no decoding, nothing counted against
// the transcode budget). The first audio frame in another codec moves the
// session, for good, to the hub's shared transcoder of (stream, codec),
// within the budget. The play loop owns the switch; mu guards it against
// close, which may come from any goroutine.
type whepSource struct {
	p      *peerSession
	target codec.Info

	mu     sync.Mutex
	q      *media.Queue // the current source's frames
	direct *media.Subscriber
	tsub   *transcode.Subscription
	closed bool
}

func newWHEPSource(p *peerSession, target codec.Info) *whepSource {
	w := &whepSource{p: p, target: target, q: p.s.o.Hub.NewQueue(p.s.o.PlayQueue)}
	w.direct = p.s.o.Hub.Subscribe(p.key, w.q)
	return w
}

// next is the next frame, or an error once the source is closed.
func (w *whepSource) next() (*media.Frame, error) {
	w.mu.Lock()
	q := w.q
	w.mu.Unlock()
	return q.Next(context.Background())
}

// passes reports whether f can be sent as it is.
func (w *whepSource) passes(f *media.Frame) bool {
	return f.Codec == w.target.ID && f.Rate == w.target.SampleRate
}

// transcoding reports whether the session plays through a transcoder, and
// whether its latest frame passed through it untouched.
func (w *whepSource) transcoding() (on, passing bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tsub == nil {
		return false, false
	}
	return true, w.tsub.PassingThrough()
}

// toTranscoder moves the session to the stream's shared transcoder.
func (w *whepSource) toTranscoder() error {
	q := w.p.s.o.Hub.NewQueue(w.p.s.o.PlayQueue)
	tsub, err := w.p.s.o.Transcoder.Subscribe(w.p.key, transcode.Target{Codec: w.target.ID, Rate: w.target.SampleRate, Budget: w.p.s.o.MaxTranscoders}, q)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoTranscoder, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		tsub.Close()
		return errClosed
	}
	w.direct.Close()
	w.direct, w.tsub, w.q = nil, tsub, q
	return nil
}

// close ends whichever subscription is current (which ends next).
func (w *whepSource) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.direct != nil {
		w.direct.Close()
	}
	if w.tsub != nil {
		w.tsub.Close()
	}
}
