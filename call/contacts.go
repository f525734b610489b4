package call

import "github.com/flashvox/flashvox/presence"

// Contacts: a user's watch list. Presence of X is told to Y only when
// both lists allow it: Y has no list or lists X (Y watches X), and X has
// no list or lists Y (X lets Y watch). A user who never set a list counts
// as listing everyone, which is how presence worked before contacts
// (docs/PROTOCOL.md "Contacts", docs/SECURITY.md).

// SetContacts sets user's list (set false: no list at all). Users the
// list lets user see now are told to user at once, with their current
// presence; the others learn of user at its next change.
func (s *Service) SetContacts(user string, list []string, set bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.contacts == nil {
		s.contacts = map[string]map[string]bool{}
	}
	if !set {
		delete(s.contacts, user)
	} else {
		m := make(map[string]bool, len(list))
		for _, c := range list {
			m[c] = true
		}
		s.contacts[user] = m
	}
	u := s.users[user]
	if u == nil {
		return
	}
	now := s.opts.Now()
	for name, o := range s.users {
		if name != user && s.visibleLocked(name, user) {
			u.Log.Append(now, presence.Event{User: name, Status: s.statusLocked(o)})
		}
	}
}

// visibleLocked reports whether of's presence may be told to to.
func (s *Service) visibleLocked(of, to string) bool {
	if of == to {
		return true
	}
	return lists(s.contacts, to, of) && lists(s.contacts, of, to)
}

// lists reports whether owner's list admits other (no list admits all).
func lists(contacts map[string]map[string]bool, owner, other string) bool {
	l, ok := contacts[owner]
	return !ok || l[other]
}

// PresenceFor returns the presence of the users viewer may see (itself
// included).
func (s *Service) PresenceFor(viewer string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for n, u := range s.users {
		if s.visibleLocked(n, viewer) {
			out[n] = s.statusLocked(u) // another node's when not connected here (cluster)
		}
	}
	return out
}
