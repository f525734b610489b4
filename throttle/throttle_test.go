package throttle

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newTest(c *clock) *Throttle     { return New(Options{Now: c.now}) }
func fails(th *Throttle, addr, acct string, n int) {
	for range n {
		th.Fail(addr, acct)
	}
}

func TestAddressBackoff(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	th := newTest(c)
	for i := range 5 {
		if w := th.Check("10.0.0.1:5000", "alice"); w != 0 {
			t.Fatalf("try %d: wait %v, want none within the free failures", i, w)
		}
		th.Fail("10.0.0.1:5000", "alice")
	}
	if w := th.Check("10.0.0.1:6000", "bob"); w != 0 {
		t.Fatalf("5 failures: wait %v, want 0 (5 are free)", w)
	}
	th.Fail("10.0.0.1", "bob")
	if w := th.Check("10.0.0.1", "carol"); w != time.Second {
		t.Fatalf("6th failure: wait %v, want 1s for any account from the address", w)
	}
	c.add(time.Second)
	th.Fail("10.0.0.1", "carol")
	if w := th.Check("10.0.0.1", "carol"); w != 2*time.Second {
		t.Fatalf("7th failure: wait %v, want 2s (doubling)", w)
	}
	if w := th.Check("10.0.0.2", "carol"); w != 0 {
		t.Fatalf("another address: wait %v, want 0", w)
	}
	if th.Stats.Refused.Load() != 2 || th.Stats.Failures.Load() != 7 {
		t.Fatalf("stats refused=%d failures=%d, want 2 and 7", th.Stats.Refused.Load(), th.Stats.Failures.Load())
	}
	c.add(2 * time.Second)
	th.Succeed("10.0.0.1", "carol")
	if w := th.Check("10.0.0.1", "carol"); w != 0 {
		t.Fatalf("after success: wait %v, want 0", w)
	}
}

func TestMaxDelayAndForget(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	th := newTest(c)
	fails(th, "10.0.0.1", "x", 40)
	if w := th.Check("10.0.0.1", "x"); w != time.Minute {
		t.Fatalf("wait %v, want the 1m ceiling", w)
	}
	c.add(16 * time.Minute)
	th.Fail("10.0.0.1", "x")
	if w := th.Check("10.0.0.1", "x"); w != 0 {
		t.Fatalf("after 16 quiet minutes one failure waits %v, want 0 (history forgotten)", w)
	}
}

// An attacker spread over many addresses guards the account: each of its
// addresses waits after one failure, while the real user on a clean
// address is never slowed.
func TestAccountUnderAttackSparesTheUser(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	th := newTest(c)
	for i := range 20 {
		th.Fail(fmt.Sprintf("10.1.0.%d", i), "alice")
	}
	th.Fail("10.1.0.99", "alice")
	if w := th.Check("10.1.0.99", "alice"); w != time.Second {
		t.Fatalf("attacking address after one failure: wait %v, want 1s", w)
	}
	if w := th.Check("10.1.0.99", "bob"); w != 0 {
		t.Fatalf("same address, other account: wait %v, want 0", w)
	}
	if w := th.Check("192.0.2.7", "alice"); w != 0 {
		t.Fatalf("real user's clean address: wait %v, want 0", w)
	}
}

func TestIPv6Prefix(t *testing.T) {
	for in, want := range map[string]string{
		"[2001:db8:1:2:3::4]:5060": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":     "2001:db8:1:2::/64",
		"::ffff:10.0.0.1":          "10.0.0.1",
		"10.0.0.1:1935":            "10.0.0.1",
		"not an address":           "not an address",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBoundedTables(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	th := New(Options{Now: c.now, MaxEntries: 100})
	for i := range 1000 {
		th.Fail(fmt.Sprintf("10.2.%d.%d", i/256, i%256), "alice")
	}
	th.mu.Lock()
	defer th.mu.Unlock()
	if len(th.addrs) > 100 || len(th.pairs) > 100 {
		t.Fatalf("tables grew to %d addresses, %d pairs; bound is 100", len(th.addrs), len(th.pairs))
	}
}
