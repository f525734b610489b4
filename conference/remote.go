package conference

import (
	"cmp"
	"errors"
	"slices"

	"github.com/flashvox/flashvox/codec"
)

// Rooms across the nodes of a cluster (docs/CLUSTER.md "Conferences").
// A room is held by one node, its owner: the room, its mixer and every
// member's state live there. Another node keeps a shadow of the room with
// only its own clients' members: their issued stream names (so its
// clients publish and play there as in a local room; the cluster relays
// those streams to and from the owner on demand), their notifiers (the
// owner sends their events back) and their Done channels. Rooms with
// members on other nodes are mixed.

// Remote reaches the other nodes' rooms (cluster.Rooms); nil = one node.
type Remote interface {
	// Owner is the node holding room, or the node to create it on ("" =
	// this node).
	Owner(room string) (string, error)
	// Join asks node to put a member into its room.
	Join(node string, req RemoteJoin) (Joined, error)
	// Leave tells node that its member of room left (reason).
	Leave(node, room, member, reason string)
	// Moderate asks node to mute, kick, lock or end.
	Moderate(node string, op Moderation) error
	// Holds asks node whether it holds room now (handover.go: a room's
	// move is checked with the node said to give it up).
	Holds(node, room string) (bool, error)
	// Holder asks the nodes which one holds room now, without the store:
	// the node that lost the room's lease may have lost the store too
	// ("" and ErrNoRoom: none says it does).
	Holder(room string) (string, error)
	// Refetch tells the cluster that the players here of hub key, which
	// this node published until now, want it from another node.
	Refetch(key string)
}

// RemoteJoin is a join forwarded from the node of the joining client.
type RemoteJoin struct {
	Room      string   `json:"room"`
	User      string   `json:"user"`
	Kind      string   `json:"kind"`
	PIN       string   `json:"pin,omitempty"`
	Addr      string   `json:"addr,omitempty"`
	Mode      Mode     `json:"mode,omitempty"`
	Codec     codec.ID `json:"codec,omitempty"`
	Rate      int      `json:"rate,omitempty"`
	Transport string   `json:"transport,omitempty"`
	// A rejoin (the room's owner was lost) keeps the member's id and
	// stream names, and skips the PIN and the lock: it was a member.
	Rejoin bool   `json:"rejoin,omitempty"`
	ID     string `json:"id,omitempty"`
	Pub    string `json:"pub,omitempty"`
	Mix    string `json:"mix,omitempty"`
}

// Moderation is a moderator's action forwarded to the room's owner.
type Moderation struct {
	Op     string `json:"op"` // mute, unmute, kick, lock, unlock, end
	By     string `json:"by"`
	Room   string `json:"room"`
	Member string `json:"member,omitempty"`
}

// remoteFrom is what a forwarded join adds to JoinOptions.
type remoteFrom struct {
	node          string // the client's node
	rejoin        bool
	id, pub, mix  string
	adopt         *Member // a shadow member becoming local (its room moved here)
	notifyForNode func(member string) Notifier
}

// ErrMoving refuses a forwarded join to a node that still holds the room
// as another node's (its owner was just lost): the joiner retries.
var ErrMoving = errors.New("conference: room is moving between nodes")

// errorCodes name the errors that cross nodes.
var errorCodes = map[string]error{
	"bad_room": ErrBadRoom, "no_room": ErrNoRoom, "room_full": ErrRoomFull, "too_many_rooms": ErrTooManyRooms,
	"locked": ErrLocked, "bad_pin": ErrBadPIN, "not_member": ErrNotMember, "not_moderator": ErrNotModerator,
	"bad_mode": ErrBadMode, "bad_codec": ErrBadCodec, "shutdown": ErrClosed, "throttled": ErrThrottled, "moving": ErrMoving,
}

// ErrorCode names err for another node ("" for nil, "failed" for others).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	for code, e := range errorCodes {
		if errors.Is(err, e) {
			return code
		}
	}
	return "failed"
}

// CodeError is the error another node named code.
func CodeError(code string) error {
	if code == "" {
		return nil
	}
	if e, ok := errorCodes[code]; ok {
		return e
	}
	return errors.New("conference: failed on the room's node: " + code)
}

