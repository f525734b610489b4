package cluster

import (
	"encoding/json"
	"errors"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/media"
)

// Calls between users on two nodes ride the call service's gateway seam
// (call.Gateway, call.External, call.Leg), as SIP calls do: the caller's
// node owns the call and sees the callee as a gateway party; the callee's
// node rings its user with call.Service.InviteExternal and forwards what
// the user does. Each node forwards the other party's audio (fetched
// through the cluster's relays) into the hub key its own party plays.

// subjCallPre + node carries the call messages to that node (JSON).
const subjCallPre = "flashvox.call."

// ReasonNodeLost ends a call whose other node went silent.
const ReasonNodeLost = "node_lost"

// CallService is what the callee's node needs of the call service.
type CallService interface {
	InviteExternalKind(from, kind, to string, leg call.Leg) (call.External, string, error)
	// OnlineHere reports whether user has a device connected here now.
	OnlineHere(user string) bool
}

// callMsg is one step of a cross-node call.
type callMsg struct {
	Op     string `json:"op"`   // invite, ringing, accepted, answered, hangup, dtmf, hold, unhold
	Call   string `json:"call"` // the caller's node's call id
	From   string `json:"from"` // the sending node
	Caller string `json:"caller,omitempty"`
	Callee string `json:"callee,omitempty"`
	// Kind is the sender's party's transport (call.KindRTMP..., call.KindSIP
	// for a trunk's caller): the caller's in invite, the answering device's
	// in accepted, for the other node's records.
	Kind   string `json:"kind,omitempty"`
	Key    string `json:"key,omitempty"` // hub key of the sender's party's audio
	Reason string `json:"reason,omitempty"`
	Digits string `json:"digits,omitempty"`
}

// xcall is one cross-node call on this node.
type xcall struct {
	id    string     // the caller's node's call id
	peer  string     // the other node
	owner bool       // this node is the caller's
	x     party      // nil on the callee's node until its user rings
	sip   bool       // callee's node: the caller is a SIP party, which may hold the call
	pub   string     // callee's node: the hub key its gateway publishes (what the callee plays)
	fwd   *forwarder // the other party's audio into the local key
}

// calls are this node's cross-node calls; mu guards byID and each xcall.
type calls struct {
	c    *Cluster
	svc  CallService
	mu   sync.Mutex
	byID map[string]*xcall
}

// Gateway is the call.Gateway for users online on other nodes (chain it
// with the SIP bridge's). Calls to it work once ServeCalls ran.
func (c *Cluster) Gateway() call.Gateway { return c.calls }

// ServeCalls lets other nodes ring this node's users through svc; call
// it once, before Serve.
func (c *Cluster) ServeCalls(svc CallService) error {
	c.calls.svc = svc
	_, err := c.nc.Subscribe(subjCallPre+c.o.Node, c.calls.onMsg)
	return err
}

// Routes reports whether to is a user online on another node (as of the
// last heartbeats) and not here. Here is asked of the call service now,
// not of this node's last heartbeat: a user who just came here from a
// lost node (a page's or a phone's failover) is still listed there
// until that node is dropped, and is rung here at once.
func (cs *calls) Routes(to string) bool {
	return account.ValidUserName(to) && cs.svc != nil && cs.c.nodes.userNode(to, cs.c.o.Node) != "" && !cs.svc.OnlineHere(to)
}

// Dial rings to on its node; called with the call service's lock held
// (nothing here calls the service).
func (cs *calls) Dial(x call.External, from, to string) (call.Leg, error) {
	node := cs.c.nodes.userNode(to, cs.c.o.Node)
	if node == "" {
		return nil, errors.New("offline")
	}
	xc := &xcall{id: x.ID, peer: node, owner: true, x: x}
	cs.mu.Lock()
	cs.byID[x.ID] = xc
	cs.mu.Unlock()
	cs.send(xc, callMsg{Op: "invite", Caller: from, Callee: to, Kind: x.UserKind})
	return leg{cs, xc}, nil
}

// party is what a node's side of a cross-node call does to its local
// party: call.External for a user's call, remoteSIP for a trunk's caller
// (sipcalls.go).
type party interface {
	Ringing() error
	Answer() (call.Event, error)
	Hangup(reason string) error
	DTMF(digits string) error
}

// local is xc's party, nil while the callee's node has not rung its user.
func (cs *calls) local(xc *xcall) party {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return xc.x
}

func (cs *calls) send(xc *xcall, m callMsg) {
	m.Call, m.From = xc.id, cs.c.o.Node
	b, _ := json.Marshal(m)
	_ = cs.c.nc.Publish(subjCallPre+xc.peer, b)
}

// leg is the local call service's view of the far party: what the local
// user does goes to the other node. Event is called with the service's
// lock held: it only sends, and stops forwarding on its own goroutine.
type leg struct {
	cs *calls
	xc *xcall
}

func (l leg) Event(e call.Event) {
	switch e.Type {
	case call.EvAccepted: // the callee answered here: tell the caller's node
		l.cs.mu.Lock()
		l.xc.pub = e.Publish
		l.cs.mu.Unlock()
		l.cs.send(l.xc, callMsg{Op: "accepted", Key: e.Play, Kind: e.Kind})
	case call.EvRejected, call.EvCanceled, call.EvBye:
		l.cs.send(l.xc, callMsg{Op: "hangup", Reason: e.Reason})
		go l.cs.end(l.xc.id)
	case call.EvDTMF:
		l.cs.send(l.xc, callMsg{Op: "dtmf", Digits: e.Digits})
	}
}

