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

// MuteByOperator mutes or unmutes member of room for an operator who is
// none of its moderators (the dashboard): the members are told as for a
// moderator's mute, By the operator.
func (s *Service) MuteByOperator(room, member, operator string, muted bool) error {
	s.mu.Lock()
	r, m, err := s.lookup(room, member)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return r.muteAs(operator, m, muted, true)
}

// LockByOperator locks or unlocks room for an operator (the dashboard):
// the members are told as for a moderator's lock, By the operator.
func (s *Service) LockByOperator(room, operator string, locked bool) error {
	s.mu.Lock()
	r, _, err := s.lookup(room, "")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return r.lockAs(operator, locked, true)
}