// SetRemote makes the service part of a cluster; call it before serving.
func (s *Service) SetRemote(r Remote) {
	s.mu.Lock()
	s.remote = r
	s.mu.Unlock()
}

// place is the node holding room name ("" = here).
func (s *Service) place(name string) (string, error) {
	if !ValidRoomName(name) {
		return "", ErrBadRoom
	}
	s.mu.Lock()
	rem := s.remote
	if r := s.rooms[name]; r != nil || rem == nil {
		owner := ""
		if r != nil {
			owner = r.owner // guarded by s.mu
		}
		s.mu.Unlock()
		if owner == handedOver { // its members here are moving to its next node
			return "", ErrMoving
		}
		return owner, nil
	}
	s.mu.Unlock()
	return rem.Owner(name)
}

// newMemberLocked makes the member of a join (names from a forwarded
// join, the shadow member itself when its room moves here).
func (r *room) newMemberLocked(o JoinOptions) *Member {
	f := o.from
	m := f.adopt
	if m == nil {
		m = &Member{User: o.User, Kind: o.Kind, codec: o.Codec, rate: o.Rate, done: make(chan struct{}), transport: cmp.Or(o.Transport, o.Kind)}
		m.notify = o.Notify
	}
	m.room, m.node = r, f.node
	m.ID, m.pub, m.mix = cmp.Or(f.id, randomID(6)), cmp.Or(f.pub, randomID(16)), cmp.Or(f.mix, randomID(16))
	m.fwd = randomID(16)
	if f.notifyForNode != nil {
		m.notify = f.notifyForNode(m.ID)
	}
	return m
}

