// Package ratelog logs events that an attacker can repeat at will (refused
// connections, failed handshakes, limit hits) without letting them flood
// the log: at most one line per cause per interval, carrying how many
// events it stands for. The exact counts belong in metrics; the log says
// that something is happening, to whom last, and how much.
//
// The first event of a cause is logged at once (count=1). Later events in
// the same interval are only counted; when the interval ends, one line
// reports them (count=N, the arguments of the last one). A cause that
// stays quiet for an interval starts over.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultInterval is the interval of a Limiter made with none.
const DefaultInterval = time.Minute

// Options configure a Limiter.
type Options struct {
	Logger   *slog.Logger  // nil: discard
	Interval time.Duration // 0: DefaultInterval
	// Now and AfterFunc are the clock (tests inject theirs); nil: the
	// time package's.
	Now       func() time.Time
	AfterFunc func(d time.Duration, f func())
}

// Limiter rate-limits log lines by cause; safe for concurrent use. The
// zero value is not usable: make one with New.
type Limiter struct {
	o      Options
	mu     sync.Mutex
	causes map[string]*cause
}

// cause is one cause's state: when its last line was written and what
// happened since.
type cause struct {
	last    time.Time // of the last line written
	pending uint64    // events since that line
	armed   bool      // a flush is scheduled at last+interval
	total   uint64    // events ever
	level   slog.Level
	msg     string
	args    []any
}

// New makes a Limiter.
func New(o Options) *Limiter {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	return &Limiter{o: o, causes: map[string]*cause{}}
}

// Log records one event of cause name: written now (msg, args, cause=,
// count=1) if name had no line this interval, else counted for the line at the
// interval's end. A nil Limiter writes nothing.
func (l *Limiter) Log(level slog.Level, name, msg string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	c := l.causes[name]
	if c == nil {
		c = &cause{}
		l.causes[name] = c
	}
	c.total++
	now := l.o.Now()
	if c.last.IsZero() || now.Sub(c.last) >= l.o.Interval {
		n := c.pending + 1
		c.last, c.pending = now, 0
		l.mu.Unlock()
		l.write(level, name, msg, args, n)
		return
	}
	c.pending++
	c.level, c.msg, c.args = level, msg, args
	if !c.armed {
		c.armed = true
		l.o.AfterFunc(c.last.Add(l.o.Interval).Sub(now), func() { l.flush(name) })
	}
	l.mu.Unlock()
}

// flush writes cause's events counted since its last line.
func (l *Limiter) flush(name string) {
	l.mu.Lock()
	c := l.causes[name]
	c.armed = false
	if c.pending == 0 {
		l.mu.Unlock()
		return
	}
	n, level, msg, args := c.pending, c.level, c.msg, c.args
	c.last, c.pending, c.args = l.o.Now(), 0, nil
	l.mu.Unlock()
	l.write(level, name, msg, args, n)
}

func (l *Limiter) write(level slog.Level, name, msg string, args []any, n uint64) {
	l.o.Logger.Log(context.Background(), level, msg, append(args[:len(args):len(args)], "cause", name, "count", n, "per", l.o.Interval)...)
}

// Totals returns how many events each cause had, for metrics.
func (l *Limiter) Totals() map[string]uint64 {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]uint64, len(l.causes))
	for name, c := range l.causes {
		out[name] = c.total
	}
	return out
}
