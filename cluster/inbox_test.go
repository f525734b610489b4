package cluster

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// stuck is a player whose audio frames wait for open to close: it holds
// up the inbox that hands it relayed frames.
type stuck struct {
	open chan struct{}
	got  atomic.Int64
}

func (s *stuck) Receive(f *media.Frame) {
	if f.Kind != media.KindAudio {
		return
	}
	s.got.Add(1)
	<-s.open
}

// TestInboxFullDropsNotStalls: a node whose relays' inbox cannot keep up
// drops relayed frames within its bound, logs that once, does not slow the
// publishing node, and relays again when it catches up.
func TestInboxFullDropsNotStalls(t *testing.T) {
	defer func(n int) { inboxLen = n }(inboxLen)
	inboxLen = 8
	rec := newLogRecorder(testLogger(t).Handler())
	ns := startNodesWith(t, []string{"a", "b"}, func(i int, o *Options) {
		if i == 1 {
			o.Logger = slog.New(rec)
		}
	})
	a, b := ns[0], ns[1]
	pl := &stuck{open: make(chan struct{})}
	released := false
	release := func() {
		if !released {
			released = true
			close(pl.open)
		}
	}
	t.Cleanup(release) // before the nodes stop (cleanups run last first)
	defer b.hub.Subscribe("live/slow", pl).Close()
	pumped(t, a.hub, "live/slow")
	testwait.For(t, 10*time.Second, "the first relayed frame on b's stuck player", func() bool { return pl.got.Load() > 0 })
	out := a.c.Stats.FramesOut.Load()
	testwait.For(t, 10*time.Second, "b's inbox full", func() bool { return len(b.c.imp.in.ch) == cap(b.c.imp.in.ch) })
	// a's publisher (every 5 ms) and sender go on: 100 frames more.
	testwait.For(t, 10*time.Second, "a sending on", func() bool { return a.c.Stats.FramesOut.Load() > out+100 })
	if n := len(b.c.imp.in.ch); n > 8 {
		t.Fatalf("b's inbox holds %d frames, bound 8", n)
	}
	testwait.For(t, 5*time.Second, "the drops logged", func() bool { return rec.count("relayed frames dropped") > 0 })
	// Logged once a heartbeat at most, however many drops NATS reports.
	warned := rec.count("relayed frames dropped")
	later := time.Now().Add(time.Hour)
	for range 50 {
		b.c.natsError(nats.ErrSlowConsumer, later)
	}
	if n := rec.count("relayed frames dropped"); n != warned+1 {
		t.Fatalf("50 slow-consumer reports logged %d warnings, want 1", n-warned)
	}
	// Caught up, b relays again.
	release()
	got := pl.got.Load()
	testwait.For(t, 10*time.Second, "frames on b again", func() bool { return pl.got.Load() > got+50 })
}
