package phone_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/audiotest"
	"github.com/flashvox/flashvox/internal/test/testpeer"
)

// A moderator invites a user: the user's phone rings with a call from
// conf:ROOM, answering puts it in the room (the others are told), it hears
// the room on the call's stream and the room hears it; its bye takes it
// out. Others may not invite; an offline user cannot be invited.
func TestConferenceInviteUser(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	st, confs := startConfStack(t, conference.ModeAuto)
	alice, carol, bob := dialConf(t, st.Addr, "alice"), dialConf(t, st.Addr, "carol"), dialConf(t, st.Addr, "bob")
	ja := alice.join("inv") // the creator moderates an ad-hoc room
	carol.join("inv")
	if _, err := carol.call("inviteToConference", "inv", "bob"); err == nil || !strings.Contains(err.Error(), "moderator") {
		t.Fatalf("carol (not a moderator) invited bob: %v", err)
	}
	if _, err := alice.call("inviteToConference", "inv", "dave"); err == nil || !strings.Contains(err.Error(), "offline") {
		t.Fatalf("alice invited offline dave: %v", err)
	}
	if _, err := alice.call("inviteToConference", "inv", "bob"); err != nil {
		t.Fatalf("alice invites bob: %v", err)
	}
	in := bob.expect("onIncomingCall", 5*time.Second, nil)
	if in.GetString("from") != "conf:inv" {
		t.Errorf("bob's call is from %q, want conf:inv", in.GetString("from"))
	}
	acc, err := bob.call("accept", in.GetString("call"))
	if err != nil {
		t.Fatalf("bob accepts: %v", err)
	}
	// bob is a call device: the room became mixed (told first), alice
	// plays her mix now.
	mode := alice.expect("onConferenceMode", 5*time.Second, nil)
	alice.expect("onConferenceJoined", 5*time.Second, func(o *amf.Object) bool { return o.GetString("user") == "bob" })
	info, err := confs.Room("inv")
	if err != nil || info.Mode != conference.ModeMixed || len(info.Members) != 3 {
		t.Fatalf("room after bob answered: %+v, %v", info, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	alice.play(mode.GetString("play"))
	bob.play(acc.GetString("play"))
	var heardA, heardB []int16
	var wg sync.WaitGroup
	wg.Go(func() { heardA = alice.hear(ctx) })
	wg.Go(func() { heardB = bob.hear(ctx) })
	wg.Go(func() {
		if err := alice.talk(ctx, ja.GetString("publish"), 500); err != nil {
			t.Error(err)
		}
	})
	wg.Go(func() {
		if err := bob.talk(ctx, acc.GetString("publish"), 1100); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	for _, c := range []struct {
		who  string
		pcm  []int16
		freq float64
	}{{"alice", heardA, 1100}, {"bob", heardB, 500}} {
		if len(c.pcm) < 16000 {
			t.Fatalf("%s heard %d samples", c.who, len(c.pcm))
		}
		db := audiotest.SpanToneDB(c.pcm[len(c.pcm)/3:], 16000, c.freq)
		t.Logf("%s hears %.0f Hz at %.1f dB", c.who, c.freq, db)
		if db < -30 {
			t.Errorf("%s hears %.0f Hz at %.1f dB, want above -30", c.who, c.freq, db)
		}
	}
	if _, err := bob.call("bye", in.GetString("call")); err != nil {
		t.Fatal(err)
	}
	alice.expect("onConferenceLeft", 5*time.Second, func(o *amf.Object) bool { return o.GetString("user") == "bob" })
}

// An invited user who refuses the ring: the moderator is told
// onConferenceInviteFailed with the target and the reason (busy, then
// rejected); a member who does not moderate is not told.
func TestConferenceInviteRejected(t *testing.T) {
	st, confs := startConfStack(t, conference.ModeAuto)
	alice, carol, bob := dialConf(t, st.Addr, "alice"), dialConf(t, st.Addr, "carol"), dialConf(t, st.Addr, "bob")
	alice.join("rej") // the creator moderates an ad-hoc room
	carol.join("rej")
	for _, c := range []struct{ asked, want string }{{"busy", "busy"}, {"", "rejected"}} {
		if _, err := alice.call("inviteToConference", "rej", "bob"); err != nil {
			t.Fatalf("alice invites bob: %v", err)
		}
		in := bob.expect("onIncomingCall", 5*time.Second, nil)
		args := []any{in.GetString("call")}
		if c.asked != "" {
			args = append(args, c.asked)
		}
		if _, err := bob.call("reject", args...); err != nil {
			t.Fatalf("bob rejects: %v", err)
		}
		f := alice.expect("onConferenceInviteFailed", 10*time.Second, nil)
		if f.GetString("room") != "rej" || f.GetString("user") != "bob" || f.GetString("by") != "alice" ||
			f.GetString("reason") != c.want || f.GetString("type") != "conf_invite_failed" {
			t.Errorf("alice is told %v, want room rej, user bob, by alice, reason %s", f, c.want)
		}
	}
	// carol's events are in order: the lock after the failures comes after
	// any invite_failed she would have been told.
	if _, err := alice.call("lockConference", "rej", true); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	for done := false; !done; {
		select {
		case o := <-carol.events:
			switch o.GetString("method") {
			case "onConferenceInviteFailed":
				t.Errorf("carol (not a moderator) is told %v", o)
			case "onConferenceLocked":
				done = true
			}
		case <-timeout:
			t.Fatal("carol is never told the lock")
		}
	}
	if info, err := confs.Room("rej"); err != nil || len(info.Members) != 2 {
		t.Errorf("room after the refusals: %+v, %v", info, err)
	}
}