// end forgets call id and stops its forwarding.
func (cs *calls) end(id string) *xcall {
	cs.mu.Lock()
	xc := cs.byID[id]
	delete(cs.byID, id)
	cs.mu.Unlock()
	if xc != nil && xc.fwd != nil {
		xc.fwd.stop()
	}
	return xc
}

func (cs *calls) onMsg(m *nats.Msg) {
	var msg callMsg
	if !decodeControl(m.Data, &msg) || msg.Call == "" || len(msg.Call) > 64 || msg.From == "" || msg.From == cs.c.o.Node || len(msg.Key) > maxKey {
		return
	}
	if msg.Op == "invite" {
		cs.invited(msg)
		return
	}
	cs.mu.Lock()
	xc := cs.byID[msg.Call]
	cs.mu.Unlock()
	if xc == nil || xc.peer != msg.From {
		return // unknown, or another node's attempt at a call it is no party to
	}
	x := cs.local(xc)
	if x == nil { // the callee's node did not ring its user (NATS delivers a subscription's messages in order: invited returned)
		if msg.Op == "hangup" {
			cs.end(xc.id)
		}
		return
	}
	switch msg.Op {
	case "ringing":
		_ = x.Ringing()
	case "accepted": // caller's node: the callee answered over there
		if !xc.owner || msg.Key == "" {
			return
		}
		ev, err := answer(x, msg.Kind)
		if err != nil {
			cs.send(xc, callMsg{Op: "hangup", Reason: "gone"})
			cs.end(xc.id)
			return
		}
		cs.startForward(xc, msg.Key, ev.Publish)
		cs.send(xc, callMsg{Op: "answered", Key: ev.Play})
	case "answered": // callee's node: the caller's audio key
		cs.mu.Lock()
		pub := xc.pub
		cs.mu.Unlock()
		if !xc.owner && msg.Key != "" && pub != "" {
			cs.startForward(xc, msg.Key, pub)
		}
	case "hangup":
		cs.end(xc.id)
		_ = x.Hangup(msg.Reason)
	case "dtmf":
		_ = x.DTMF(msg.Digits)
	case "hold", "unhold":
		cs.held(xc, x, msg)
	}
}

// invited rings the local callee of another node's call.
func (cs *calls) invited(msg callMsg) {
	kind := partyKind(msg.Kind)
	xc := &xcall{id: msg.Call, peer: msg.From, sip: kind == call.KindSIP}
	if cs.svc == nil || !account.ValidUserName(msg.Callee) {
		cs.send(xc, callMsg{Op: "hangup", Reason: call.ReasonOffline})
		return
	}
	cs.mu.Lock()
	if cs.byID[msg.Call] != nil { // a replay of a known invite
		cs.mu.Unlock()
		return
	}
	cs.byID[msg.Call] = xc
	cs.mu.Unlock()
	x, reason, err := cs.svc.InviteExternalKind(msg.Caller, kind, msg.Callee, leg{cs, xc})
	if err != nil || reason != "" {
		if reason == "" {
			reason = call.ReasonOffline
		}
		cs.end(xc.id)
		cs.send(xc, callMsg{Op: "hangup", Reason: reason})
		return
	}
	cs.mu.Lock()
	xc.x = x
	cs.mu.Unlock()
	cs.send(xc, callMsg{Op: "ringing"})
}

func (cs *calls) startForward(xc *xcall, from, to string) {
	f, err := forward(cs.c.o.Hub, from, to)
	if err != nil {
		cs.c.log.Warn("cluster call: audio not forwarded", "call", xc.id, "err", err)
		return
	}
	cs.mu.Lock()
	if cs.byID[xc.id] == nil { // ended meanwhile
		cs.mu.Unlock()
		f.stop()
		return
	}
	xc.fwd = f
	cs.mu.Unlock()
	cs.c.log.Info("cluster call media", "call", xc.id, "peer", xc.peer)
}

// nodeGone ends the calls with node (reason node_lost).
func (cs *calls) nodeGone(node string) {
	cs.mu.Lock()
	var gone []string
	for id, xc := range cs.byID {
		if xc.peer == node {
			gone = append(gone, id)
		}
	}
	cs.mu.Unlock()
	for _, id := range gone {
		if xc := cs.end(id); xc != nil {
			if x := cs.local(xc); x != nil {
				_ = x.Hangup(ReasonNodeLost)
			}
		}
	}
}

// forwarder publishes the audio of one hub key (the far party's, relayed
// from its node) on another (what the local party plays).
type forwarder struct {
	sub *media.Subscriber
	pub *media.Publisher
}

func forward(hub *media.Hub, from, to string) (*forwarder, error) {
	pub, err := hub.Publish(to)
	if err != nil {
		return nil, err
	}
	// A receiver may write to another stream's publisher (conference does).
	sub := hub.Subscribe(from, media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind == media.KindAudio {
			pub.Write(f)
		}
	}))
	return &forwarder{sub: sub, pub: pub}, nil
}

func (f *forwarder) stop() {
	f.sub.Close()
	f.pub.Close()
}