// joinRemote joins room name on node and keeps the member as a shadow.
func (s *Service) joinRemote(node, name string, o JoinOptions) (*Member, Joined, error) {
	s.mu.Lock()
	rem := s.remote
	s.mu.Unlock()
	j, err := rem.Join(node, RemoteJoin{Room: name, User: o.User, Kind: cmp.Or(o.Kind, KindWeb), PIN: o.PIN, Addr: o.Addr, Mode: o.Mode,
		Codec: o.Codec, Rate: o.Rate, Transport: o.Transport})
	if err != nil {
		return nil, Joined{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[name]
	if r != nil && r.owner == "" || s.closed { // the room began here meanwhile, or shutdown
		rem.Leave(node, name, j.Member, ReasonGone) // a publish: it does not wait
		if s.closed {
			return nil, Joined{}, ErrClosed
		}
		return nil, Joined{}, ErrMoving
	}
	if r == nil {
		r = &room{svc: s, name: name, owner: node, mode: ModeMixed, log: s.log.With("room", name, "owner", node)}
		s.rooms[name] = r
	}
	r.owner = node
	m := &Member{ID: j.Member, User: o.User, Kind: cmp.Or(o.Kind, KindWeb), room: r, notify: o.Notify, pub: j.Publish, mix: j.Play,
		codec: o.Codec, rate: o.Rate, done: make(chan struct{}), transport: cmp.Or(o.Transport, o.Kind)}
	r.mu.Lock()
	r.members = append(r.members, m)
	r.mu.Unlock()
	s.names[m.pub], s.names[m.mix] = m, m
	s.Stats.Members.Add(1)
	r.log.Info("member joined on the room's node", "member", m.ID, "user", m.User)
	return m, j, nil
}

// shadowRemoveLocked takes a member of another node's room out here and
// tells it (left) as a local room would; tell: tell the owner too (not
// when the owner put it out: it told the member itself). Called with s.mu
// held.
func (r *room) shadowRemoveLocked(m *Member, reason string, tell bool) {
	s := r.svc
	r.mu.Lock()
	if m.left {
		r.mu.Unlock()
		return
	}
	m.left = true
	r.members = slices.DeleteFunc(r.members, func(o *Member) bool { return o == m })
	empty := len(r.members) == 0
	r.mu.Unlock()
	if tell {
		m.tell(Event{Type: EvLeft, Time: s.opts.Now(), Room: r.name, Member: m.ID, User: m.User, Reason: reason})
	}
	close(m.done)
	s.forgetLocked(m)
	s.Stats.Members.Add(-1)
	if empty && s.rooms[r.name] == r {
		delete(s.rooms, r.name)
	}
	if tell && s.remote != nil {
		s.remote.Leave(r.owner, r.name, m.ID, reason) // a publish: it does not wait
	}
}

// JoinFrom puts the member of another node's client into a room held
// here (creating it); its events go to notify(member id).
func (s *Service) JoinFrom(node string, req RemoteJoin, notify func(member string) Notifier) (Joined, error) {
	_, j, err := s.join(req.Room, JoinOptions{User: req.User, Kind: cmp.Or(req.Kind, KindWeb), PIN: req.PIN, Addr: req.Addr, Mode: req.Mode,
		Codec: req.Codec, Rate: req.Rate, Transport: req.Transport,
		from: remoteFrom{node: node, rejoin: req.Rejoin, id: req.ID, pub: req.Pub, mix: req.Mix, notifyForNode: notify}}, false)
	return j, err
}

// LeaveFrom takes node's member out of room (its client left there).
func (s *Service) LeaveFrom(node, room, member, reason string) {
	s.mu.Lock()
	r, m, err := s.lookup(room, member)
	s.mu.Unlock()
	if err != nil || r.owner != "" || m.node != node { // a node removes only its own members
		return
	}
	if reason != ReasonGone {
		reason = ReasonLeft
	}
	r.remove(m, reason, "")
}

// ModerateFrom does another node's forwarded moderation of a room held here.
func (s *Service) ModerateFrom(op Moderation) error {
	if !s.Owns(op.Room) {
		return ErrNoRoom
	}
	switch op.Op {
	case "mute", "unmute":
		return s.Mute(op.By, op.Room, op.Member, op.Op == "mute")
	case "kick":
		return s.Kick(op.By, op.Room, op.Member)
	case "lock", "unlock":
		return s.Lock(op.By, op.Room, op.Op == "lock")
	case "end":
		if op.By == "" {
			return ErrNotModerator // the server's own end is not forwarded
		}
		return s.End(op.By, op.Room)
	}
	return errors.New("conference: unknown moderation " + op.Op)
}

// forwardModeration sends op to the room's owner when another node holds
// it (handled true).
func (s *Service) forwardModeration(op Moderation) (bool, error) {
	node, err := s.place(op.Room)
	if errors.Is(err, ErrMoving) {
		return true, err
	}
	if err != nil || node == "" {
		return false, nil
	}
	s.mu.Lock()
	rem := s.remote
	s.mu.Unlock()
	return true, rem.Moderate(node, op)
}

// Owns reports whether room is held here.
func (s *Service) Owns(room string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	return r != nil && r.owner == ""
}

// Held is the rooms held here (not those this node only shadows).
func (s *Service) Held() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for name, r := range s.rooms {
		if r.owner == "" {
			out = append(out, name)
		}
	}
	return out
}

// EndHeld ends room, held here, for every member (reason): the cluster
// does when this node lost its lease on the room.
func (s *Service) EndHeld(room, reason string) {
	s.mu.Lock()
	r := s.rooms[room]
	held := r != nil && r.owner == ""
	s.mu.Unlock()
	if held {
		r.end(reason, "")
	}
}

// RemoteEvent is an event of node's room for a member of this node's
// client; a member that is out (left, kicked, ended) is dropped here.
func (s *Service) RemoteEvent(node, member string, e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[e.Room]
	if r == nil || r.owner != node {
		return
	}
	r.mu.Lock()
	i := slices.IndexFunc(r.members, func(m *Member) bool { return m.ID == member })
	var m *Member
	if i >= 0 {
		m = r.members[i]
	}
	r.mu.Unlock()
	if m == nil {
		return
	}
	if e.Type == EvMoving { // for this node, not its client
		s.movingLocked(r, node)
		return
	}
	m.tell(e)
	if e.Type == EvLeft && e.Member == member { // left, kicked, or after an ended
		r.shadowRemoveLocked(m, e.Reason, false)
	}
}
