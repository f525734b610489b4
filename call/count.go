package call

// Count is how many calls are ringing or answered now (the cluster's
// heartbeat reports it as this node's load).
func (s *Service) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}
