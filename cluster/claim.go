package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/media"
)

// A client's publication of a name is unique in the cluster, as on one
// node: before the hub takes it (media.Hub.PublishClient), the node asks
// every node on flashvox.claim and every node answers whether it holds
// the name (a local publisher, or a claim of its own that wins). The
// publish is refused on the first "held"; accepted once every live node
// of the node table said "not held", or after claimWait without them
// (a warning: the name may then be published twice, until the nodes
// hear each other and settle it, contest.go). Two claims that
// cross are ordered by (At, Node), the same on both nodes: the earlier
// wins, the other node's answer says "held", and the loser, hearing the
// winner's claim, yields to it (answers "not held"). The loser is refused
// by that "held" answer, not by hearing the claim: a claim delivered late,
// after its node had been refused, made a later claim of the name yield
// to it and fail with nobody holding the name (TestClaimRefusedOnAnotherNode
// in CI). Relays and derived keys are not claimed (their Publish is not
// PublishClient).
const (
	subjClaim = "flashvox.claim" // request: claim (JSON); every node answers claimAnswer
	// claimWait bounds the wait for every node's answer: a publish on a
	// node of a cluster is delayed by one round trip to the slowest
	// node, and by at most this when one does not answer.
	claimWait = 300 * time.Millisecond
)

// claim is a node's intent to publish Key; At and Node order two claims
// that cross, and two publications of one name (contest.go). At is the
// node's clock in ns, moved past every claim it has heard (claimTime).
type claim struct {
	Node string `json:"node"`
	Key  string `json:"key"`
	At   int64  `json:"at"`
}

// before reports whether c wins over o: earlier, then the lower name.
func (c claim) before(o claim) bool {
	if c.At != o.At {
		return c.At < o.At
	}
	return c.Node < o.Node
}

// claimAnswer is a node's answer to a claim.
type claimAnswer struct {
	Node string `json:"node"`
	Key  string `json:"key"`
	Held bool   `json:"held"`
}

// errHeld refuses a name another node holds (wrapped in media.ErrBadName).
var errHeld = errors.New("published on another node of the cluster")

// pending is this node's claim while it is asked (lost: it yielded to
// another node's earlier claim, which decides nothing by itself: that
// node's answer does) and after (won: until the hub holds the name).
type pending struct {
	claim
	won, lost bool
}

// claims are this node's claims in flight, by key (at most one per key:
// a second local publisher of a key being claimed is refused at once),
// and its client publications with the claims that won them (held,
// contest.go).
type claims struct {
	mu   sync.Mutex
	m    map[string]*pending
	held map[string]*held
}

// guard is the hub's media.PublishGuard: it claims key in the cluster.
func (c *Cluster) guard(key string) (func(*media.Publisher), error) {
	me := c.o.Node
	if len(key) > maxKey {
		return nil, fmt.Errorf("cluster: claim: key longer than %d bytes", maxKey)
	}
	p := &pending{claim: claim{Node: me, Key: key, At: c.claimTime()}}
	c.claims.mu.Lock()
	if c.claims.m[key] != nil {
		c.claims.mu.Unlock()
		return nil, errors.New("being published here")
	}
	c.claims.m[key] = p
	c.claims.mu.Unlock()
	held, confirmed, err := c.ask(p)
	// done ends the claim: the publisher, when the hub took the name, is
	// held under the claim that won it, for the contests (contest.go).
	done := func(pub *media.Publisher) {
		c.claims.mu.Lock()
		defer c.claims.mu.Unlock()
		if c.claims.m[key] == p {
			delete(c.claims.m, key)
		}
		if pub != nil {
			c.claims.held[key] = newHeld(pub, p.At, err != nil, confirmed)
		}
	}
	// Yielding (lost) does not decide: an earlier claim still pending
	// answered "held"; one that had ended (delivered late) did not.
	c.claims.mu.Lock()
	p.won = !held
	c.claims.mu.Unlock()
	switch {
	case held:
		done(nil)
		c.Stats.ClaimsRefused.Add(1)
		return nil, errHeld
	case err != nil:
		c.Stats.ClaimsUnchecked.Add(1)
		c.log.Warn("cluster: publish accepted without every node's answer (the name may be published on another node too)", "stream", key, "err", err)
	}
	return done, nil
}

// ask sends p and waits for the answers: held as soon as one node holds
// the key, else not held once every other live node answered; err when
// some did not (NATS down or a node silent for claimWait). confirmed are
// the nodes that answered "not held", with their runs' start.
func (c *Cluster) ask(p *pending) (held bool, confirmed map[string]time.Time, err error) {
	nc, me := c.nc, c.o.Node
	others := map[string]time.Time{}
	for _, n := range c.nodes.list() {
		if n.Node != me {
			others[n.Node] = n.Started
		}
	}
	confirmed = make(map[string]time.Time, len(others))
	if len(others) == 0 {
		return false, confirmed, nil // alone: nobody to ask
	}
	if !nc.IsConnected() {
		return false, confirmed, errors.New("cluster: claim: nats not connected")
	}
	ch := make(chan *nats.Msg, 2*len(others)+1)
	inbox := nats.NewInbox()
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return false, confirmed, fmt.Errorf("cluster: claim: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	b, _ := json.Marshal(p.claim)
	if err := nc.PublishRequest(subjClaim, inbox, b); err != nil {
		return false, confirmed, fmt.Errorf("cluster: claim: %w", err)
	}
	t := time.NewTimer(claimWait)
	defer t.Stop()
	for len(others) > 0 {
		select {
		case m := <-ch:
			var a claimAnswer
			if !decodeControl(m.Data, &a) || a.Key != p.Key || a.Node == me {
				continue
			}
			if a.Held {
				c.log.Info("cluster: publish refused: the name is published on another node", "stream", p.Key, "node", a.Node)
				return true, confirmed, nil
			}
			if started, ok := others[a.Node]; ok {
				confirmed[a.Node] = started
				delete(others, a.Node)
			}
		case <-t.C:
			silent := make([]string, 0, len(others))
			for n := range others {
				silent = append(silent, n)
			}
			return false, confirmed, fmt.Errorf("cluster: claim: no answer within %v from %s", claimWait, strings.Join(silent, ", "))
		}
	}
	return false, confirmed, nil
}

// onClaim answers another node's claim: held when this node publishes
// the key (not as a relay) or has a claim of it that wins; a claim of
// ours that loses to it ends refused.
func (c *Cluster) onClaim(m *nats.Msg) {
	var q claim
	if m.Reply == "" || !decodeControl(m.Data, &q) || q.Node == c.o.Node || !subjectSafe(q.Node) ||
		q.Key == "" || len(q.Key) > maxKey {
		return
	}
	c.heard(q.At) // a claim of ours after this answer is ordered after q
	// The claims first, the hub then: a won claim is released only once
	// the hub holds the name, so one of the two sees it.
	held := false
	c.claims.mu.Lock()
	if p := c.claims.m[q.Key]; p != nil {
		if p.won || p.before(q) {
			held = true // ours, yielded to an earlier one or not, comes first: theirs must not win
		} else {
			p.lost = true // theirs is earlier: ours yields; its node's answer decides
		}
	}
	c.claims.mu.Unlock()
	if !held {
		held = c.o.Hub.Published(q.Key) && !c.isRelayed(q.Key)
	}
	b, _ := json.Marshal(claimAnswer{Node: c.o.Node, Key: q.Key, Held: held})
	_ = c.nc.Publish(m.Reply, b)
}
