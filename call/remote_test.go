package call

import (
	"slices"
	"strings"
	"testing"

	"github.com/flashvox/flashvox/presence"
)

// TestRemotePresence: users on other nodes show in Presence and their
// changes reach the watchers; a user connected here shows as here.
func TestRemotePresence(t *testing.T) {
	s := NewService(Options{}, "alice", "bob", "carol")
	defer s.Close()
	told := func() []string { // bob's presence events in alice's log
		var out []string
		for _, e := range s.Log("alice").Since(0, 0).Events {
			if p, ok := e.Event.(presence.Event); ok && p.User == "bob" {
				out = append(out, p.Status)
			}
		}
		return out
	}
	s.SetRemotePresence(map[string]string{"bob": Online, "dave": Online}) // dave is unknown here
	if got := s.Presence(); got["bob"] != Online || got["carol"] != Offline {
		t.Fatalf("presence %v", got)
	}
	// What the HTTP API's /presence answers (with contact lists) too.
	if got := s.PresenceFor("alice"); got["bob"] != Online {
		t.Fatalf("presence for alice %v", got)
	}
	if _, ok := s.Presence()["dave"]; ok {
		t.Fatal("an unknown user appeared")
	}
	s.SetRemotePresence(map[string]string{"bob": Busy})
	d := s.Attach("bob", "rtmp") // bob here too: here wins
	if got := s.Presence()["bob"]; got != Online {
		t.Fatalf("bob connected here: %s", got)
	}
	s.Detach(d) // back to what the other node says
	if got := s.Presence()["bob"]; got != Busy {
		t.Fatalf("bob after leaving here: %s", got)
	}
	s.SetRemotePresence(nil)
	want := []string{Online, Busy, Online, Busy, Offline}
	got := told()
	if len(got) != len(want) {
		t.Fatalf("alice was told %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("alice was told %v, want %v", got, want)
		}
	}
}

// TestRemotePresenceChanges: one node's message changes only its users,
// and the watchers hear each change once; a later whole list still
// replaces it all.
func TestRemotePresenceChanges(t *testing.T) {
	s := NewService(Options{}, "alice", "bob", "carol")
	defer s.Close()
	remote := map[string]string{"bob": Online, "carol": Online}
	s.SetRemotePresence(remote)
	s.UpdateRemotePresence(map[string]string{"bob": Busy, "carol": Online})
	if remote["bob"] != Online {
		t.Fatal("the update changed the caller's map")
	}
	if got := s.Presence(); got["bob"] != Busy || got["carol"] != Online {
		t.Fatalf("after bob's change: %v", got)
	}
	s.UpdateRemotePresence(map[string]string{"carol": ""})
	if got := s.Presence(); got["bob"] != Busy || got["carol"] != Offline {
		t.Fatalf("after carol left: %v", got)
	}
	var told []string
	for _, e := range s.Log("alice").Since(0, 0).Events {
		if p, ok := e.Event.(presence.Event); ok && p.User != "alice" {
			told = append(told, p.User+" "+p.Status)
		}
	}
	slices.Sort(told[:2]) // the whole list's, in map order
	want := "bob online,carol online,bob busy,carol offline"
	if strings.Join(told, ",") != want {
		t.Fatalf("alice was told %v, want %s", told, want)
	}
	s.SetRemotePresence(map[string]string{})
	if s.Presence()["bob"] != Offline {
		t.Fatal("an empty whole list leaves bob busy")
	}
}

// TestWatchLocalPresence: the watcher hears each change of a user's
// presence here once (not the other nodes' changes), busy included.
func TestWatchLocalPresence(t *testing.T) {
	s := NewService(Options{}, "alice", "bob")
	defer s.Close()
	var heard []string
	s.WatchLocalPresence(func(user, status string) { heard = append(heard, user+" "+status) })
	a := s.Attach("alice", KindRTMP)
	a2 := s.Attach("alice", KindRTMFP) // a second device: no change
	b := s.Attach("bob", KindRTMP)
	s.SetRemotePresence(map[string]string{"carol": Online})
	if _, err := s.Invite(a, "bob", ""); err != nil {
		t.Fatal(err)
	}
	s.Detach(b) // the call ends: alice online again; bob offline
	s.Detach(a)
	s.Detach(a2)
	want := "alice online,bob online,alice busy,bob busy,alice online,bob offline,alice offline"
	if got := strings.Join(heard, ","); got != want {
		t.Fatalf("heard %s\nwant  %s", got, want)
	}
}
