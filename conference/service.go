package conference

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Stats are the service's counters, read by the metrics exporter.
type Stats struct {
	Rooms     atomic.Int64
	Members   atomic.Int64
	Mixes     atomic.Uint64 // room-frames mixed
	Underruns atomic.Uint64 // a talking member's buffer ran dry at a mix
	Late      atomic.Uint64 // input audio dropped as late or in excess of the jitter buffer
	Skipped   atomic.Uint64 // room-frames not mixed: the mixer fell behind (a starved CPU)
	// Input frames lost on the way that a member's input filled: from the
	// next packet's in-band FEC (Opus), or with concealment.
	Recovered, Concealed atomic.Uint64
	// RecordErrors counts recording files that could not be created or
	// written, retries included (record.go).
	RecordErrors atomic.Uint64
	// MovesRefused counts notices that a room's node gave the room up
	// which that node did not confirm (forged or stale: handover.go).
	MovesRefused atomic.Uint64
}

// Service owns every room. Its mutex guards the rooms and the issued
// stream names; lock order is Service.mu, then a room's mu, then the hub.
type Service struct {
	opts Options
	log  *slog.Logger
	// Stats are exported as metrics.
	Stats Stats

	mu         sync.Mutex
	rooms      map[string]*room
	configured map[string]RoomConfig
	names      map[string]*Member // issued stream name -> its member
	closed     bool
	remote     Remote // the cluster's other nodes (remote.go); nil = one node
	mixers     sync.WaitGroup
	invites    sync.WaitGroup // runInvitedUser goroutines
	done       chan struct{}  // closed by Close
}

// New makes a Service. o.Hub is required.
func New(o Options) *Service {
	o.setDefaults()
	s := &Service{opts: o, log: o.Logger, rooms: map[string]*room{}, configured: map[string]RoomConfig{}, names: map[string]*Member{},
		done: make(chan struct{})}
	for _, rc := range o.Rooms {
		s.configured[rc.Name] = rc
	}
	return s
}

// Join puts a new member into room name, creating the room on first join.
// In a cluster, a room held by another node is joined there (remote.go).
func (s *Service) Join(name string, o JoinOptions) (*Member, Joined, error) {
	o.from = remoteFrom{}
	for try := 1; ; try++ {
		node, err := s.place(name)
		if err != nil {
			return nil, Joined{}, err
		}
		if node == "" {
			return s.join(name, o, false)
		}
		m, j, err := s.joinRemote(node, name, o)
		// moving: the answer of where the room is was stale (it began
		// here, or ended there and began on a third node): ask again.
		if !errors.Is(err, ErrMoving) || try == 3 {
			return m, j, err
		}
	}
}

