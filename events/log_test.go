package events

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestLogSinceAndBound(t *testing.T) {
	l := NewLog(4)
	if p := l.Since(0, 0); len(p.Events) != 0 || p.Next != 1 {
		t.Fatalf("empty log: %+v", p)
	}
	for i := range 6 {
		l.Append(time.Time{}, digits(string(rune('0'+i))))
	}
	p := l.Since(1, 0)
	if p.Missed != 2 || len(p.Events) != 4 || p.Events[0].Cursor != 3 || p.Next != 7 {
		t.Fatalf("bounded read: %+v", p)
	}
	if p := l.Since(5, 1); len(p.Events) != 1 || digitsOf(p.Events[0]) != "4" || p.Next != 6 {
		t.Fatalf("limited read: %+v", p)
	}
	if p := l.Since(7, 0); len(p.Events) != 0 || p.Next != 7 {
		t.Fatalf("read at head: %+v", p)
	}
	if p := l.Since(99, 0); len(p.Events) != 4 || p.Next != 7 {
		t.Fatalf("cursor from an earlier process reads everything held: %+v", p)
	}
	if l.Head() != 7 {
		t.Fatalf("head %d", l.Head())
	}
}

// TestLogThousandEventsRandomPolling appends 1000 events at random moments
// while a reader polls at random intervals (and sometimes long-polls); every
// event must arrive exactly once and in order.
func TestLogThousandEventsRandomPolling(t *testing.T) {
	const n = 1000
	l := NewLog(n)
	r := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	wg.Go(func() {
		w := rand.New(rand.NewPCG(3, 4))
		for i := range n {
			l.Append(time.Time{}, digits(itoa(i)))
			if w.IntN(20) == 0 {
				time.Sleep(time.Duration(w.IntN(500)) * time.Microsecond) // pace the writer, not a wait for an event
			}
		}
	})
	var got []Entry
	cursor := uint64(0)
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		var p Page
		if r.IntN(3) == 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			p, _ = l.Wait(ctx, cursor, r.IntN(50))
			cancel()
		} else {
			p = l.Since(cursor, r.IntN(50))
			time.Sleep(time.Duration(r.IntN(300)) * time.Microsecond) // random polling interval
		}
		if p.Missed != 0 {
			t.Fatalf("missed %d events", p.Missed)
		}
		got = append(got, p.Events...)
		cursor = p.Next
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("got %d events, want %d", len(got), n)
	}
	for i, e := range got {
		if e.Cursor != uint64(i+1) || digitsOf(e) != itoa(i) {
			t.Fatalf("event %d: cursor %d digits %s", i, e.Cursor, digitsOf(e))
		}
	}
}

// digits is a test event: a DTMF-like event with one field.
type digits string

func (digits) EventType() string { return "dtmf" }

func (d digits) WireFields(f []Field) []Field { return append(f, Field{"digits", string(d)}) }

func digitsOf(e Entry) string { return string(e.Event.(digits)) }

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

// TestLogLongPollWakesFast: a waiting reader must get an event within 50 ms
// of its append (typically microseconds).
func TestLogLongPollWakesFast(t *testing.T) {
	l := NewLog(16)
	var worst time.Duration
	for range 20 {
		head := l.Head()
		got := make(chan time.Time, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if p, err := l.Wait(ctx, head, 0); err == nil && len(p.Events) == 1 {
				got <- time.Now()
			}
			close(got)
		}()
		time.Sleep(time.Millisecond) // let the reader block first (not a wait for the event)
		at := time.Now()
		l.Append(time.Now(), digits(""))
		when, ok := <-got
		if !ok {
			t.Fatal("long-poll returned without the event")
		}
		worst = max(worst, when.Sub(at))
	}
	// Woken by the event, not by the 5 s timeout. How fast is for
	// benchmarks to measure, not for a test on a loaded machine to assert.
	if worst >= 2500*time.Millisecond {
		t.Fatalf("long-poll answered after %v: the event did not wake it", worst)
	}
	t.Logf("worst long-poll wake-up latency over 20 events: %v", worst)
}

func TestLogWaitEndsWithContext(t *testing.T) {
	l := NewLog(4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	p, err := l.Wait(ctx, l.Head(), 0)
	if err == nil || len(p.Events) != 0 || p.Next != 1 {
		t.Fatalf("%+v %v", p, err)
	}
}

// TestFollow: every event once, in order, the next cursor after each page,
// and the end on a delivery error or ctx.
func TestFollow(t *testing.T) {
	l := NewLog(16)
	for i := range 5 {
		l.Append(time.Time{}, digits(itoa(i)))
	}
	var got []uint64
	var next uint64
	stop := errors.New("stop")
	err := l.Follow(context.Background(), 1, slog.New(slog.DiscardHandler), func(e Entry) error {
		got = append(got, e.Cursor)
		if e.Cursor == 5 {
			return stop
		}
		return nil
	}, func(n uint64) { next = n })
	if !errors.Is(err, stop) || !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) || next != 0 {
		t.Fatalf("got %v, next %d, err %v", got, next, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- l.Follow(ctx, 3, slog.New(slog.DiscardHandler), func(Entry) error { return nil }, func(n uint64) {
			if n == 6 {
				cancel()
			}
		})
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
}
