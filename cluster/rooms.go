package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/conference"
)

// Conference rooms across nodes (docs/CLUSTER.md "Conferences"). A room
// is held by one node, its owner; the conference service of every other
// node keeps a shadow with only its own clients' members
// (conference/remote.go). Placement: a node about to create a room asks
// every live node whether one holds it (flashvox.roomwhere, all answer);
// the holder wins. When none does, the room goes to the node that
// rendezvous hashing over the live nodes picks (the same on every node
// whose node table agrees), so two nodes joining a new room at once pick
// the same owner. With a shared lease store (Options.Leases, lease.go)
// the holder of the room's lease is the owner instead, the same whatever
// the node tables say.

const (
	subjRoomWhere  = "flashvox.roomwhere" // request: a room name; every node answers roomHere
	subjRoomReqPre = "flashvox.roomreq."  // + node: join, leave, moderate of that node's rooms (JSON)
	subjRoomEvPre  = "flashvox.roomev."   // + node: events for that node's members of others' rooms (JSON)
	// roomWhereWait bounds the wait for every node's answer to roomwhere.
	roomWhereWait = 500 * time.Millisecond
	// roomRequestWait bounds a forwarded join or moderation.
	roomRequestWait = 5 * time.Second
	// noResponderWait is the longest retry wait when a room's node has no
	// responder yet (25, 50, … 400 ms: 0.775 s in all).
	noResponderWait = 400 * time.Millisecond
	// maxRoomReply bounds a join's answer (it lists the room's members).
	maxRoomReply = 64 << 10
)

// RoomService is what the cluster needs of the conference service.
type RoomService interface {
	JoinFrom(node string, req conference.RemoteJoin, notify func(member string) conference.Notifier) (conference.Joined, error)
	LeaveFrom(node, room, member, reason string)
	ModerateFrom(op conference.Moderation) error
	RemoteEvent(node, member string, e conference.Event)
	Owns(room string) bool
	NodeGone(node string)
	// Held is the rooms held here; EndHeld ends one for its members (the
	// node stops), HandOver moves one to its next node (the lease on it
	// is lost, lease.go), calling release (if not nil) once it no longer
	// holds the room and before the other nodes are told.
	Held() []string
	EndHeld(room, reason string)
	HandOver(room string, release func())
}

// roomHere is a node's answer to roomwhere.
type roomHere struct {
	Node string `json:"node"`
	Owns bool   `json:"owns,omitempty"`
}

// roomReq is a join, leave or moderation for the receiving node's room.
type roomReq struct {
	Op     string                 `json:"op"` // join, leave, moderate, holds
	From   string                 `json:"from"`
	Join   *conference.RemoteJoin `json:"join,omitempty"`
	Mod    *conference.Moderation `json:"mod,omitempty"`
	Room   string                 `json:"room,omitempty"`
	Member string                 `json:"member,omitempty"`
	Reason string                 `json:"reason,omitempty"`
}

// roomReply answers a join, a moderation or a holds; Err is a
// conference.ErrorCode.
type roomReply struct {
	Joined *conference.Joined `json:"joined,omitempty"`
	Err    string             `json:"err,omitempty"`
	Holds  bool               `json:"holds,omitempty"`
}

// roomEvent is a room event for one member of the receiving node.
type roomEvent struct {
	From   string           `json:"from"`
	Member string           `json:"member"`
	Event  conference.Event `json:"event"`
}

// rooms is the conference.Remote of this node.
type rooms struct {
	c   *Cluster
	svc RoomService
}

// ServeRooms lets rooms span nodes: svc's rooms take members of other
// nodes' clients, and svc reaches other nodes' rooms through the
// returned conference.Remote. Call it once (before or after Serve).
func (c *Cluster) ServeRooms(svc RoomService) (conference.Remote, error) {
	rs := &rooms{c: c, svc: svc}
	me := c.o.Node
	for subj, fn := range map[string]nats.MsgHandler{subjRoomWhere: rs.onWhere, subjRoomReqPre + me: rs.onReq, subjRoomEvPre + me: rs.onEvent} {
		if _, err := c.nc.Subscribe(subj, fn); err != nil {
			return nil, fmt.Errorf("cluster: subscribe %s: %w", subj, err)
		}
	}
	c.roomSvc = svc
	if c.o.Leases != nil {
		c.leases.Store(newLeases(c))
	}
	return rs, nil
}

