package cluster

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// confNode is a cluster node with its conference service.
type confNode struct {
	*node
	svc *conference.Service
}

func startConfNodes(t *testing.T, names ...string) []confNode {
	t.Helper()
	return confNodes(t, startNodes(t, names...), names)
}

// confNodes gives each node a conference service whose rooms span nodes.
func confNodes(t *testing.T, ns []*node, names []string) []confNode {
	t.Helper()
	return confNodesWith(t, ns, names, nil)
}

// confNodesWith is confNodes with change applied to each service's options.
func confNodesWith(t *testing.T, ns []*node, names []string, change func(o *conference.Options)) []confNode {
	t.Helper()
	out := make([]confNode, len(ns))
	for i, n := range ns {
		o := conference.Options{Hub: n.hub, DefaultMode: conference.ModeRelay, Logger: testLogger(t).With("node", names[i])}
		if change != nil {
			change(&o)
		}
		svc := conference.New(o)
		rem, err := n.c.ServeRooms(svc)
		if err != nil {
			t.Fatal(err)
		}
		svc.SetRemote(rem)
		t.Cleanup(svc.Close)
		out[i] = confNode{n, svc}
	}
	return out
}

// events keeps a member's room events.
type eventLog struct {
	mu sync.Mutex
	ev []conference.Event
}

func (l *eventLog) notify(e conference.Event) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }

func (l *eventLog) has(typ, member string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.ev {
		if e.Type == typ && (member == "" || e.Member == member) {
			return true
		}
	}
	return false
}

func owners(ns []confNode, room string) []string {
	var out []string
	for _, n := range ns {
		if n.svc.Owns(room) {
			out = append(out, n.c.Node())
		}
	}
	return out
}

// TestRoomAcrossNodes: members on three nodes join one room held by one
// node; their audio reaches the owner's mixer and their mixes reach their
// own nodes; events and moderation cross nodes; a locked room refuses a
// join from another node; the owner's loss moves the room and the
// members of the other nodes keep their ids and stream names.
func TestRoomAcrossNodes(t *testing.T) {
	testpeer.SkipShort(t, "seconds of real-time media and timers")
	ns := startConfNodes(t, "a", "b", "c")
	const room = "span"
	logs := make([]*eventLog, len(ns))
	ms := make([]*conference.Member, len(ns))
	js := make([]conference.Joined, len(ns))
	stop := make(chan struct{})
	defer close(stop)
	for i, n := range ns {
		logs[i] = &eventLog{}
		m, j, err := n.svc.Join(room, conference.JoinOptions{User: "u" + n.c.Node(), Notify: logs[i].notify})
		if err != nil {
			t.Fatalf("join on %s: %v", n.c.Node(), err)
		}
		if j.Mode != conference.ModeMixed || j.Play == "" {
			t.Fatalf("join on %s: %+v, want a mixed room", n.c.Node(), j)
		}
		ms[i], js[i] = m, j
		pub, err := n.hub.Publish(m.PublishKey())
		if err != nil {
			t.Fatal(err)
		}
		go pump(pub, stop)
	}
	own := owners(ns, room)
	if len(own) != 1 {
		t.Fatalf("room held by %v, want exactly one node", own)
	}
	var owner confNode
	for _, n := range ns {
		if n.c.Node() == own[0] {
			owner = n
		}
	}
	info, err := owner.svc.Room(room)
	if err != nil || len(info.Members) != 3 {
		t.Fatalf("owner %s: %+v %v, want three members", own[0], info, err)
	}
	// Every member's mix plays on its own node (relayed from the owner),
	// and every member's audio reaches the owner's hub.
	for i, n := range ns {
		col := &collector{}
		sub := n.hub.Subscribe(ms[i].PlayKey(), col)
		testwait.For(t, 10*time.Second, "the mix on "+n.c.Node(), func() bool { return col.count() > 50 })
		sub.Close()
		col.mu.Lock()
		seen := map[uint32]int{}
		for _, ts := range col.ts {
			seen[ts]++
		}
		if len(seen) != len(col.ts) {
			t.Errorf("%s: %d frames of the mix, only %d distinct: each must come once", n.c.Node(), len(col.ts), len(seen))
		}
		col.mu.Unlock()
		testwait.For(t, 10*time.Second, "the audio of "+n.c.Node()+"'s member on the owner", func() bool {
			return owner.hub.Published(ms[i].PublishKey())
		})
	}
	// Events cross: the first member saw the others join.
	testwait.For(t, 5*time.Second, "joined events on the first node", func() bool {
		return logs[0].has(conference.EvJoined, ms[1].ID) && logs[0].has(conference.EvJoined, ms[2].ID)
	})
	// Moderation from any node: the creator (the first member's user)
	// mutes the last member from the first node.
	if err := ns[0].svc.Mute("ua", room, ms[2].ID, true); err != nil {
		t.Fatalf("mute from a: %v", err)
	}
	testwait.For(t, 5*time.Second, "the muted event on c", func() bool { return logs[2].has(conference.EvMuted, ms[2].ID) })
	if err := ns[1].svc.Kick("ub", room, ms[0].ID); !errors.Is(err, conference.ErrNotModerator) {
		t.Fatalf("a kick by a non-moderator from b: %v", err)
	}
	// A kick from c of a member on b: it is told, and out on b too.
	kl := &eventLog{}
	kicked, _, err := ns[1].svc.Join(room, conference.JoinOptions{User: "ud", Notify: kl.notify})
	if err != nil {
		t.Fatal(err)
	}
	if err := ns[2].svc.Kick("ua", room, kicked.ID); err != nil {
		t.Fatalf("kick from c: %v", err)
	}
	testwait.For(t, 5*time.Second, "the kicked member out on b", func() bool {
		select {
		case <-kicked.Done():
			return kl.has(conference.EvLeft, kicked.ID)
		default:
			return false
		}
	})
	if _, err := ns[1].svc.StreamKey("ud", kicked.PublishKey()[len("conf/"):], true); err == nil {
		t.Fatal("the kicked member's stream name is still granted on b")
	}
	// A locked room refuses a join from another node as locally.
	if err := ns[0].svc.Lock("ua", room, true); err != nil {
		t.Fatalf("lock: %v", err)
	}
	for _, n := range ns {
		if _, _, err := n.svc.Join(room, conference.JoinOptions{User: "intruder"}); !errors.Is(err, conference.ErrLocked) {
			t.Fatalf("join of a locked room on %s: %v", n.c.Node(), err)
		}
	}
	// The owner dies: the others' members follow the room to a survivor.
	owner.stop()
	owner.svc.Close()
	var rest []confNode
	var restM []*conference.Member
	for i, n := range ns {
		if n.c.Node() != own[0] {
			rest, restM = append(rest, n), append(restM, ms[i])
		}
	}
	testwait.For(t, 15*time.Second, "the room held by one survivor with two members", func() bool {
		o := owners(rest, room)
		if len(o) != 1 {
			return false
		}
		for _, n := range rest {
			if n.c.Node() == o[0] {
				info, err := n.svc.Room(room)
				return err == nil && len(info.Members) == 2
			}
		}
		return false
	})
	for i, n := range rest {
		select {
		case <-restM[i].Done():
			t.Fatalf("%s's member is out after the move", n.c.Node())
		default:
		}
		col := &collector{}
		sub := n.hub.Subscribe(restM[i].PlayKey(), col)
		testwait.For(t, 10*time.Second, "the mix on "+n.c.Node()+" after the move", func() bool { return col.count() > 10 })
		sub.Close()
	}
	for i := range rest {
		restM[i].Leave()
	}
	testwait.For(t, 5*time.Second, "the room to end", func() bool { return len(owners(rest, room)) == 0 })
}

