package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
)

// A trunk's call to an inbound number arrives on the node the trunk sent
// it to; its target user may be connected to another node. That node
// rings its user exactly as for a user's call from here (the callMsg
// protocol of calls.go, this node the owner); only the owner's party is
// the SIP bridge's caller instead of a call.External: RemoteCall turns
// the other node's answer into call events for the bridge, and the
// bridge's audio into a hub key the other node fetches.

// remoteSIPPrefix is the hub key prefix of a trunk caller's audio and of
// what it hears, each followed by a random 128-bit name (unguessable by
// the clients of this node).
const remoteSIPPrefix = "cluster/sip/"

// RemoteCall is a call from an external caller on this node (a trunk's
// call to an inbound number) to a user online on another node.
type RemoteCall struct {
	cs     *calls
	xc     *xcall
	events func(call.Event)

	mu       sync.Mutex
	answered bool
	ended    bool
}

// RingRemote rings user to on the node it is online on (not here, as of
// the last heartbeats) for the external caller from. events gets what
// happens there, on a cluster goroutine (it must not block): ringing;
// accepted with Publish (the hub key the caller's audio goes to) and Play
// (the key to play to the caller); rejected, cancelled or bye with the
// reason (node_lost when that node goes silent); dtmf. It returns false
// when to is online on no other node.
func (c *Cluster) RingRemote(from, to string, events func(call.Event)) (*RemoteCall, bool) {
	cs := c.calls
	if !account.ValidUserName(to) {
		return nil, false
	}
	node := c.nodes.userNode(to, c.o.Node)
	if node == "" {
		return nil, false
	}
	r := &RemoteCall{cs: cs, events: events}
	r.xc = &xcall{id: "x" + randomHex(12), peer: node, owner: true, x: remoteSIP{r}}
	cs.mu.Lock()
	cs.byID[r.xc.id] = r.xc
	cs.mu.Unlock()
	cs.send(r.xc, callMsg{Op: "invite", Caller: from, Callee: to, Kind: call.KindSIP})
	c.log.Info("cluster: trunk call to a user on another node", "call", r.xc.id, "to", to, "node", node)
	return r, true
}

// ID is the call's id in both nodes' logs.
func (r *RemoteCall) ID() string { return r.xc.id }

// Node is the node of the called user.
func (r *RemoteCall) Node() string { return r.xc.peer }

// Hangup ends the call from the caller's side (cancel while it rings, bye
// after): the other node is told and the audio forwarding stops.
func (r *RemoteCall) Hangup(reason string) {
	if !r.end() {
		return
	}
	r.cs.send(r.xc, callMsg{Op: "hangup", Reason: reason})
	r.cs.end(r.xc.id)
}

// DTMF sends the caller's digits to the called user.
func (r *RemoteCall) DTMF(digits string) {
	r.cs.send(r.xc, callMsg{Op: "dtmf", Digits: digits})
}

// end marks the call ended; false when it already was.
func (r *RemoteCall) end() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.ended
	r.ended = true
	return !was
}

// remoteSIP is the owner's party of a RemoteCall (calls.go's party): the
// other node's messages become events for the bridge.
type remoteSIP struct{ r *RemoteCall }

func (p remoteSIP) Ringing() error {
	p.r.events(call.Event{Type: call.EvRinging, Call: p.r.xc.id})
	return nil
}

// Answer names the two keys of the caller's side: in (the caller's
// audio, fetched by the other node) and out (the user's audio, forwarded
// here by the owner); the bridge publishes in and plays out.
func (p remoteSIP) Answer() (call.Event, error) {
	r := p.r
	r.mu.Lock()
	if r.ended || r.answered {
		r.mu.Unlock()
		return call.Event{}, errors.New("call ended")
	}
	r.answered = true
	r.mu.Unlock()
	name := remoteSIPPrefix + randomHex(16)
	in, out := name+"/in", name+"/out"
	r.events(call.Event{Type: call.EvAccepted, Call: r.xc.id, Publish: in, Play: out})
	return call.Event{Publish: out, Play: in}, nil
}

func (p remoteSIP) Hangup(reason string) error {
	r := p.r
	if !r.end() {
		return nil
	}
	r.mu.Lock()
	answered := r.answered
	r.mu.Unlock()
	e := call.Event{Type: call.EvBye, Call: r.xc.id, Reason: reason}
	switch {
	case answered:
	case reason == call.ReasonBusy || reason == call.ReasonRejected:
		e.Type = call.EvRejected // the user refused: 486 or 603 to the caller
	default:
		e.Type = call.EvCanceled // no answer, offline, node lost: 480
	}
	r.events(e)
	return nil
}

func (p remoteSIP) DTMF(digits string) error {
	p.r.events(call.Event{Type: call.EvDTMF, Call: p.r.xc.id, Digits: digits})
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// RingRemote is Cluster.RingRemote on the cluster's gateway (Gateway), for
// the SIP bridge that holds only the gateway.
func (cs *calls) RingRemote(from, to string, events func(call.Event)) (*RemoteCall, bool) {
	return cs.c.RingRemote(from, to, events)
}