// join is Join; an invited member (Invite) skips the PIN and the lock, and
// does not bring back a room that ended while it was being called.
func (s *Service) join(name string, o JoinOptions, invited bool) (*Member, Joined, error) {
	if !ValidRoomName(name) {
		return nil, Joined{}, ErrBadRoom
	}
	if o.Kind == "" {
		o.Kind = KindWeb
	}
	if o.Mode != "" {
		if _, err := ParseMode(string(o.Mode)); err != nil {
			return nil, Joined{}, err
		}
	}
	if err := checkCodec(o.Codec, o.Rate); err != nil {
		return nil, Joined{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joinLocked(name, o, invited)
}

// joinLocked is join after the checks of its options; called with s.mu held.
func (s *Service) joinLocked(name string, o JoinOptions, invited bool) (*Member, Joined, error) {
	if s.closed {
		return nil, Joined{}, ErrClosed
	}
	r := s.rooms[name]
	if r == nil && invited {
		return nil, Joined{}, ErrNoRoom
	}
	if r != nil && r.owner != "" { // held by another node (remote.go)
		return nil, Joined{}, ErrMoving
	}
	if !invited && !o.from.rejoin {
		if err := s.checkPINLocked(r, name, o); err != nil {
			return nil, Joined{}, err
		}
	}
	if r == nil {
		if len(s.rooms) >= s.opts.MaxRooms {
			return nil, Joined{}, ErrTooManyRooms
		}
		rc, ok := s.configured[name]
		if !ok {
			rc = RoomConfig{Name: name, Mode: o.Mode}
		}
		if rc.PIN != "" && o.PIN != rc.PIN && !o.from.rejoin { // checked before the room exists, too
			return nil, Joined{}, ErrBadPIN
		}
		r = s.newRoomLocked(rc, o.User)
	}
	m, j, err := r.join(o, invited)
	if err != nil {
		if r.empty() {
			s.endRoomLocked(r)
		}
		return nil, Joined{}, err
	}
	for _, n := range []string{m.pub, m.fwd, m.mix} {
		s.names[n] = m
	}
	return m, j, nil
}

// checkPINLocked compares o.PIN with the room's PIN (of the running room
// r, else of the configured room name) in constant time, through the
// throttle: an address that keeps guessing waits, and is told how long.
// Called with s.mu held.
func (s *Service) checkPINLocked(r *room, name string, o JoinOptions) error {
	pin := ""
	if r != nil {
		pin = r.pin
	} else if rc, ok := s.configured[name]; ok {
		pin = rc.PIN
	}
	if pin == "" {
		return nil
	}
	t, account := s.opts.Throttle, "conf:"+name
	if t == nil || o.Addr == "" {
		t = nil
	}
	if t != nil {
		if wait := t.Check(o.Addr, account); wait > 0 {
			return &ThrottledError{Retry: wait}
		}
	}
	ok := subtle.ConstantTimeCompare([]byte(pin), []byte(o.PIN)) == 1
	switch {
	case t == nil:
	case ok:
		t.Succeed(o.Addr, account)
	default:
		t.Fail(o.Addr, account)
		s.log.Info("wrong conference PIN", "room", name, "addr", o.Addr, "user", o.User)
	}
	if !ok {
		return ErrBadPIN
	}
	return nil
}

func (s *Service) newRoomLocked(rc RoomConfig, creator string) *room {
	mode := rc.Mode
	if mode == "" {
		mode = s.opts.DefaultMode
	}
	if rc.Record != RecordNone {
		mode = ModeMixed // the recording mixes everyone anyway (RoomConfig.Record)
	}
	max := rc.MaxMembers
	if max <= 0 {
		max = s.opts.MaxMembers
	}
	r := &room{svc: s, name: rc.Name, pin: rc.PIN, auto: mode == ModeAuto, maxMembers: max,
		moderators: slices.Clone(rc.Moderators), configured: len(rc.Moderators) > 0 || rc.PIN != "", record: rc.Record,
		codec: rc.Codec}
	r.mode = mode
	if mode == ModeAuto {
		r.mode = ModeRelay
	}
	if len(r.moderators) == 0 && creator != "" {
		r.moderators = []string{creator} // an ad-hoc room's creator moderates it
	}
	r.log = s.log.With("room", rc.Name)
	s.rooms[rc.Name] = r
	s.Stats.Rooms.Add(1)
	r.log.Info("room created", "mode", mode)
	return r
}

// endRoomLocked forgets r and stops its mixer (without waiting for it).
// Called with s.mu held.
func (s *Service) endRoomLocked(r *room) {
	if s.rooms[r.name] != r {
		return
	}
	delete(s.rooms, r.name)
	s.Stats.Rooms.Add(-1)
	r.mu.Lock()
	r.stopMixerLocked()
	r.mu.Unlock()
	r.log.Info("room ended")
}

// lookup finds room name and member id in it.
func (s *Service) lookup(name, member string) (*room, *Member, error) {
	r := s.rooms[name]
	if r == nil {
		return nil, nil, ErrNoRoom
	}
	if member == "" {
		return r, nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.members {
		if m.ID == member {
			return r, m, nil
		}
	}
	return nil, nil, ErrNotMember
}

// Mute mutes or unmutes member of room. by is the user asking: a moderator,
// or the member's own user.
func (s *Service) Mute(by, room, member string, muted bool) error {
	if ok, err := s.forwardModeration(Moderation{Op: map[bool]string{true: "mute", false: "unmute"}[muted], By: by, Room: room, Member: member}); ok {
		return err
	}
	s.mu.Lock()
	r, m, err := s.lookup(room, member)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return r.mute(by, m, muted)
}

// Kick removes member from room; by must be a moderator.
func (s *Service) Kick(by, room, member string) error {
	if ok, err := s.forwardModeration(Moderation{Op: "kick", By: by, Room: room, Member: member}); ok {
		return err
	}
	s.mu.Lock()
	r, m, err := s.lookup(room, member)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if !r.isModerator(by) {
		return ErrNotModerator
	}
	r.remove(m, ReasonKicked, by)
	return nil
}

// Lock locks (nobody else may join) or unlocks room; by must be a moderator.
func (s *Service) Lock(by, room string, locked bool) error {
	if ok, err := s.forwardModeration(Moderation{Op: map[bool]string{true: "lock", false: "unlock"}[locked], By: by, Room: room}); ok {
		return err
	}
	s.mu.Lock()
	r, _, err := s.lookup(room, "")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return r.lock(by, locked)
}

// End ends room: every member is out. by must be a moderator ("" = the
// server itself).
func (s *Service) End(by, room string) error {
	if ok, err := s.forwardModeration(Moderation{Op: "end", By: by, Room: room}); ok && by != "" {
		return err
	}
	s.mu.Lock()
	r, _, err := s.lookup(room, "")
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if by != "" && !r.isModerator(by) {
		return ErrNotModerator
	}
	r.end(ReasonEnded, by)
	return nil
}

// RoomInfo describes a room for listings.
type RoomInfo struct {
	Name    string       `json:"name"`
	Mode    Mode         `json:"mode"`
	Locked  bool         `json:"locked"`
	Members []MemberInfo `json:"members"`
}

// Rooms lists the rooms, by name.
func (s *Service) Rooms() []RoomInfo {
	s.mu.Lock()
	rs := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		if r.owner == "" { // another node's room is listed there
			rs = append(rs, r)
		}
	}
	s.mu.Unlock()
	sort.Slice(rs, func(i, j int) bool { return rs[i].name < rs[j].name })
	out := make([]RoomInfo, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.info())
	}
	return out
}

// Room describes room name.
func (s *Service) Room(name string) (RoomInfo, error) {
	s.mu.Lock()
	r := s.rooms[name]
	held := r != nil && r.owner == "" // owner is guarded by s.mu
	s.mu.Unlock()
	if !held {
		return RoomInfo{}, ErrNoRoom
	}
	return r.info(), nil
}

// Memberships returns user's members, in every room.
func (s *Service) Memberships(user string) []*Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Member
	for _, r := range s.rooms {
		r.mu.Lock()
		for _, m := range r.members {
			if m.User == user {
				out = append(out, m)
			}
		}
		r.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].room.name < out[j].room.name })
	return out
}

