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
	// users online there (not in the JSON: who is online is the call
	// service's business, not the status page's): the heartbeats' lists
	// and the presence messages between them (presence.go).
	users nodeUsers
	// RTMP is how clients reach it (cluster.rtmp_url): redirects go there,
	// and a page or load balancer may pick a node by it.
	RTMP string `json:"rtmp,omitempty"`
	// HTTP and RTMFP are its page's URL and RTMFP address (placement.go).
	HTTP  string `json:"http,omitempty"`
	RTMFP string `json:"rtmfp,omitempty"`
}

// heartbeat is the message on subjHeartbeat.
type heartbeat struct {
	Node    string            `json:"node"`
	Started time.Time         `json:"started"`
	Load    Load              `json:"load"`
	Leaving bool              `json:"leaving,omitempty"` // a node stopping says so
	Users   map[string]string `json:"users,omitempty"`   // online there: status (at most maxUsers)
	// Seq is the sender's presence sequence number when it took Users: the
	// list holds every change it sent up to Seq (presence.go).
	Seq   uint64 `json:"seq,omitempty"`
	RTMP  string `json:"rtmp,omitempty"`  // how clients reach it (redirects)
	HTTP  string `json:"http,omitempty"`  // its page (placement.go)
	RTMFP string `json:"rtmfp,omitempty"` // its RTMFP address (placement.go)
}

// maxUsers bounds the user names of one heartbeat; maxHeartbeat its size.
const (
	maxUsers     = 20000
	maxHeartbeat = 1 << 20
)

// nodeTable is who is alive: guarded by mu, written by the heartbeat
// handler and the loop's expiry.
type nodeTable struct {
	mu    sync.Mutex
	nodes map[string]*NodeInfo
	// pages are the page URLs (cluster.http_url) of the other nodes,
	// live or lost, with when each was last announced (KnownPages).
	pages map[string]time.Time
}

// maxKnownPages bounds nodeTable.pages: a member announcing a new URL in
// every heartbeat cannot grow it without end.
const maxKnownPages = 256

// seen records hb; it reports whether the node is new, and whether it
// restarted (known, with another start time: what it ran is gone).
func (t *nodeTable) seen(hb heartbeat, self bool, now time.Time) (isNew, restarted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.nodes[hb.Node]
	isNew = n == nil || !n.Started.Equal(hb.Started)
	restarted = n != nil && !n.Started.IsZero() && !n.Started.Equal(hb.Started)
	list := hb.Users
	if len(list) > maxUsers {
		list = nil // a node that sends more is not believed
	}
	var prev *nodeUsers
	if n != nil && !isNew { // the same run of that node: its later presence messages stand
		prev = &n.users
	}
	t.nodes[hb.Node] = &NodeInfo{Node: hb.Node, Started: hb.Started, Load: hb.Load, LastSeen: now, Self: self,
		users: mergeFull(prev, hb.Seq, list, now), RTMP: hb.RTMP, HTTP: hb.HTTP, RTMFP: hb.RTMFP}
	if !self && hb.HTTP != "" {
		t.pageSeenLocked(hb.HTTP, now)
	}
	return isNew, restarted
}

// started is node's run's start as its heartbeats tell it; ok only for a
// live node other than self that sent one.
func (t *nodeTable) started(node string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.nodes[node]
	if n == nil || n.Self || n.Started.IsZero() {
		return time.Time{}, false
	}
	return n.Started, true
}

// pageSeenLocked records page as announced now, forgetting the pages
// not announced for knownPagesFor; a new page beyond maxKnownPages is
// not recorded.
func (t *nodeTable) pageSeenLocked(page string, now time.Time) {
	if t.pages == nil {
		t.pages = map[string]time.Time{}
	}
	if _, ok := t.pages[page]; !ok && len(t.pages) >= maxKnownPages {
		for p, at := range t.pages {
			if now.Sub(at) > knownPagesFor {
				delete(t.pages, p)
			}
		}
		if len(t.pages) >= maxKnownPages {
			return
		}
	}
	t.pages[page] = now
}

// knownPages is the pages announced within knownPagesFor of now, sorted.
func (t *nodeTable) knownPages(now time.Time) []string {
	t.mu.Lock()
	out := make([]string, 0, len(t.pages))
	for p, at := range t.pages {
		if now.Sub(at) <= knownPagesFor {
			out = append(out, p)
		}
	}
	t.mu.Unlock()
	slices.Sort(out)
	return out
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

// userNode is the node other than self with the most recent claim of
// user (presence.go), "" when none or when user is online on self as of
// self's own table.
func (t *nodeTable) userNode(user, self string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := t.nodes[self]; n != nil && n.users.users[user].status != "" {
		return ""
	}
	node, _ := t.claimLocked(user, self)
	return node
}

// claimLocked is the node other than self with the most recent claim of
// user and that claim ("" when none). The times are this node's (when
// it heard each claim), so no clock of another node matters; ties go to
// the smaller name, so that the pick does not change with map order.
func (t *nodeTable) claimLocked(user, self string) (string, userClaim) {
	best, bc := "", userClaim{}
	for name, n := range t.nodes {
		c, ok := n.users.users[user]
		if name == self || !ok {
			continue
		}
		if best == "" || c.since.After(bc.since) || (c.since.Equal(bc.since) && name < best) {
			best, bc = name, c
		}
	}
	return best, bc
}

// remoteUsers is every user online on a node other than self: the status
// of its most recent claim (the node calls to it go to).
func (t *nodeTable) remoteUsers(self string) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]string{}
	for name, n := range t.nodes {
		if name == self {
			continue
		}
		for u := range n.users.users {
			if _, done := out[u]; !done {
				_, c := t.claimLocked(u, self)
				out[u] = c.status
			}
		}
	}
	return out
}

// remoteStatus is users' status on the other nodes as remoteUsers tells
// it, "" for those online on none.
func (t *nodeTable) remoteStatus(users []string, self string) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]string, len(users))
	for _, u := range users {
		_, c := t.claimLocked(u, self)
		out[u] = c.status
	}
	return out
}

// leastLoaded is the RTMP URL of the node other than self with the fewest
// clients (Load.Clients), fewer than limit; "" when none.
func (t *nodeTable) leastLoaded(self string, limit int) string {
	return t.leastLoadedBy(self, limit, func(n *NodeInfo) string { return n.RTMP })
}

// leastLoadedBy is addr(n) of the node n other than self with the fewest
// clients (Load.Clients), fewer than limit, whose addr is set; "" when none.
func (t *nodeTable) leastLoadedBy(self string, limit int, addr func(*NodeInfo) string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	best, fewest := "", limit
	for name, n := range t.nodes {
		if a := addr(n); name != self && a != "" && n.Load.Clients() < fewest {
			best, fewest = a, n.Load.Clients()
		}
	}
	return best
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
func decodeControl(b []byte, v any) bool { return decodeBounded(b, maxControl, v) }

func decodeBounded(b []byte, limit int, v any) bool {
	return len(b) <= limit && json.Unmarshal(b, v) == nil
}
