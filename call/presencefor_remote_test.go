package call

import "testing"

// TestPresenceForRemote: GET /api/v1/presence (PresenceFor) shows a user
// connected to another node of a cluster with that node's status, and a
// local connection wins over it.
func TestPresenceForRemote(t *testing.T) {
	s := NewService(Options{}, "alice", "bob", "carol")
	defer s.Close()
	s.Attach("alice", "http")
	s.Attach("carol", "http")
	s.SetRemotePresence(map[string]string{"bob": Busy, "carol": Busy})
	got := s.PresenceFor("alice")
	for user, want := range map[string]string{"alice": Online, "bob": Busy, "carol": Online} {
		if got[user] != want {
			t.Errorf("%s: got %q, want %q (all: %v)", user, got[user], want, got)
		}
	}
	s.SetRemotePresence(nil)
	if got := s.PresenceFor("alice")["bob"]; got != Offline {
		t.Errorf("bob gone from every node: got %q", got)
	}
}
