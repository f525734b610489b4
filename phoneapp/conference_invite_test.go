package phoneapp_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/amf"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/audiotest"
)

// A moderator invites a user: the user's phone rings with a call from
// conf:ROOM, answering puts it in the room (the others are told), it hears
// the room on the call's stream and the room hears it; its bye takes it
// out. Others may not invite; an offline user cannot be invited.
func TestConferenceInviteUser(t *testing.T) {
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
		db := audiotest.ToneDB(c.pcm[len(c.pcm)/3:], 16000, c.freq)
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