var _ media.Receiver = (*collector)(nil)

// TestRoomMessagesHostile: only the member's own node may take it out of
// a room, only the room's owner may tell a node's members of its events,
// malformed and oversized requests are dropped, and a node's own name as
// the sender is refused.
func TestRoomMessagesHostile(t *testing.T) {
	ns := startConfNodes(t, "a", "b", "c")
	const room = "hostile"
	var members []*conference.Member
	logs := []*eventLog{{}, {}}
	for i, n := range ns[:2] {
		m, _, err := n.svc.Join(room, conference.JoinOptions{User: "u" + n.c.Node(), Notify: logs[i].notify})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	own := owners(ns, room)
	if len(own) != 1 {
		t.Fatalf("owners %v", own)
	}
	var owner confNode
	for _, n := range ns {
		if n.c.Node() == own[0] {
			owner = n
		}
	}
	nc := ns[2].c.Conn() // node c: a member of the cluster, no member of the room
	send := func(subj string, v any) {
		b, _ := json.Marshal(v)
		if err := nc.Publish(subj, b); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range members {
		// c says a's or b's member left: not c's member, refused.
		send(subjRoomReqPre+owner.c.Node(), roomReq{Op: "leave", From: "c", Room: room, Member: m.ID})
		// c claims to be the owner itself.
		send(subjRoomReqPre+owner.c.Node(), roomReq{Op: "leave", From: owner.c.Node(), Room: room, Member: m.ID})
		// c sends the member's node an "ended" of the room it does not hold.
		send(subjRoomEvPre+ns[i].c.Node(), roomEvent{From: "c", Member: m.ID, Event: conference.Event{Type: conference.EvEnded, Room: room}})
	}
	// Garbage and an oversized request.
	_ = nc.Publish(subjRoomReqPre+owner.c.Node(), []byte("{not json"))
	_ = nc.Publish(subjRoomReqPre+owner.c.Node(), make([]byte, maxControl+1))
	_ = nc.Publish(subjRoomWhere, make([]byte, 100))
	// A forwarded moderation by a user who moderates nothing is refused.
	var rep roomReply
	rs := &rooms{c: ns[2].c}
	if err := rs.request(owner.c.Node(), roomReq{Op: "moderate", Mod: &conference.Moderation{Op: "end", By: "mallory", Room: room}}, &rep); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(conference.CodeError(rep.Err), conference.ErrNotModerator) {
		t.Fatalf("end by mallory: %q", rep.Err)
	}
	// A request answered proves the earlier ones were handled (one
	// subscription's messages are handled in order).
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	info, err := owner.svc.Room(room)
	if err != nil || len(info.Members) != 2 {
		t.Fatalf("room after the forged messages: %+v %v", info, err)
	}
	// Nodes trust each other (one secret): an event that names the owner
	// is taken; sent after the forged ones on the same subject, it marks
	// them handled.
	for i, m := range members {
		if ns[i].c.Node() == owner.c.Node() {
			continue
		}
		send(subjRoomEvPre+ns[i].c.Node(), roomEvent{From: owner.c.Node(), Member: m.ID, Event: conference.Event{Type: conference.EvSpeaker, Room: room, Member: m.ID}})
		testwait.For(t, 5*time.Second, "the marker event", func() bool { return logs[i].has(conference.EvSpeaker, m.ID) })
	}
	for i, m := range members {
		select {
		case <-m.Done():
			t.Fatalf("member on %s put out by forged messages", ns[i].c.Node())
		default:
		}
		if logs[i].has(conference.EvEnded, "") {
			t.Fatalf("member on %s was told a forged end", ns[i].c.Node())
		}
	}
	testForgedHandover(t, ns, owner, room, members, logs)
}

// testForgedHandover: notices that the room's node gave the room up
// (conference.EvMoving) move nothing and end nothing unless the room's
// node confirms it no longer holds the room: from a node that is not the
// owner, for a member or room that is not there, malformed, or naming the
// owner while it holds the room.
func testForgedHandover(t *testing.T, ns []confNode, owner confNode, room string, members []*conference.Member, logs []*eventLog) {
	t.Helper()
	nc := ns[2].c.Conn()
	send := func(subj string, data []byte) {
		if err := nc.Publish(subj, data); err != nil {
			t.Fatal(err)
		}
	}
	moving := func(from, member, room string) []byte {
		b, _ := json.Marshal(roomEvent{From: from, Member: member, Event: conference.Event{Type: conference.EvMoving, Room: room, Member: member}})
		return b
	}
	var target confNode // a node with a member of the room it does not hold
	var m *conference.Member
	var log *eventLog
	for i, n := range ns[:2] {
		if n.c.Node() != owner.c.Node() {
			target, m, log = n, members[i], logs[i]
		}
	}
	if target.c == nil {
		t.Fatal("both members on the owner: the first two nodes must be distinct")
	}
	other := "" // a node that is neither the owner nor the target
	for _, n := range ns {
		if n.c.Node() != owner.c.Node() && n.c.Node() != target.c.Node() {
			other = n.c.Node()
		}
	}
	subj := subjRoomEvPre + target.c.Node()
	send(subj, moving(other, m.ID, room))                 // not from the owner
	send(subj, moving(owner.c.Node(), "nobody", room))    // no such member
	send(subj, moving(owner.c.Node(), m.ID, "elsewhere")) // no such room
	send(subj, moving(owner.c.Node(), m.ID, "bad room!"))
	send(subj, []byte(`{"from":"`+owner.c.Node()+`","member":"`+m.ID+`","event":{"Type":"moving","Room":`))
	// Naming the owner, for a real member: the owner is asked and says it
	// holds the room: refused (counted).
	send(subj, moving(owner.c.Node(), m.ID, room))
	testwait.For(t, 10*time.Second, "the forged move refused on "+target.c.Node(), func() bool {
		return target.svc.Stats.MovesRefused.Load() >= 1
	})
	// A holds request of a malformed room name is refused too.
	var rep roomReply
	rs := &rooms{c: ns[2].c}
	if err := rs.request(owner.c.Node(), roomReq{Op: "holds", Room: "bad room!"}, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Holds || !errors.Is(conference.CodeError(rep.Err), conference.ErrBadRoom) {
		t.Fatalf("holds of a bad room name: %+v", rep)
	}
	if holds, err := rs.Holds(owner.c.Node(), room); err != nil || !holds {
		t.Fatalf("the owner says it holds the room: %v %v", holds, err)
	}
	if own := owners(ns, room); len(own) != 1 || own[0] != owner.c.Node() {
		t.Fatalf("room held by %v after the forged moves, want %s", own, owner.c.Node())
	}
	info, err := owner.svc.Room(room)
	if err != nil || len(info.Members) != len(members) {
		t.Fatalf("room after the forged moves: %+v %v", info, err)
	}
	select {
	case <-m.Done():
		t.Fatal("member put out by a forged move")
	default:
	}
	if log.has(conference.EvEnded, "") || log.has(conference.EvMoving, "") {
		t.Fatal("member told of a forged move")
	}
	if n := target.svc.Stats.MovesRefused.Load(); n != 1 {
		t.Fatalf("%d moves refused, want 1 (the others are not even asked about)", n)
	}
}
