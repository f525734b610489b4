package conference

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashvox/flashvox/codec"
)

// room is one conference. mu guards everything below it; the mixer reads
// the mixed members through snap.
type room struct {
	svc        *Service
	name       string
	pin        string
	auto       bool // ModeAuto: relay now, mixed when it must
	maxMembers int
	configured bool
	record     RecordFormat // "" = not recorded
	codec      codec.ID     // mixes of members who name none; 0 = Options.Codec
	log        *slog.Logger
	// owner is the node that holds a room of another node, of which this
	// node keeps only its own members (remote.go); "" = held here.
	// Guarded by Service.mu.
	owner string
	// rehoming: this shadow's members are being moved to the room's next
	// node (rehome.go, handover.go); handover: its owner (alive) gave the
	// room up, rather than being lost. Guarded by Service.mu.
	rehoming, handover bool

	mu         sync.Mutex
	mode       Mode // ModeRelay or ModeMixed
	moderators []string
	locked     bool
	members    []*Member
	mixer      *mixer
	snap       atomic.Pointer[[]*input] // mixed members, copy-on-write
}

func (r *room) empty() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members) == 0
}

func (r *room) isModerator(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.moderators, user)
}

// join adds a member (invited: see Service.join); called with Service.mu held.
func (r *room) join(o JoinOptions, invited bool) (*Member, Joined, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.pin != "" && o.PIN != r.pin && !invited && !o.from.rejoin:
		return nil, Joined{}, ErrBadPIN
	case r.locked && !slices.Contains(r.moderators, o.User) && !invited && !o.from.rejoin:
		return nil, Joined{}, ErrLocked
	case len(r.members) >= r.maxMembers:
		return nil, Joined{}, ErrRoomFull
	}
	m := r.newMemberLocked(o)
	// A SIP phone or a call device can only hear a mix: it makes any
	// relay room mixed; so does a member of another node (remote.go).
	if r.mode == ModeRelay && (o.Kind == KindSIP || o.Kind == KindCall || o.from.node != "" || o.from.rejoin || (r.auto && len(r.members)+1 > r.svc.opts.RelayMaxMembers)) {
		r.toMixedLocked()
	}
	others := slices.Clone(r.members)
	r.members = append(r.members, m)
	if err := r.attachLocked(m); err != nil {
		r.members = others
		return nil, Joined{}, err
	}
	now := r.svc.opts.Now()
	m.joined = now // record
	if rec := r.svc.opts.Records; rec != nil {
		rec.MemberJoined(m.record("", time.Time{})) // record
	}
	j := Joined{Room: r.name, Member: m.ID, Mode: r.mode, Publish: m.pub, Moderator: slices.Contains(r.moderators, m.User), Members: []MemberInfo{}}
	if r.mode == ModeMixed {
		j.Play = m.mix
	}
	e := Event{Type: EvJoined, Time: now, Room: r.name, Member: m.ID, User: m.User}
	if r.mode == ModeRelay {
		e.Play = m.fwd
	}
	for _, o := range others {
		j.Members = append(j.Members, o.info())
		o.tell(e)
	}
	r.svc.Stats.Members.Add(1)
	r.log.Info("member joined", "member", m.ID, "user", m.User, "kind", m.Kind, "mode", r.mode, "members", len(r.members))
	return m, j, nil
}

// attachLocked starts m's media: a gate in relay mode, a mixer input in
// mixed mode.
func (r *room) attachLocked(m *Member) error {
	h, prefix := r.svc.opts.Hub, r.svc.opts.StreamPrefix
	if r.mode == ModeRelay {
		g, err := openGate(h, m, prefix)
		if err != nil {
			return err
		}
		m.gate = g
		return nil
	}
	if r.mixer == nil {
		x := newMixer(r)
		r.mixer = x
		r.svc.mixers.Add(1)
		go func() {
			defer r.svc.mixers.Done()
			x.run()
		}()
	}
	m.in = newInput(m, h, prefix, r.svc.opts)
	r.publishSnapLocked()
	return nil
}

// detachLocked stops m's media. The mixer closes m's codecs and output
// when it sees m gone from the snapshot.
func (r *room) detachLocked(m *Member) {
	if m.gate != nil {
		m.gate.close()
		m.gate = nil
	}
	if m.in != nil {
		m.in.sub.Close()
		m.in = nil
	}
}

func (r *room) publishSnapLocked() {
	ins := make([]*input, 0, len(r.members)+1)
	for _, m := range r.members {
		if m.in != nil {
			ins = append(ins, m.in)
		}
	}
	r.snap.Store(&ins)
}