// StreamKey returns the hub key of an issued stream name if user may
// publish it (publish) or play it (!publish) now, else ErrStreamDenied: a
// member publishes its own name, plays its own mix (mixed rooms) or the
// others' streams (relay rooms).
func (s *Service) StreamKey(user, name string, publish bool) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.names[name]
	if m == nil {
		return "", ErrStreamDenied
	}
	r := m.room
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := false
	switch {
	case name == m.pub:
		ok = publish && m.User == user
	case name == m.mix:
		ok = !publish && m.User == user && r.mode == ModeMixed
	case name == m.fwd && !publish && r.mode == ModeRelay:
		for _, o := range r.members {
			if o.User == user && o != m {
				ok = true
				break
			}
		}
	}
	if !ok {
		return "", ErrStreamDenied
	}
	return s.opts.StreamPrefix + name, nil
}

// PlayEnds returns a channel closed when user's permission to play the
// issued name ends (the membership that grants it leaves, is kicked or its
// room ends), nil when user may not play it.
func (s *Service) PlayEnds(user, name string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.names[name]
	if m == nil {
		return nil
	}
	r := m.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if name == m.mix && m.User == user {
		return m.done
	}
	if name == m.fwd {
		for _, o := range r.members {
			if o.User == user && o != m {
				return o.done
			}
		}
	}
	return nil
}

// forgetLocked drops m's issued names. Called with s.mu held.
func (s *Service) forgetLocked(m *Member) {
	for _, n := range []string{m.pub, m.fwd, m.mix} {
		if s.names[n] == m {
			delete(s.names, n)
		}
	}
}

// Close ends every room (reason shutdown) and waits for the mixers.
func (s *Service) Close() {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	rs := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rs = append(rs, r)
	}
	s.mu.Unlock()
	for _, r := range rs {
		r.end(ReasonShutdown, "")
	}
	s.invites.Wait()
	s.mixers.Wait()
}

// randomID returns n random bytes in hex: issued stream names must not be
// guessable.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
