package cluster

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
)

// Presence between heartbeats. A node tells the others of a change of its
// users' presence at once on subjPresence: {node, started, seq, users:
// name → online, busy or offline}. seq counts this run's messages (from
// 1); every heartbeat carries the seq of the last message sent before its
// list was taken (under the same lock), so a receiver can order the two:
//
//   - a message not newer, for a user, than what the receiver has of that
//     user from that node (an earlier message, or a heartbeat whose list
//     is at least as new) is stale and changes nothing;
//   - a heartbeat's list is the truth as of its seq: it replaces what the
//     receiver had, except users that a newer message changed since.
//
// Messages may be lost (a reconnect): the next heartbeat repairs that.
// The receiver notes when it first heard each claim (a user online on a
// node): a user online on two nodes is routed to, and shown with the
// status of, the most recent claim, so a user who moved from a dead node
// is called where they are now by every node at once, before the dead
// node is dropped (three heartbeats).

// subjPresence carries the presence messages (JSON), to every node.
const subjPresence = "flashvox.presence"

const (
	// presenceEvery is the shortest time between two messages of a node:
	// changes meanwhile (a burst) go out together, each user's latest.
	presenceEvery = 100 * time.Millisecond
	// maxPresenceUsers bounds the users of one message (more wait for the
	// next one); maxPresenceMsg its size.
	maxPresenceUsers = 256
	maxPresenceMsg   = 32 << 10
)

// presenceMsg is the message on subjPresence.
type presenceMsg struct {
	Node    string            `json:"node"`
	Started time.Time         `json:"started"` // the sender's run: a message of another run is not believed
	Seq     uint64            `json:"seq"`
	Users   map[string]string `json:"users"` // online, busy or offline
}

// userClaim is one user online on one node, as this node knows it.
type userClaim struct {
	status string    // online or busy
	since  time.Time // when this node first heard it: the most recent claim wins
	seq    uint64    // the sender's seq that set it (0: a heartbeat's)
}

// nodeUsers is who is online on one node.
type nodeUsers struct {
	seq   uint64 // seq of the last heartbeat list applied
	users map[string]userClaim
	// gone is the users a message took offline after seq: that message's
	// seq, so that an older heartbeat list does not bring them back.
	gone map[string]uint64
}

func validStatus(st string) bool { return st == call.Online || st == call.Busy }

// mergeFull is a heartbeat's list (as of seq) applied over prev (nil:
// none, or another run of the node).
func mergeFull(prev *nodeUsers, seq uint64, list map[string]string, now time.Time) nodeUsers {
	if prev != nil && seq < prev.seq {
		return *prev // an older list than one already applied
	}
	out := nodeUsers{seq: seq, users: make(map[string]userClaim, len(list))}
	for u, st := range list {
		if !validStatus(st) || !account.ValidUserName(u) {
			continue
		}
		c := userClaim{status: st, since: now}
		if prev != nil {
			if prev.gone[u] > seq {
				continue // offline since, as a newer message said
			}
			if old, ok := prev.users[u]; ok {
				if old.seq > seq {
					c = old // changed since, as a newer message said
				} else {
					c.since = old.since
				}
			}
		}
		out.users[u] = c
	}
	if prev == nil {
		return out
	}
	for u, old := range prev.users {
		if _, ok := out.users[u]; !ok && old.seq > seq { // came online after the list was taken
			out.users[u] = old
		}
	}
	for u, g := range prev.gone {
		if g > seq {
			if out.gone == nil {
				out.gone = map[string]uint64{}
			}
			out.gone[u] = g
		}
	}
	return out
}

// applyLocked applies a presence message (seq, users) to n; it returns
// the users whose claim on n changed, and whether the whole message was
// stale.
func (n *NodeInfo) applyLocked(seq uint64, users map[string]string, now time.Time) (changed []string, stale bool) {
	nu := &n.users
	if seq <= nu.seq {
		return nil, true
	}
	if nu.users == nil {
		nu.users = map[string]userClaim{}
	}
	stale = true
	for u, st := range users {
		old, had := nu.users[u]
		last := nu.gone[u]
		if had {
			last = old.seq
		}
		if seq <= last {
			continue
		}
		stale = false
		if st == call.Offline {
			delete(nu.users, u)
			if nu.gone == nil {
				nu.gone = map[string]uint64{}
			}
			if len(nu.gone) < maxUsers {
				nu.gone[u] = seq
			}
			if had {
				changed = append(changed, u)
			}
			continue
		}
		if !had && len(nu.users) >= maxUsers {
			continue // as for a heartbeat: no more than maxUsers per node
		}
		since := now
		if had {
			since = old.since
		}
		nu.users[u] = userClaim{status: st, since: since, seq: seq}
		delete(nu.gone, u)
		if !had || old.status != st {
			changed = append(changed, u)
		}
	}
	return changed, stale
}

// presenceResult is what applyPresence made of a message.
type presenceResult int

const (
	presenceApplied presenceResult = iota
	presenceStale
	presenceUnknown // a node not in the table, or of another run
)

