// Package testwait is the one way tests wait for something to happen:
// poll a condition until it holds, and fail naming what was awaited when
// the time is up. Tests never sleep a fixed time to let an event happen.
package testwait

import (
	"testing"
	"time"
)

// poll is how often the condition is checked: short against the events
// tests wait for (tens of milliseconds and more), long enough not to load
// a 2-core CI machine.
const poll = 5 * time.Millisecond

// For waits until cond returns true, failing t after within.
func For(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(poll)
	}
}

// ForDetail is For for waits whose failure needs more than a name: detail
// (a process's output, the state last seen) is added to the message.
func ForDetail(t testing.TB, within time.Duration, what string, cond func() bool, detail func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s\n%s", within, what, detail())
		}
		time.Sleep(poll)
	}
}
