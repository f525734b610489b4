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
// plain hub subscription (a media.Inline: audio already in the session's
// codec is sent as it is, on the publisher's goroutine, by deliver;
// pass-through: no transcoder, no decoding, nothing counted against the
// transcode budget). The first audio frame in another codec, or at the
// start a codec its publisher declared, moves the session, for good, to
// the hub's shared transcoder of (stream, codec), within the budget, read
// through a queue by the play loop. The play
// loop owns the switch; mu guards it against close, which may come from
// any goroutine.
type whepSource struct {
	p      *peerSession
	target codec.Info

	mu     sync.Mutex
	in     *media.Inline // the direct subscription's, nil on the transcoder
	q      *media.Queue  // the current source's queued frames
	direct *media.Subscriber
	tsub   *transcode.Subscription
	closed bool
}

func newWHEPSource(p *peerSession, target codec.Info) *whepSource {
	return &whepSource{p: p, target: target}
}

// subscribe starts the direct subscription, deliver taking its frames on
// the publisher's goroutine. It may call deliver (the stream's headers),
// so what deliver uses must be ready, and it runs before anyone else
// sees w.
func (w *whepSource) subscribe(deliver func(*media.Frame) bool) {
	w.in = w.p.s.o.Hub.NewInline(w.p.s.o.PlayQueue, deliver)
	w.q = w.in.Queue()
	// A stream whose publisher declared another codec (a SIP leg's, a
	// page's WHIP) goes to the transcoder now: moving at its first frame
	// lost that frame (20 ms at every transcoded call's start). Without a
	// transcoder to be had, the first frame tries again and ends the
	// session, as for a stream that declared nothing.
	if id := w.p.s.o.Hub.AudioCodec(w.p.key); id != 0 && id != w.target.ID && w.toTranscoder(nil) == nil {
		return
	}
	w.direct = w.p.s.o.Hub.Subscribe(w.p.key, w.in)
}

// next is the next queued frame and the unlock to call once it is sent
// (the direct subscription's frames are sent with its Inline locked, so
// deliver cannot overtake them), or an error once the source is closed.
func (w *whepSource) next() (*media.Frame, func(), error) {
	w.mu.Lock()
	in, q := w.in, w.q
	w.mu.Unlock()
	if in != nil {
		f, err := in.Next(context.Background())
		return f, in.Unlock, err
	}
	f, err := q.Next(context.Background())
	return f, func() {}, err
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

// toTranscoder moves the session to the stream's shared transcoder;
// missed is the frame that made it move, which a transcoder started now
// codes first (the stream's first frame, when its publisher declared no
// codec).
func (w *whepSource) toTranscoder(missed *media.Frame) error {
	q := w.p.s.o.Hub.NewQueue(w.p.s.o.PlayQueue)
	tsub, err := w.p.s.o.Transcoder.Subscribe(w.p.key, transcode.Target{Codec: w.target.ID, Rate: w.target.SampleRate, Budget: w.p.s.o.MaxTranscoders, Missed: missed}, q)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoTranscoder, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		tsub.Close()
		return errClosed
	}
	if w.direct != nil {
		w.direct.Close() // no deliver after it (the play loop holds the Inline)
	}
	w.direct, w.tsub, w.in, w.q = nil, tsub, nil, q
	return nil
}

// peerLoss takes the loss fraction (of 256) of each report block the
// browser sends about the session's audio (both engines, after the
// record's figures) to the transcoder it plays from, whose Opus encoder
// then adds in-band FEC (transcode Subscription.ReportLoss), and counts
// the block. A pass-through session's audio is its publisher's to
// protect.
func (w *whepSource) peerLoss(fraction uint8) {
	w.p.s.Stats.PeerReports.Add(1) // a test waits on it for the record's figures
	w.mu.Lock()
	tsub := w.tsub
	w.mu.Unlock()
	if tsub != nil {
		tsub.ReportFractionLost(fraction)
	}
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