// applyPresence applies node's message; self may be the node itself (its
// own changes, so its table agrees with what it sent).
func (t *nodeTable) applyPresence(m presenceMsg, self bool, now time.Time) ([]string, presenceResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.nodes[m.Node]
	if n == nil || n.Self != self || !n.Started.Equal(m.Started) {
		return nil, presenceUnknown
	}
	changed, stale := n.applyLocked(m.Seq, m.Users, now)
	if stale {
		return nil, presenceStale
	}
	return changed, presenceApplied
}

// presenceOut is this node's side: the changes not sent yet and the seq.
// Lock order: sendMu, then the call service's (Options.Users), then
// dirtyMu (LocalPresence runs under the service's lock).
type presenceOut struct {
	sendMu  sync.Mutex // a message's seq and its publication; a heartbeat's list and seq
	seq     uint64
	dirtyMu sync.Mutex
	dirty   map[string]string // user → its latest status, not sent yet
	kick    chan struct{}
}

// LocalPresence tells the cluster that user's presence here is now
// status (online, busy or offline): the other nodes hear it at once, or
// within presenceEvery when changes come faster. The call service calls
// it with its lock held (call.Service.WatchLocalPresence): it only notes.
func (c *Cluster) LocalPresence(user, status string) {
	p := &c.pres
	p.dirtyMu.Lock()
	if _, ok := p.dirty[user]; ok || len(p.dirty) < maxUsers { // beyond: the next heartbeat carries it
		p.dirty[user] = status
	}
	p.dirtyMu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// runPresence sends the changes, at most one message per presenceEvery,
// until ctx ends (Serve owns it).
func (c *Cluster) runPresence(ctx context.Context) {
	t := time.NewTimer(presenceEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.pres.kick:
		}
		if c.flushPresence() { // more than one message's worth: the rest after the pause
			select {
			case c.pres.kick <- struct{}{}:
			default:
			}
		}
		t.Reset(presenceEvery)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// flushPresence sends one message of the changes not sent yet (at most
// maxPresenceUsers); it reports whether more wait.
func (c *Cluster) flushPresence() bool {
	p := &c.pres
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	p.dirtyMu.Lock()
	batch := make(map[string]string, min(len(p.dirty), maxPresenceUsers))
	for u, st := range p.dirty {
		if len(batch) == maxPresenceUsers {
			break
		}
		batch[u] = st
		delete(p.dirty, u)
	}
	more := len(p.dirty) > 0
	p.dirtyMu.Unlock()
	if len(batch) == 0 {
		return more
	}
	p.seq++
	m := presenceMsg{Node: c.o.Node, Started: c.started, Seq: p.seq, Users: batch}
	c.nodes.applyPresence(m, true, time.Now())
	b, _ := json.Marshal(m)
	if err := c.nc.Publish(subjPresence, b); err != nil {
		c.log.Warn("cluster: presence not sent (the next heartbeat carries it)", "err", err)
		return more
	}
	c.Stats.PresenceSent.Add(1)
	return more
}

// onPresence applies another node's message and tells the watchers here.
func (c *Cluster) onPresence(m *nats.Msg) {
	var msg presenceMsg
	if !decodeBounded(m.Data, maxPresenceMsg, &msg) {
		c.Stats.PresenceBad.Add(1)
		return
	}
	if msg.Node == c.o.Node {
		return // our own
	}
	if !validPresence(msg) {
		c.Stats.PresenceBad.Add(1)
		return
	}
	changed, res := c.nodes.applyPresence(msg, false, time.Now())
	switch res {
	case presenceUnknown:
		c.Stats.PresenceBad.Add(1)
		return
	case presenceStale:
		c.Stats.PresenceStale.Add(1)
		return
	}
	c.Stats.PresenceIn.Add(1)
	if len(changed) > 0 {
		c.pushPresence(changed)
	}
}

// validPresence checks a message's bounds: a node name, 1 to
// maxPresenceUsers users with valid names and statuses.
func validPresence(m presenceMsg) bool {
	if m.Node == "" || len(m.Node) > 64 || strings.ContainsAny(m.Node, ".*> ") || m.Seq == 0 ||
		len(m.Users) == 0 || len(m.Users) > maxPresenceUsers {
		return false
	}
	for u, st := range m.Users {
		if !account.ValidUserName(u) || !(validStatus(st) || st == call.Offline) {
			return false
		}
	}
	return true
}

// pushPresence hands the call service the other nodes' presence of users
// (Options.PresenceChanged; Options.Presence with the whole list when it
// is not set). presMu orders it with the heartbeat's whole list
// (pushAllPresence), so that an older list never lands after a newer change.
func (c *Cluster) pushPresence(users []string) {
	c.presMu.Lock()
	defer c.presMu.Unlock()
	if c.o.PresenceChanged != nil {
		c.o.PresenceChanged(c.nodes.remoteStatus(users, c.o.Node))
		return
	}
	if c.o.Presence != nil {
		c.o.Presence(c.nodes.remoteUsers(c.o.Node))
	}
}

// pushAllPresence hands Options.Presence every user online on the other
// nodes (each heartbeat, and when a node is gone).
func (c *Cluster) pushAllPresence() {
	c.presMu.Lock()
	defer c.presMu.Unlock()
	if c.o.Presence != nil {
		c.o.Presence(c.nodes.remoteUsers(c.o.Node))
	}
}
