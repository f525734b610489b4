package conference

// Remove takes member out of room for the server's operator (the admin
// dashboard), who is no room's moderator: the member's event says kicked,
// by operator. ErrNoRoom, ErrNotMember: nothing to remove.
func (s *Service) Remove(room, member, operator string) error {
	s.mu.Lock()
	r, m, err := s.lookup(room, member)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	r.remove(m, ReasonKicked, operator)
	return nil
}
