package conference

import "time"

// A room's handover (docs/CLUSTER.md "Conferences"): the node holding a
// room lost the room's lease in the cluster's store (it could not renew
// it, or another holder has it), so another node may hold the room next.
// It stops holding the room at once — no mix, no relayed member audio,
// before the lease can lapse — and the members follow the room to its
// next node as they do when a room's node is lost (rehome.go), keeping
// their ids and stream names: the members of other nodes are told
// (EvMoving, which their node does not pass on to the client) and their
// nodes rejoin them; this node's own members become a shadow of the room
// and rejoin it too. A member that cannot follow within
// Options.RehomeFor is out (ended, then left, reason lease_lost).

// handedOver is the owner of the shadow a node keeps of a room it gave
// up, until its members rejoined the room's next node: no node's name.
const handedOver = "(handed over)"

// HandOver stops holding room, held here, whose lease this node lost, and
// moves its members to the room's next node. release, when not nil, is
// called once the room is no longer held here and before any node is told
// (when the room had already ended here too): the cluster gives the lease
// up there, so the node the members rejoin takes it at its first try
// instead of after the lapse, while this node can no longer act as the
// room's owner.
func (s *Service) HandOver(room string, release func()) {
	s.mu.Lock()
	r := s.rooms[room]
	if r == nil && !s.closed && release != nil {
		s.mu.Unlock()
		release() // it ended here meanwhile: nothing to move, the lease to give up
		return
	}
	if r == nil || r.owner != "" || s.closed {
		s.mu.Unlock()
		return
	}
	now := s.opts.Now()
	r.mu.Lock()
	relay := r.mode == ModeRelay
	var own, others []*Member
	for _, m := range r.members {
		r.detachLocked(m)
		if rec := s.opts.Records; rec != nil {
			rec.MemberLeft(m.record(ReasonLeaseLost, now)) // record: its membership goes on at the next node
		}
		if m.node == "" {
			own = append(own, m)
		} else {
			others = append(others, m)
		}
	}
	mixed := r.mixer
	r.stopMixerLocked()
	empty := []*input{}
	r.snap.Store(&empty)
	r.members, r.mode, r.locked = own, ModeMixed, false
	for _, m := range others {
		m.left = true // told EvMoving below, once the lease is released
		close(m.done)
	}
	for _, m := range own {
		if relay { // the room is mixed at its next node: play the mix
			m.tell(Event{Type: EvMode, Time: now, Room: r.name, Member: m.ID, User: m.User, Play: m.mix})
		}
	}
	r.mu.Unlock()
	for _, m := range others {
		s.forgetLocked(m)
		s.Stats.Members.Add(-1)
	}
	for _, m := range own {
		if s.names[m.fwd] == m {
			delete(s.names, m.fwd) // a shadow member keeps its published stream and its mix
		}
	}
	s.Stats.Rooms.Add(-1)
	// Told after the release: their nodes ask the store for the lease at
	// once, and find it free rather than wait for the lapse.
	tell := func() {
		if release != nil {
			release()
		}
		for _, m := range others {
			m.tell(Event{Type: EvMoving, Time: now, Room: r.name, Member: m.ID, Reason: ReasonLeaseLost})
		}
	}
	if len(own) == 0 {
		delete(s.rooms, r.name)
		s.mu.Unlock()
		tell()
		r.log.Warn("room lease lost: the room moves to its next node", "members_elsewhere", len(others))
		return
	}
	r.owner, r.rehoming, r.handover = handedOver, true, true
	s.invites.Add(1)
	s.mu.Unlock()
	tell()
	r.log.Warn("room lease lost: the room moves to its next node", "members_here", len(own), "members_elsewhere", len(others))
	go func() {
		defer s.invites.Done()
		if mixed != nil {
			// The mixes this node made are unpublished before the next
			// node's are fetched in their place (rehomeOnce's Refetch).
			select {
			case <-mixed.done:
			case <-s.done:
				return
			}
		}
		s.rehome(r, handedOver, ReasonLeaseLost)
	}()
}

// movingLocked: node, the owner of shadow room r, says it gave the room
// up (EvMoving). The members here follow the room to its next node once
// node confirmed it no longer holds the room: a forged or stale notice
// moves nothing, ends nothing. Called with s.mu held.
func (s *Service) movingLocked(r *room, node string) {
	if r.rehoming || s.closed {
		return
	}
	r.rehoming, r.handover = true, true
	s.invites.Add(1)
	go func() {
		defer s.invites.Done()
		if !s.confirmMove(r, node) {
			s.Stats.MovesRefused.Add(1)
			r.log.Warn("a notice that the room's node gave it up refused: it still holds the room, or did not say", "node", node)
			s.mu.Lock()
			r.rehoming, r.handover = false, false
			s.mu.Unlock()
			return
		}
		r.log.Warn("room's node gave it up (lease lost): its members here rejoin it elsewhere", "node", node)
		s.rehome(r, node, ReasonLeaseLost)
	}()
}

// confirmMove asks node whether it still holds r (up to three times when
// it does not answer); true when it says it does not.
func (s *Service) confirmMove(r *room, node string) bool {
	s.mu.Lock()
	rem := s.remote
	s.mu.Unlock()
	for try := 1; ; try++ {
		holds, err := rem.Holds(node, r.name)
		if err == nil {
			return !holds
		}
		r.log.Info("room's node not asked whether it gave the room up", "node", node, "err", err)
		if try == 3 {
			return false
		}
		select {
		case <-s.done:
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
}
