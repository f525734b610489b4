package call

import (
	"testing"
	"time"

	"github.com/flashvox/flashvox/presence"
)

// presenceOf lists the presence events in user's log from cursor on.
func presenceOf(s *Service, user string, cursor uint64) []presence.Event {
	l := s.Log(user)
	var out []presence.Event
	for _, e := range l.Since(cursor, 0).Events {
		if p, ok := e.Event.(presence.Event); ok {
			out = append(out, p)
		}
	}
	return out
}

// TestContacts: alice lists bob only, so carol (no list: everyone, as
// before contacts) is not told alice's presence, nor sees it in her
// snapshot, and bob is; dave listed nobody, so he sees nobody; alice's
// list removed, carol sees her again.
func TestContacts(t *testing.T) {
	s := newTestService(time.Minute)
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		s.Log(u)
	}
	s.SetContacts("alice", []string{"bob"}, true)
	s.SetContacts("dave", nil, true)
	heads := map[string]uint64{}
	for _, u := range []string{"bob", "carol", "dave"} {
		heads[u] = s.Log(u).Head()
	}
	s.Attach("alice", KindRTMP)
	s.Attach("carol", KindRTMP)
	if got := presenceOf(s, "bob", heads["bob"]); len(got) != 2 || got[0] != (presence.Event{User: "alice", Status: Online}) {
		t.Errorf("bob (no list) was told %+v, want alice and carol online", got)
	}
	for _, e := range presenceOf(s, "carol", heads["carol"]) {
		if e.User == "alice" {
			t.Errorf("carol, not in alice's list, was told %+v", e)
		}
	}
	if got := presenceOf(s, "dave", heads["dave"]); len(got) != 0 {
		t.Errorf("dave (an empty list) was told %+v", got)
	}
	if p := s.PresenceFor("carol"); p["alice"] != "" || p["bob"] != Offline || p["carol"] != Online {
		t.Errorf("carol's snapshot %v", p)
	}
	if p := s.PresenceFor("bob"); p["alice"] != Online {
		t.Errorf("bob's snapshot %v", p)
	}
	if p := s.Presence(); p["alice"] != Online || len(p) != 4 {
		t.Errorf("the operator's snapshot %v", p)
	}
	// alice's list removed: carol is told alice's presence at once.
	head := s.Log("carol").Head()
	s.SetContacts("alice", nil, false)
	if p := s.PresenceFor("carol"); p["alice"] != Online {
		t.Errorf("carol's snapshot after alice's list went: %v", p)
	}
	// carol's own list changes tell carol; alice's change told carol
	// nothing (she learns at alice's next change or from her snapshot).
	_ = head
	s.SetContacts("carol", []string{"alice"}, true)
	if got := presenceOf(s, "carol", head); len(got) != 1 || got[0] != (presence.Event{User: "alice", Status: Online}) {
		t.Errorf("carol after her own list: %+v", got)
	}
}
