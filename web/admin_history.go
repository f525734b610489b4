package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/flashvox/flashvox/store"
)

// historyTimeout bounds one read or write of the chart samples: the
// sampling goroutine waits for it, and a slow store must not stall the
// dashboard for long.
const historyTimeout = 2 * time.Second

// HistoryStore keeps the dashboard's chart samples (store.DB).
type HistoryStore interface {
	AddSample(ctx context.Context, node string, s store.Sample, keep time.Duration) error
	Samples(ctx context.Context, node string, since time.Time, max int) ([]store.Sample, error)
}

// window is how far back the charts look: Keep samples of Sample.
func (l *Live) window() time.Duration {
	return time.Duration(l.keep()) * durationOr(l.Sample, 10*time.Second)
}

// load fills the ring with the stored samples of the last window (a
// restart keeps the charts).
func (l *Live) load(ctx context.Context) {
	if l.Store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, historyTimeout)
	defer cancel()
	ss, err := l.Store.Samples(ctx, l.Node, time.Now().Add(-l.window()), l.keep())
	if err != nil {
		l.log().Warn("dashboard: chart history not loaded", "err", err)
		return
	}
	for _, s := range ss {
		l.add(Sample{At: s.At, Calls: s.Calls, Streams: s.Streams})
	}
}

// save stores s, and forgets samples older than the window.
func (l *Live) save(s Sample) {
	if l.Store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), historyTimeout)
	defer cancel()
	if err := l.Store.AddSample(ctx, l.Node, store.Sample{At: s.At, Calls: s.Calls, Streams: s.Streams}, l.window()); err != nil {
		l.log().Warn("dashboard: chart sample not stored", "err", err)
	}
}

func (l *Live) log() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.New(slog.DiscardHandler)
}
