package conference

import (
	"slices"
	"time"
)

// NodeGone is told when node left the cluster or went silent: its
// clients' members are out of the rooms held here (reason gone), and the
// members here of rooms it held follow the room to its new node (or
// bring it here), keeping their ids and stream names, so their clients
// go on publishing and playing the same streams.
func (s *Service) NodeGone(node string) {
	s.mu.Lock()
	var gone []*Member
	var moved []*room
	for _, r := range s.rooms {
		if r.owner == node {
			if !r.rehoming { // not already moving after its node gave it up (handover.go)
				r.rehoming = true
				moved = append(moved, r)
			}
			continue
		}
		if r.owner != "" {
			continue
		}
		r.mu.Lock()
		for _, m := range r.members {
			if m.node == node {
				gone = append(gone, m)
			}
		}
		r.mu.Unlock()
	}
	closed := s.closed
	s.mu.Unlock()
	for _, m := range gone {
		m.Gone()
	}
	if closed {
		return
	}
	for _, r := range moved {
		r.log.Warn("room's node lost: its members here rejoin it elsewhere")
		s.invites.Add(1)
		go func() {
			defer s.invites.Done()
			s.rehome(r, node, ReasonGone)
		}()
	}
}

// rehome moves the members here of shadow room r (whose owner, lost or
// handing the room over, was node) to the room's new node, retrying every
// 500 ms for Options.RehomeFor; the members that could not follow are out
// (ended, then left, with reason).
func (s *Service) rehome(r *room, lost, reason string) {
	defer func() {
		s.mu.Lock()
		r.rehoming, r.handover = false, false
		s.mu.Unlock()
	}()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	deadline := time.Now().Add(s.opts.RehomeFor)
	moved := map[*Member]bool{}
	for !s.rehomeOnce(r, lost, moved) {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			if now.Before(deadline) {
				continue
			}
			r.log.Warn("room's members here could not follow it to another node", "reason", reason)
			s.mu.Lock()
			r.mu.Lock()
			left := slices.Clone(r.members)
			r.mu.Unlock()
			for _, m := range left {
				m.tell(Event{Type: EvEnded, Time: s.opts.Now(), Room: r.name, Reason: reason})
				r.shadowRemoveLocked(m, reason, true) // its Leave goes nowhere if no node holds the room
			}
			s.mu.Unlock()
			return
		}
	}
}

// rehomeOnce tries once; true when no member is left to move.
func (s *Service) rehomeOnce(r *room, lost string, moved map[*Member]bool) bool {
	s.mu.Lock()
	rem := s.remote
	gone := s.rooms[r.name] != r
	handover := r.handover
	s.mu.Unlock()
	if gone {
		return true // every member left meanwhile
	}
	node, err := rem.Owner(r.name)
	if err != nil && handover {
		// The node that lost the lease may have lost the store: the
		// nodes say who holds the room now.
		node, err = rem.Holder(r.name)
	}
	if err != nil {
		return false
	}
	if node == lost {
		// The store still names the lost node, or the node that gave
		// the room up (its lease has not lapsed yet): wait, unless the
		// latter holds the room again.
		if !handover {
			return false
		}
		if holds, err := rem.Holds(lost, r.name); err != nil || !holds {
			return false
		}
	}
	if node == "" {
		return s.adoptShadow(r)
	}
	r.mu.Lock()
	ms := slices.Clone(r.members)
	r.mu.Unlock()
	left := 0
	for _, m := range ms {
		if moved[m] {
			continue
		}
		_, err := rem.Join(node, RemoteJoin{Room: r.name, User: m.User, Kind: m.Kind, Codec: m.codec, Rate: m.rate, Transport: m.transport,
			Rejoin: true, ID: m.ID, Pub: m.pub, Mix: m.mix})
		if err != nil {
			r.log.Info("member not rejoined yet", "member", m.ID, "node", node, "err", err)
			left++
			continue
		}
		moved[m] = true
		s.mu.Lock()
		r.owner = node // its events come from there now
		s.mu.Unlock()
		// Its mix comes from there now too: a player that played the mix
		// this node made (handover.go) fetches it.
		rem.Refetch(s.opts.StreamPrefix + m.mix)
	}
	if left > 0 {
		return false
	}
	r.log.Info("room moved: members here rejoined it", "node", node, "members", len(ms))
	return true
}

// adoptShadow makes shadow room r a room held here, its members local
// with their ids and stream names.
func (s *Service) adoptShadow(r *room) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[r.name] != r || s.closed {
		return true
	}
	r.mu.Lock()
	ms := slices.Clone(r.members)
	r.members = nil
	r.mu.Unlock()
	delete(s.rooms, r.name)
	for _, m := range ms {
		s.forgetLocked(m)
		s.Stats.Members.Add(-1)
	}
	for _, m := range ms {
		if _, _, err := s.joinLocked(r.name, JoinOptions{User: m.User, Kind: m.Kind, Codec: m.codec, Rate: m.rate, Transport: m.transport,
			from: remoteFrom{rejoin: true, id: m.ID, pub: m.pub, mix: m.mix, adopt: m}}, false); err != nil {
			r.log.Warn("member lost in the room's move here", "member", m.ID, "err", err)
			m.left = true
			close(m.done)
		}
	}
	s.log.Info("room moved here from another node", "room", r.name, "members", len(ms))
	return true
}
