package call

import (
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
