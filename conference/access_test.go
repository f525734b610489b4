package conference

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/throttle"
)

// fakeClock is a settable clock for the throttle.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestPINGuessingThrottled: an attacker trying every 4-digit PIN from one
// address, waiting exactly as long as each refusal says, needs days
// (unthrottled, the HTTP API let one address find it in 0.9 s); the member
// who knows the PIN joins from another address at once meanwhile.
func TestPINGuessingThrottled(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	guard := throttle.New(throttle.Options{Now: clock.Now})
	s := newTestService(t, Options{Throttle: guard, Rooms: []RoomConfig{{Name: "board", PIN: "9876", Moderators: []string{"alice"}}}})
	start := clock.Now()
	tries, refused := 0, 0
	for pin := 0; pin < 10000; pin++ {
		p := fmt.Sprintf("%04d", pin)
		for {
			_, _, err := s.Join("board", JoinOptions{User: "eve", PIN: p, Addr: "192.0.2.66:40000"})
			var te *ThrottledError
			if errors.As(err, &te) {
				if !errors.Is(err, ErrThrottled) || te.Retry <= 0 {
					t.Fatalf("throttled join: %v", err)
				}
				refused++
				clock.Add(te.Retry)
				continue
			}
			tries++
			if err == nil {
				t.Logf("PIN %s found after %d tries, %d refusals, %v of waiting", p, tries, refused, clock.Now().Sub(start).Round(time.Second))
				if d := clock.Now().Sub(start); d < 24*time.Hour {
					t.Fatalf("a 4-digit PIN found in %v from one address", d)
				}
				return
			}
			if !errors.Is(err, ErrBadPIN) {
				t.Fatalf("join %s: %v", p, err)
			}
			break
		}
		if pin == 50 {
			// The real member, elsewhere, is not locked out by the attack.
			m, _, err := s.Join("board", JoinOptions{User: "alice", PIN: "9876", Addr: "198.51.100.7:5000"})
			if err != nil {
				t.Fatalf("alice, from her own address, during the attack: %v", err)
			}
			m.Leave()
		}
	}
	t.Fatal("the PIN was never found")
}

// TestListingShowsNoStreamNames: Rooms and Room name members, never their
// streams; a member learns the others' streams from its join answer.
func TestListingShowsNoStreamNames(t *testing.T) {
	s := newTestService(t, Options{DefaultMode: ModeRelay})
	if _, _, err := s.Join("r", JoinOptions{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, jb, err := s.Join("r", JoinOptions{User: "bob"})
	if err != nil || jb.Members[0].Play == "" {
		t.Fatalf("bob's join answer names alice's stream: %+v %v", jb, err)
	}
	info, err := s.Room("r")
	if err != nil || len(info.Members) != 2 {
		t.Fatalf("room: %+v %v", info, err)
	}
	for _, ri := range append(s.Rooms(), info) {
		for _, m := range ri.Members {
			if m.Play != "" {
				t.Fatalf("listing shows %s's stream %q", m.User, m.Play)
			}
		}
	}
}

// TestPlayEndsWithMembership: the channel PlayEnds gives closes when the
// player's membership ends (kicked), not before; a non-member gets none.
func TestPlayEndsWithMembership(t *testing.T) {
	s := newTestService(t, Options{DefaultMode: ModeRelay})
	if _, _, err := s.Join("r", JoinOptions{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	b, jb, err := s.Join("r", JoinOptions{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	name := jb.Members[0].Play
	if s.PlayEnds("carol", name) != nil {
		t.Fatal("a non-member got a play watch")
	}
	ends := s.PlayEnds("bob", name)
	select {
	case <-ends:
		t.Fatal("ended before the kick")
	default:
	}
	if err := s.Kick("alice", "r", b.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ends:
	case <-time.After(5 * time.Second):
		t.Fatal("bob's play watch did not end with his kick")
	}
	if _, err := s.StreamKey("bob", name, false); !errors.Is(err, ErrStreamDenied) {
		t.Fatalf("bob plays after his kick: %v", err)
	}
}