// Owner is the node holding room, else the rendezvous-hash choice among
// the live nodes; "" = this node. With leases, it is the lease's holder,
// this node when it could take it (lease.go).
func (rs *rooms) Owner(room string) (string, error) {
	if l := rs.c.leases.Load(); l != nil {
		return l.owner(room)
	}
	live := rs.c.Nodes()
	holder, err := rs.where(room, live)
	switch {
	case err != nil:
		return "", err
	case holder == rs.c.o.Node:
		return "", nil
	case holder != "":
		return holder, nil
	}
	if owner := rendezvous(room, live); owner != rs.c.o.Node {
		return owner, nil
	}
	return "", nil
}

// Holder is the other node that says it holds room, asked over NATS
// only (conference.ErrNoRoom: none does).
func (rs *rooms) Holder(room string) (string, error) {
	if !conference.ValidRoomName(room) {
		return "", conference.ErrBadRoom
	}
	holder, err := rs.where(room, rs.c.Nodes())
	switch {
	case err != nil:
		return "", err
	case holder == "" || holder == rs.c.o.Node:
		return "", conference.ErrNoRoom
	}
	return holder, nil
}

// where asks every node whether it holds room and returns the first that
// says it does ("" = none of live did within roomWhereWait).
func (rs *rooms) where(room string, live []NodeInfo) (string, error) {
	nc := rs.c.nc
	ch := make(chan *nats.Msg, len(live)+1)
	inbox := nats.NewInbox()
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return "", fmt.Errorf("cluster: room owner: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subjRoomWhere, inbox, []byte(room)); err != nil {
		return "", fmt.Errorf("cluster: room owner: %w", err)
	}
	t := time.NewTimer(roomWhereWait)
	defer t.Stop()
	for answers := 0; answers < len(live); {
		select {
		case m := <-ch:
			var h roomHere
			if !decodeControl(m.Data, &h) {
				continue
			}
			answers++
			if h.Owns && subjectSafe(h.Node) {
				return h.Node, nil
			}
		case <-t.C:
			answers = len(live) // a silent node is a lost one soon
		}
	}
	return "", nil
}

// rendezvous is the node with the highest hash of (node, room): every node
// with the same table picks the same, and a node's loss moves only its own
// rooms.
func rendezvous(room string, live []NodeInfo) string {
	best, bestH := "", uint64(0)
	for _, n := range live {
		h := fnv.New64a()
		_, _ = h.Write([]byte(n.Node))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(room))
		if v := h.Sum64(); best == "" || v > bestH || v == bestH && n.Node < best {
			best, bestH = n.Node, v
		}
	}
	return best
}

// Join forwards a join to node and waits for its answer.
func (rs *rooms) Join(node string, req conference.RemoteJoin) (conference.Joined, error) {
	var rep roomReply
	if err := rs.request(node, roomReq{Op: "join", Join: &req}, &rep); err != nil {
		return conference.Joined{}, err
	}
	if rep.Err != "" {
		return conference.Joined{}, conference.CodeError(rep.Err)
	}
	if rep.Joined == nil || rep.Joined.Member == "" || rep.Joined.Publish == "" || rep.Joined.Play == "" {
		return conference.Joined{}, errors.New("cluster: room join: an answer without a member")
	}
	return *rep.Joined, nil
}

// Leave tells node that its member of room left here.
func (rs *rooms) Leave(node, room, member, reason string) {
	if !subjectSafe(node) { // no node holds the room (conference.handedOver)
		return
	}
	b, _ := json.Marshal(roomReq{Op: "leave", From: rs.c.o.Node, Room: room, Member: member, Reason: reason})
	_ = rs.c.nc.Publish(subjRoomReqPre+node, b)
}

// Moderate forwards op to node.
func (rs *rooms) Moderate(node string, op conference.Moderation) error {
	var rep roomReply
	if err := rs.request(node, roomReq{Op: "moderate", Mod: &op}, &rep); err != nil {
		return err
	}
	return conference.CodeError(rep.Err)
}

// Holds asks node whether it holds room now.
func (rs *rooms) Holds(node, room string) (bool, error) {
	var rep roomReply
	if err := rs.request(node, roomReq{Op: "holds", Room: room}, &rep); err != nil {
		return false, err
	}
	return rep.Holds, conference.CodeError(rep.Err)
}

