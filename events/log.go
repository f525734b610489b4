package events

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Log is one user's bounded event log. Cursors start at 1 and increase by
// one per event; a reader asks for everything from cursor N on and is told
// the cursor to ask next, so no event is lost or repeated between reads
// unless the log dropped it for space (reported as Missed).
type Log struct {
	mu     sync.Mutex
	buf    []Entry // ring of the newest events
	start  int     // index in buf of the oldest event
	n      int     // events held
	next   uint64  // cursor of the next event
	notify chan struct{}
}

// NewLog makes a log that keeps the newest capacity events.
func NewLog(capacity int) *Log {
	return &Log{buf: make([]Entry, max(capacity, 1)), next: 1, notify: make(chan struct{})}
}

// Append stores ev, which happened at t, with the next cursor, wakes every
// waiting reader and returns the stored entry.
func (l *Log) Append(t time.Time, ev Event) Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := Entry{Cursor: l.next, Time: t, Event: ev}
	l.next++
	if l.n == len(l.buf) {
		l.buf[l.start] = e
		l.start = (l.start + 1) % len(l.buf)
	} else {
		l.buf[(l.start+l.n)%len(l.buf)] = e
		l.n++
	}
	close(l.notify)
	l.notify = make(chan struct{})
	return e
}

// Head is the cursor the next event will get: reading from Head returns
// only events that happen from now on.
func (l *Log) Head() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// Page is the answer to a read.
type Page struct {
	Events []Entry
	Next   uint64 // the cursor to read from next time
	Missed uint64 // events from the asked cursor on that the log no longer holds
}

// Since returns up to limit events with cursor >= cursor (limit <= 0: all).
// Cursor 0, or one beyond the head (a client of an earlier server process),
// reads everything the log holds.
func (l *Log) Since(cursor uint64, limit int) Page {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, _ := l.sinceLocked(cursor, limit)
	return p
}

func (l *Log) sinceLocked(cursor uint64, limit int) (Page, <-chan struct{}) {
	oldest := l.next - uint64(l.n)
	if cursor == 0 || cursor > l.next {
		cursor = oldest
	}
	var p Page
	if cursor < oldest {
		p.Missed = oldest - cursor
		cursor = oldest
	}
	count := int(l.next - cursor)
	if limit > 0 && count > limit {
		count = limit
	}
	if count > 0 {
		p.Events = make([]Entry, count)
		first := l.start + int(cursor-oldest)
		for i := range count {
			p.Events[i] = l.buf[(first+i)%len(l.buf)]
		}
	}
	p.Next = cursor + uint64(count)
	return p, l.notify
}

// Wait is Since that blocks until at least one event is there or ctx ends
// (then it returns the empty page and ctx's error). It answers as soon as
// an event is appended.
func (l *Log) Wait(ctx context.Context, cursor uint64, limit int) (Page, error) {
	for {
		l.mu.Lock()
		p, ch := l.sinceLocked(cursor, limit)
		l.mu.Unlock()
		if len(p.Events) > 0 || p.Missed > 0 {
			return p, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return p, ctx.Err()
		}
	}
}

// Follow hands every event from cursor on to deliver, in log order, a page
// at a time, until ctx ends (it returns ctx's error) or deliver fails (its
// error). After each page it tells delivered the cursor to read from next.
// Events a slow reader lost to the log's bound are logged on log.
func (l *Log) Follow(ctx context.Context, cursor uint64, log *slog.Logger, deliver func(Entry) error, delivered func(next uint64)) error {
	for {
		p, err := l.Wait(ctx, cursor, 100)
		if err != nil {
			return err
		}
		if p.Missed > 0 {
			log.Warn("events lost to a slow connection", "missed", p.Missed)
		}
		cursor = p.Next
		for _, e := range p.Events {
			if err := deliver(e); err != nil {
				return err
			}
		}
		delivered(cursor)
	}
}
