package cluster

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/flashvox/flashvox/media"
)

// The repair of a name published twice. A claim accepted without every
// node's answer (claim.go), or while the nodes did not see each other,
// may leave two client publishers of one name in the cluster. Each node
// keeps its client publications with the claim that won them (held) and
// says so in its announces (found.At): at the publish, to a node that
// joins or comes back (its heartbeat is new), and every heartbeat for a
// claim accepted unchecked. A node that hears of a claim of a name it
// publishes settles it by the order of the crossing claims, (At, Node),
// the same on both nodes: the later claim's node ends its publisher
// (media.Publisher.End: its client is refused, its players follow the
// winner through the relays), the earlier's answers with its own claim,
// point to point, so the other learns of it even if it had not yet.
// Nothing answers the loser, which has no publication left to announce:
// no ping-pong.
//
// A claim's At is a Lamport clock over nanoseconds: at least this node's
// clock, and later than every claim it has heard (claimTime, heard). So
// a node that answered "not held" to a claim makes every later claim of
// its own after it, whatever the clocks' skew, and a node's announce
// that contradicts its own answer (an earlier At) is not believed.
// Members are trusted, but an announce must hold together to end a
// publication: a live node of the table, not this one, a claim time in
// that node's current run and not before the answer it gave to ours.
// Anything else is ignored and counted (BadContests). A member can
// therefore end only a publication claimed while it was not heard, as
// an honest member that published meanwhile would.

// maxAhead bounds how far in the future (this node's clock) a heard
// claim may move the Lamport clock: a node with a clock far ahead, or a
// hostile one, must not push every later claim here into the future.
const maxAhead = time.Minute

// errLost ends a local publisher whose name went to an earlier claim.
var errLost = errors.New("published on another node of the cluster")

// held is one client publication of this node and the claim that won
// it; guarded by claims.mu.
type held struct {
	pub       *media.Publisher
	at        int64
	unchecked bool                 // accepted without every node's answer: announced every heartbeat
	confirmed map[string]time.Time // the nodes that answered "not held": their runs' start
	seen      map[string]int64     // other nodes' claims of the name already counted: node → At
}

func newHeld(pub *media.Publisher, at int64, unchecked bool, confirmed map[string]time.Time) *held {
	return &held{pub: pub, at: at, unchecked: unchecked, confirmed: confirmed, seen: map[string]int64{}}
}

// claimTime is the At of a new claim of this node: its clock, or just
// after the latest claim heard.
func (c *Cluster) claimTime() int64 {
	for {
		last, now := c.clock.Load(), time.Now().UnixNano()
		at := max(now, last+1)
		if c.clock.CompareAndSwap(last, at) {
			return at
		}
	}
}

// heard moves the clock to another node's claim time at (unless it is
// more than maxAhead ahead of this node's clock).
func (c *Cluster) heard(at int64) {
	if at > time.Now().Add(maxAhead).UnixNano() {
		return
	}
	for {
		last := c.clock.Load()
		if at <= last || c.clock.CompareAndSwap(last, at) {
			return
		}
	}
}

// heldAt is key's claim time when this node is publishing it for a
// client now: the won claim in flight (an announce at the publish, from
// the hub's watcher), or the held one; 0 otherwise.
func (c *Cluster) heldAt(key string) int64 {
	c.claims.mu.Lock()
	defer c.claims.mu.Unlock()
	if p := c.claims.m[key]; p != nil && p.won {
		return p.At
	}
	if h := c.claims.held[key]; h != nil && !h.pub.Closed() {
		return h.at
	}
	return 0
}

// announceHeld sends this node's held publications to node's here
// subject, or to every node when node is ""; only the unchecked ones
// with onlyUnchecked. Ended publications are forgotten on the way.
func (c *Cluster) announceHeld(node string, onlyUnchecked bool) {
	subject := subjAnnounce
	if node != "" {
		subject = subjHerePre + node
	}
	var out []found
	c.claims.mu.Lock()
	for key, h := range c.claims.held {
		switch {
		case h.pub.Closed():
			delete(c.claims.held, key)
		case h.unchecked || !onlyUnchecked:
			out = append(out, found{Node: c.o.Node, Key: key, At: h.at})
		}
	}
	c.claims.mu.Unlock()
	for _, f := range out {
		b, _ := json.Marshal(f)
		_ = c.nc.Publish(subject, b)
	}
}

// contest settles f, another node's claim of a name (an announce with
// At), against this node's publication of it, if any (see above).
func (c *Cluster) contest(f found) {
	me := c.o.Node
	if f.Node == me || f.Key == "" || strings.IndexByte(f.Key, media.DerivedSep) >= 0 {
		c.Stats.BadContests.Add(1)
		return
	}
	started, known := c.nodes.started(f.Node)
	valid := known && f.At >= started.UnixNano()
	if valid {
		c.heard(f.At)
	}
	c.claims.mu.Lock()
	h := c.claims.held[f.Key]
	if h != nil && h.pub.Closed() {
		delete(c.claims.held, f.Key)
		h = nil
	}
	if h == nil { // nothing here to settle
		c.claims.mu.Unlock()
		return
	}
	theirs, ours := claim{Node: f.Node, Key: f.Key, At: f.At}, claim{Node: me, Key: f.Key, At: h.at}
	answered, ok := h.confirmed[f.Node]
	if ok && answered.Equal(started) && theirs.before(ours) {
		valid = false // it answered "not held" to ours: its claims are later
	}
	if !valid {
		c.claims.mu.Unlock()
		c.Stats.BadContests.Add(1)
		c.log.Debug("cluster: claim of a name published here ignored (does not hold together)", "stream", f.Key, "node", f.Node)
		return
	}
	first := h.seen[f.Node] != f.At
	h.seen[f.Node] = f.At
	win := ours.before(theirs)
	if !win {
		delete(c.claims.held, f.Key)
	}
	c.claims.mu.Unlock()
	if first {
		c.Stats.DoublePublished.Add(1)
	}
	if win {
		if first {
			c.log.Warn("cluster: stream published on two nodes: this node's claim is earlier, the other ends its publisher", "stream", f.Key, "other", f.Node)
		}
		b, _ := json.Marshal(found{Node: me, Key: f.Key, At: h.at})
		_ = c.nc.Publish(subjHerePre+f.Node, b)
		return
	}
	if !h.pub.End(errLost) {
		return // its client left meanwhile
	}
	c.Stats.ClaimsLost.Add(1)
	c.log.Warn("cluster: publish ended: the stream is published on another node with an earlier claim", "stream", f.Key, "winner", f.Node)
	c.imp.demand(f.Key) // players here follow the winner: a relay if they wait
}