// toMixedLocked turns a relay room mixed for good: the gates close, every
// member gets a mixer input and is told the mix to play.
func (r *room) toMixedLocked() {
	r.mode = ModeMixed
	r.log.Info("room is mixed now", "members", len(r.members))
	now := r.svc.opts.Now()
	for _, m := range r.members {
		r.detachLocked(m)
		if err := r.attachLocked(m); err != nil {
			r.log.Warn("member lost its media on the switch to mixed", "member", m.ID, "err", err)
			continue
		}
		m.tell(Event{Type: EvMode, Time: now, Room: r.name, Member: m.ID, User: m.User, Play: m.mix})
	}
}

// remove takes m out (reason, by whom); the room ends with its last member.
func (r *room) remove(m *Member, reason, by string) {
	s := r.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.owner != "" { // a room of another node (remote.go)
		r.shadowRemoveLocked(m, reason, true)
		return
	}
	r.mu.Lock()
	if m.left {
		r.mu.Unlock()
		return
	}
	r.dropLocked(m, reason, by)
	e := Event{Type: EvLeft, Time: s.opts.Now(), Room: r.name, Member: m.ID, User: m.User, Reason: reason, By: by}
	for _, o := range r.members {
		o.tell(e)
	}
	empty := len(r.members) == 0
	r.mu.Unlock()
	s.forgetLocked(m)
	if empty {
		s.endRoomLocked(r)
	}
}

// dropLocked takes m out of the member list and stops its media; m is told
// EvLeft itself.
func (r *room) dropLocked(m *Member, reason, by string) {
	m.left = true
	r.members = slices.DeleteFunc(r.members, func(o *Member) bool { return o == m })
	r.detachLocked(m)
	if r.mode == ModeMixed {
		r.publishSnapLocked()
	}
	r.svc.Stats.Members.Add(-1)
	if rec := r.svc.opts.Records; rec != nil {
		rec.MemberLeft(m.record(reason, r.svc.opts.Now())) // record
	}
	m.tell(Event{Type: EvLeft, Time: r.svc.opts.Now(), Room: r.name, Member: m.ID, User: m.User, Reason: reason, By: by})
	close(m.done)
	r.log.Info("member left", "member", m.ID, "user", m.User, "reason", reason, "by", by, "members", len(r.members))
}

// end puts every member out and forgets the room.
func (r *room) end(reason, by string) {
	s := r.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.owner != "" { // a room of another node: its members here leave it
		for _, m := range slices.Clone(r.members) {
			m.tell(Event{Type: EvEnded, Time: s.opts.Now(), Room: r.name, Reason: reason, By: by})
			r.shadowRemoveLocked(m, reason, true)
		}
		return
	}
	r.mu.Lock()
	now := s.opts.Now()
	gone := slices.Clone(r.members)
	for _, m := range gone {
		m.tell(Event{Type: EvEnded, Time: now, Room: r.name, Reason: reason, By: by})
		r.dropLocked(m, reason, by)
	}
	r.mu.Unlock()
	for _, m := range gone {
		s.forgetLocked(m)
	}
	s.endRoomLocked(r)
}

func (r *room) stopMixerLocked() {
	if r.mixer != nil {
		r.mixer.stop()
		r.mixer = nil
	}
}

func (r *room) mute(by string, m *Member, muted bool) error {
	return r.muteAs(by, m, muted, false)
}

// muteAs is mute; an operator (the dashboard's admin) needs no room role.
func (r *room) muteAs(by string, m *Member, muted, operator bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !operator && by != m.User && !slices.Contains(r.moderators, by) {
		return ErrNotModerator
	}
	if m.left {
		return ErrNotMember
	}
	if m.muted.Swap(muted) == muted {
		return nil
	}
	e := Event{Type: EvMuted, Time: r.svc.opts.Now(), Room: r.name, Member: m.ID, User: m.User, Muted: muted, By: by}
	for _, o := range r.members {
		o.tell(e)
	}
	return nil
}

func (r *room) lock(by string, locked bool) error {
	return r.lockAs(by, locked, false)
}

// lockAs is lock; an operator (the dashboard's admin) needs no room role.
func (r *room) lockAs(by string, locked, operator bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !operator && !slices.Contains(r.moderators, by) {
		return ErrNotModerator
	}
	if r.locked == locked {
		return nil
	}
	r.locked = locked
	e := Event{Type: EvLocked, Time: r.svc.opts.Now(), Room: r.name, Locked: locked, By: by}
	for _, o := range r.members {
		o.tell(e)
	}
	return nil
}

func (r *room) info() RoomInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := RoomInfo{Name: r.name, Mode: r.mode, Locked: r.locked, Members: make([]MemberInfo, 0, len(r.members))}
	for _, m := range r.members {
		mi := m.info()
		mi.Play = "" // stream names go to members only (join answer, events)
		i.Members = append(i.Members, mi)
	}
	return i
}