// Refetch makes the players here of key fetch it from another node: its
// publisher here went away while they played (a room's handover), which
// the hub's demand does not tell.
func (rs *rooms) Refetch(key string) { rs.c.imp.demand(key) }

func (rs *rooms) request(node string, req roomReq, rep *roomReply) error {
	if !subjectSafe(node) {
		return errors.New("cluster: bad node name")
	}
	req.From = rs.c.o.Node
	b, _ := json.Marshal(req)
	m, err := rs.c.nc.Request(subjRoomReqPre+node, b, roomRequestWait)
	for wait := 25 * time.Millisecond; errors.Is(err, nats.ErrNoResponders) && wait <= noResponderWait; wait *= 2 {
		// A node in the table whose room service is not subscribed yet
		// (it is starting) answers in a moment: ~0.8 s of retries before
		// the join fails.
		time.Sleep(wait)
		m, err = rs.c.nc.Request(subjRoomReqPre+node, b, roomRequestWait)
	}
	if err != nil {
		return fmt.Errorf("cluster: room %s on node %s: %w", req.Op, node, err)
	}
	if !decodeBounded(m.Data, maxRoomReply, rep) {
		return fmt.Errorf("cluster: room %s on node %s: a bad answer", req.Op, node)
	}
	return nil
}

func subjectSafe(node string) bool {
	return node != "" && len(node) <= 64 && !strings.ContainsAny(node, ".*> \t\r\n")
}

// onWhere answers whether this node holds the room asked for.
func (rs *rooms) onWhere(m *nats.Msg) {
	if m.Reply == "" || len(m.Data) == 0 || len(m.Data) > 64 {
		return
	}
	b, _ := json.Marshal(roomHere{Node: rs.c.o.Node, Owns: rs.svc.Owns(string(m.Data))})
	_ = rs.c.nc.Publish(m.Reply, b)
}

// onReq serves another node's join, leave or moderation of a room here.
func (rs *rooms) onReq(m *nats.Msg) {
	var req roomReq
	if !decodeControl(m.Data, &req) || !subjectSafe(req.From) || req.From == rs.c.o.Node {
		return
	}
	var rep roomReply
	switch {
	case req.Op == "join" && req.Join != nil:
		if err := rs.mayHold(req.Join.Room); err != nil {
			rep.Err = conference.ErrorCode(err)
			break
		}
		from := req.From
		j, err := rs.svc.JoinFrom(from, *req.Join, func(member string) conference.Notifier {
			return func(e conference.Event) {
				b, _ := json.Marshal(roomEvent{From: rs.c.o.Node, Member: member, Event: e})
				_ = rs.c.nc.Publish(subjRoomEvPre+from, b)
			}
		})
		if rep.Err = conference.ErrorCode(err); err == nil {
			rep.Joined = &j
		}
	case req.Op == "leave":
		rs.svc.LeaveFrom(req.From, req.Room, req.Member, req.Reason)
		return
	case req.Op == "moderate" && req.Mod != nil:
		rep.Err = conference.ErrorCode(rs.svc.ModerateFrom(*req.Mod))
	case req.Op == "holds":
		if !conference.ValidRoomName(req.Room) {
			rep.Err = conference.ErrorCode(conference.ErrBadRoom)
			break
		}
		rep.Holds = rs.svc.Owns(req.Room)
	default:
		return
	}
	if m.Reply != "" {
		b, _ := json.Marshal(rep)
		_ = rs.c.nc.Publish(m.Reply, b)
	}
}

// mayHold is nil when a forwarded join may begin room here: without
// leases always; with leases when the room is held here, or this node
// could take its lease. Else ErrMoving (another node holds the lease: the
// joiner's answer was stale, the room ended here and began there
// meanwhile) or why the lease could not be asked for.
func (rs *rooms) mayHold(room string) error {
	l := rs.c.leases.Load()
	if l == nil || rs.svc.Owns(room) {
		return nil
	}
	owner, err := l.owner(room)
	switch {
	case err != nil:
		rs.c.log.Warn("cluster: a forwarded join refused", "room", room, "err", err)
		return err
	case owner != "":
		return conference.ErrMoving
	}
	return nil
}

// onEvent hands an event of another node's room to its member here.
func (rs *rooms) onEvent(m *nats.Msg) {
	var e roomEvent
	if !decodeControl(m.Data, &e) || !subjectSafe(e.From) || e.Member == "" {
		return
	}
	rs.svc.RemoteEvent(e.From, e.Member, e.Event)
}
