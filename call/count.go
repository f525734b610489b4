package call

// Count is how many calls are ringing or answered now (the cluster's
// heartbeat reports it as this node's load).
func (s *Service) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// HTTPUsers is how many users are signed in here over the HTTP API (the
// page): one per user with a request in flight or within
// Options.HTTPPresenceTimeout of the last one (the cluster's heartbeat
// counts them among the node's clients).
func (s *Service) HTTPUsers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pres.HTTPUsers()
}
