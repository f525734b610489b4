package sipbridge

import (
	"errors"
	"regexp"
	"testing"
	"time"
)

func TestExternalCaller(t *testing.T) {
	for from, want := range map[string]string{
		"+15551234567": "ext:+15551234567",
		"alice":        "ext:alice",
		"":             "ext:anonymous",
		"<script>":     "ext:script",
		"a:b@c":        "ext:abc",
		"ext:bob":      "ext:extbob",
		"123456789012345678901234567890123456789": "ext:12345678901234567890123456789012",
	} {
		if got := externalCaller(from); got != want {
			t.Errorf("externalCaller(%q) = %q, want %q", from, got, want)
		}
	}
}

func TestTrunkFor(t *testing.T) {
	from, err := ParsePrefixes([]string{"192.0.2.0/24", "2001:db8::1", "198.51.100.7"})
	if err != nil {
		t.Fatal(err)
	}
	b := &Bridge{}
	b.routing.Store(newRouting([]Trunk{{Name: "up", InboundFrom: from}}, nil, nil))
	for src, want := range map[string]string{
		"192.0.2.9:5060": "up", "[2001:db8::1]:5060": "up", "198.51.100.7:5060": "up", "[::ffff:192.0.2.1]:5060": "up",
		"198.51.100.8:5060": "", "[2001:db8::2]:5060": "", "127.0.0.1:5060": "", "garbage": "",
	} {
		if got := b.trunkFor(src); got != want {
			t.Errorf("trunkFor(%s) = %q, want %q", src, got, want)
		}
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/33"}); err == nil {
		t.Error("10.0.0.0/33 parsed")
	}
}

// TestDialLimits: the dial plan's refusals, each with its reason: no
// rule, a rule for other users, calls per minute, calls per day (which
// start afresh the next UTC day).
func TestDialLimits(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	b := &Bridge{
		opts: Options{
			DialPlan: []Rule{
				{Match: regexp.MustCompile(`^00[1-9][0-9]{6,14}$`), Trunk: "up", Users: []string{"bob"}},
				{Match: regexp.MustCompile(`^0?[1-9][0-9]{5,11}$`), Trunk: "up"},
			},
			CallsPerMinute: 3, CallsPerDay: 4,
		},
		limit: rateLimiter{n: 3, now: clock},
		daily: dailyLimiter{n: 4, now: clock},
	}
	b.routing.Store(newRouting([]Trunk{{Name: "up"}}, b.opts.DialPlan, nil))
	dial := func(user, to string) error {
		_, err := b.checkDial(user, to)
		return err
	}
	steps := []struct {
		user, to string
		advance  time.Duration
		want     error
	}{
		{"alice", "+15551234567", 0, ErrNoRoute},
		{"alice", "0044201234567", 0, ErrNotPermitted},
		{"bob", "0044201234567", 0, nil},
		{"alice", "0301234567", 0, nil},
		{"alice", "0301234567", 0, nil},
		{"alice", "0301234567", 0, nil},
		{"alice", "0301234567", 0, ErrRateLimited},
		{"alice", "0301234567", 61 * time.Second, nil}, // alice's 4th today
		{"alice", "0301234567", 61 * time.Second, ErrDailyLimit},
		{"bob", "0301234567", 0, nil},
		{"alice", "0301234567", 12 * time.Hour, nil}, // the next day
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if err := dial(s.user, s.to); !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Fatalf("step %d: %s dials %s: %v, want %v", i, s.user, s.to, err, s.want)
		}
	}
}
