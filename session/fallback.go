package session

import (
	"sync"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// A plain play (no ?codec=) of a stream in Opus — a browser publishing
// with WHIP — would be silent: FLV has no Opus SoundFormat. Its player
// gets the stream's audio as Speex 16 kHz instead (every Flash Player and
// ffmpeg decodes it), through the shared transcoder, started at the first
// Opus frame. It counts against rtmp.max_transcoders like ?codec=, and the
// application's transcode: off turns it off, but it needs no signed-in
// user: without it the stream could not be heard at all. Video and data
// keep coming through the player's own subscription.
var fallbackTarget = transcode.Target{Codec: codec.Speex, Rate: 16000}

// fallback is a player's transcoded audio subscription; mu guards it
// against the race of a late start with the play's stop.
type fallback struct {
	mu      sync.Mutex
	started bool
	stopped bool
	sub     interface{ Close() }
}

// needsFallback reports whether f is audio a plain play cannot carry and
// the player should hear transcoded.
func needsFallback(f *media.Frame) bool { return f.Kind == media.KindAudio && f.Codec == codec.Opus }

// startFallback starts the transcoded subscription once, off the
// publisher's goroutine (Subscribe may wait on the hub), first coding f,
// the frame that called for it (transcode.Target.Missed). Called with
// p.mu held.
func (p *player) startFallback(f *media.Frame) {
	fb := &p.fb
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.started || fb.stopped {
		return
	}
	fb.started = true
	s := p.s
	if s.opts.Transcoder == nil || s.opts.Transcode[s.appName] == TranscodeOff {
		s.log.Info("opus stream not playable without ?codec= here", "stream", p.key)
		return
	}
	go func() {
		t := fallbackTarget
		t.Budget, t.Missed = s.opts.MaxTranscoders, f
		sub, err := s.opts.Transcoder.Subscribe(p.key, t, media.ReceiverFunc(p.receiveFallback))
		if err != nil {
			s.countTranscodeRefused()
			s.log.Warn("opus stream: no transcoder for a plain play", "stream", p.key, "err", err)
			return
		}
		fb.mu.Lock()
		defer fb.mu.Unlock()
		if fb.stopped {
			sub.Close()
			return
		}
		fb.sub = sub
		s.log.Info("opus stream played as speex", "stream", p.key)
	}()
}

// receiveFallback delivers the transcoded audio; everything else comes
// through the player's own subscription.
func (p *player) receiveFallback(f *media.Frame) {
	if f.Kind != media.KindAudio || p.stopped.Load() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		p.deliverLocked(f)
	}
}

// stopFallback ends the transcoded subscription, if any.
func (p *player) stopFallback() {
	fb := &p.fb
	fb.mu.Lock()
	defer fb.mu.Unlock()
	fb.stopped = true
	if fb.sub != nil {
		fb.sub.Close()
		fb.sub = nil
	}
}
