package cluster

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"
)

// NodeInfo is one node as its last heartbeat described it.
type NodeInfo struct {
	Node     string    `json:"node"`
	Started  time.Time `json:"started"`
	Load     Load      `json:"load"`
	LastSeen time.Time `json:"lastSeen"`
	Self     bool      `json:"self,omitempty"`
}

// heartbeat is the message on subjHeartbeat.
type heartbeat struct {
	Node    string    `json:"node"`
	Started time.Time `json:"started"`
	Load    Load      `json:"load"`
	Leaving bool      `json:"leaving,omitempty"` // a node stopping says so
}

// nodeTable is who is alive: guarded by mu, written by the heartbeat
// handler and the loop's expiry.
type nodeTable struct {
	mu    sync.Mutex
	nodes map[string]*NodeInfo
}

// seen records hb; it reports whether the node is new.
func (t *nodeTable) seen(hb heartbeat, self bool, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.nodes[hb.Node]
	isNew := n == nil || !n.Started.Equal(hb.Started)
	t.nodes[hb.Node] = &NodeInfo{Node: hb.Node, Started: hb.Started, Load: hb.Load, LastSeen: now, Self: self}
	return isNew
}

func (t *nodeTable) remove(node string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.nodes[node]
	delete(t.nodes, node)
	return ok
}

// expire removes the nodes not seen since before; it returns them.
func (t *nodeTable) expire(before time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []string
	for name, n := range t.nodes {
		if !n.Self && n.LastSeen.Before(before) {
			gone = append(gone, name)
			delete(t.nodes, name)
		}
	}
	return gone
}

// touch records a node heard from otherwise than by its heartbeat.
func (t *nodeTable) touch(node string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nodes[node] == nil {
		t.nodes[node] = &NodeInfo{Node: node, LastSeen: now}
	}
}

// list is every node, sorted by name.
func (t *nodeTable) list() []NodeInfo {
	t.mu.Lock()
	out := make([]NodeInfo, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, *n)
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b NodeInfo) int { return strings.Compare(a.Node, b.Node) })
	return out
}

// decodeControl unmarshals a bounded JSON control message.
func decodeControl(b []byte, v any) bool {
	return len(b) <= maxControl && json.Unmarshal(b, v) == nil
}
