package call

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
	s.remote = remote
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
