package call

import "maps"

// Users connected to other nodes of a cluster (package cluster): their
// presence as those nodes' heartbeats tell it. A user connected here shows
// as here; one connected nowhere here shows as elsewhere.

// SetRemotePresence replaces the presence of users connected to other
// nodes (user → Online or Busy; absent = on no other node), telling the
// watchers of every known user whose presence changed by it.
func (s *Service) SetRemotePresence(remote map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.remote
	s.remote = maps.Clone(remote) // UpdateRemotePresence changes it in place
	for _, m := range []map[string]string{old, remote} {
		for name := range m {
			u := s.users[name]
			if u == nil || u.Online() || old[name] == remote[name] {
				continue // unknown here, present here, or unchanged
			}
			s.pres.Tell(u.User, s.statusLocked(u))
		}
	}
}

// UpdateRemotePresence changes the presence on other nodes of the users
// in changed only (user → Online or Busy, "" for connected to no other
// node), telling their watchers as SetRemotePresence does: a node's
// presence message between two heartbeats.
func (s *Service) UpdateRemotePresence(changed map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.remote == nil {
		s.remote = map[string]string{}
	}
	for name, st := range changed {
		if s.remote[name] == st {
			continue
		}
		if st == "" {
			delete(s.remote, name)
		} else {
			s.remote[name] = st
		}
		if u := s.users[name]; u != nil && !u.Online() {
			s.pres.Tell(u.User, s.statusLocked(u))
		}
	}
}

// WatchLocalPresence makes fn hear every change of a user's presence on
// this node (Online, Busy, Offline), whatever other nodes say: the
// cluster tells the other nodes at once. Set it once, before the service
// is used; fn runs with the service's lock held and must neither block
// nor call the service.
func (s *Service) WatchLocalPresence(fn func(user, status string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchLocal = fn
}

// localChangedLocked tells watchLocal when u's presence here changed.
func (s *Service) localChangedLocked(u *user) {
	st := statusOf(u)
	if st == Offline {
		st = ""
	}
	if st == u.local {
		return
	}
	u.local = st
	if s.watchLocal != nil {
		if st == "" {
			st = Offline
		}
		s.watchLocal(u.User.Name, st)
	}
}

// statusLocked is u's presence: its own here, else another node's.
func (s *Service) statusLocked(u *user) string {
	if st := statusOf(u); st != Offline {
		return st
	}
	if st := s.remote[u.User.Name]; st != "" {
		return st
	}
	return Offline
}

// OnlineHere reports whether user has a device connected here now (the
// cluster's gateway rings such a user here, whatever other nodes said).
func (s *Service) OnlineHere(user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[user]
	return u != nil && u.Online()
}

// LocalPresence is the users connected here (user → Online or Busy), what
// this node tells the others.
func (s *Service) LocalPresence() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for n, u := range s.users {
		if st := statusOf(u); st != Offline {
			out[n] = st
		}
	}
	return out
}
