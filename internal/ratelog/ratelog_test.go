package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock whose timers run when Advance passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), f})
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			due = append(due, t.f)
		} else {
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

func TestLimiter(t *testing.T) {
	type step struct {
		advance time.Duration // before the events
		events  map[string]int
	}
	cases := []struct {
		name  string
		steps []step
		want  []string // lines as "cause count"
	}{
		{"one event, one line", []step{{0, map[string]int{"a": 1}}}, []string{"a 1"}},
		{"a flood: first line at once, the rest at the interval's end",
			[]step{{0, map[string]int{"a": 2000}}, {time.Minute, nil}}, []string{"a 1", "a 1999"}},
		{"causes are apart", []step{{0, map[string]int{"a": 3, "b": 5}}, {time.Minute, nil}},
			[]string{"a 1", "b 1", "a 2", "b 4"}},
		{"nothing pending: no line at the interval's end",
			[]step{{0, map[string]int{"a": 1}}, {2 * time.Minute, nil}}, []string{"a 1"}},
		{"a steady trickle: one line per interval",
			[]step{{0, map[string]int{"a": 10}}, {30 * time.Second, map[string]int{"a": 10}}, {30 * time.Second, map[string]int{"a": 10}},
				{30 * time.Second, map[string]int{"a": 10}}, {30 * time.Second, nil}},
			[]string{"a 1", "a 19", "a 20"}},
		{"quiet for an interval: starts over",
			[]step{{0, map[string]int{"a": 2}}, {time.Minute, nil}, {3 * time.Minute, map[string]int{"a": 1}}},
			[]string{"a 1", "a 1", "a 1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			clock := &fakeClock{now: time.Unix(1e9, 0)}
			l := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Now: clock.Now, AfterFunc: clock.AfterFunc})
			for _, s := range c.steps {
				clock.Advance(s.advance)
				for _, name := range []string{"a", "b"} {
					for range s.events[name] {
						l.Log(slog.LevelWarn, name, "refused", "addr", "10.0.0.1")
					}
				}
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if line == "" {
					continue
				}
				if !strings.Contains(line, `msg=refused addr=10.0.0.1`) || !strings.Contains(line, "per=1m0s") {
					t.Errorf("line %q lacks the message, its arguments or the interval", line)
				}
				var cause, count string
				for _, f := range strings.Fields(line) {
					if v, ok := strings.CutPrefix(f, "cause="); ok {
						cause = v
					}
					if v, ok := strings.CutPrefix(f, "count="); ok {
						count = v
					}
				}
				got = append(got, cause+" "+count)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("lines %q, want %q", got, c.want)
			}
			totals := l.Totals()
			for _, name := range []string{"a", "b"} {
				want := 0
				for _, s := range c.steps {
					want += s.events[name]
				}
				if totals[name] != uint64(want) {
					t.Errorf("Totals()[%s] = %d, want %d", name, totals[name], want)
				}
			}
		})
	}
}

// A nil Limiter is a valid no-op, so optional wiring needs no checks.
func TestNilLimiter(t *testing.T) {
	var l *Limiter
	l.Log(slog.LevelWarn, "a", "refused")
}
