package session

import (
	"time"

	"github.com/flashvox/flashvox/media"
)

// codePlayStreamNotFound ends a play whose stream nobody published within
// the application's play wait.
const codePlayStreamNotFound = "NetStream.Play.StreamNotFound"

// PlayWaiter is an AppConn whose players wait a bounded time for a
// publisher: a play of a name nobody publishes (yet, or any more) gets
// NetStream.Play.StreamNotFound and ends after PlayWait, unless a publisher
// comes first. 0, and an AppConn that is no PlayWaiter, wait for ever (as
// Flash Media Server and nginx-rtmp's default idle_streams on).
type PlayWaiter interface {
	PlayWait() time.Duration
}

// PlayWait is the live application's LiveApp.PlayWait.
func (c *liveConn) PlayWait() time.Duration { return c.app.PlayWait }

// playWait is a player's wait for a publisher, guarded by player.mu. The
// hub tells the player of publishers that come and go (KindPublish,
// KindUnpublish: noteLocked); the timer runs while nobody publishes.
type playWait struct {
	d     time.Duration // 0: wait for ever
	armed bool          // set by arm: the play is set up, the timer may run
	seen  bool          // a publish or unpublish event arrived
	live  bool          // the last event was a publish
	timer *time.Timer
	gen   uint64 // which arming the running timer belongs to
}

// playWaitOf is the play wait of the session's application.
func (s *Session) playWaitOf() time.Duration {
	if w, ok := s.appConn.(PlayWaiter); ok {
		return w.PlayWait()
	}
	return 0
}

// noteLocked follows a publish or unpublish event.
func (p *player) noteLocked(k media.Kind) {
	w := &p.wait
	if w.d <= 0 || (k != media.KindPublish && k != media.KindUnpublish) {
		return
	}
	w.seen, w.live = true, k == media.KindPublish
	if w.armed {
		p.setTimerLocked(!w.live)
	}
}

// armWait starts the play wait once the play is set up; published is
// whether the stream had a publisher after the subscription began.
func (p *player) armWait(published bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w := &p.wait
	if w.d <= 0 {
		return
	}
	w.armed = true
	if w.seen {
		published = w.live // an event since the subscription says more
	}
	p.setTimerLocked(!published)
}

// setTimerLocked runs the timer from now (on) or stops it.
func (p *player) setTimerLocked(on bool) {
	w := &p.wait
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
	w.gen++
	if !on {
		return
	}
	gen := w.gen
	w.timer = time.AfterFunc(w.d, func() { p.notFound(gen) })
}

// stopWait stops the timer (the play ends).
func (p *player) stopWait() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wait.armed = false
	p.setTimerLocked(false)
}

// notFound ends a play whose stream nobody published within the wait: the
// client gets NetStream.Play.StreamNotFound (level error: ffmpeg and
// rtmpdump exit on it); the NetStream and the connection stay.
func (p *player) notFound(gen uint64) {
	p.mu.Lock()
	stale := gen != p.wait.gen || p.wait.live
	p.mu.Unlock()
	if stale || p.stopped.Swap(true) {
		return
	}
	p.sub.Close()
	p.s.log.Info("play ended: stream not found", "stream", p.key, "code", codePlayStreamNotFound, "play_wait", p.wait.d)
	_ = p.s.onStatus(p.streamID, errorInfo(codePlayStreamNotFound,
		"Live stream not found: nobody published "+p.name+" within "+p.wait.d.String()+".", "details", p.name))
}
