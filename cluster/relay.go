package cluster

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// found says that Node publishes Key (an answer to where, an announce).
// With Refused, sent to one node's here subject, it says that Node will
// not transcode Key to the variant Codec (variants.go). At, in an
// announce of a client's publication, is the claim that won it: two
// nodes that both publish the name settle it by that (contest.go).
type found struct {
	Node    string `json:"node"`
	Key     string `json:"key"`
	Codec   string `json:"codec,omitempty"`
	Refused bool   `json:"refused,omitempty"`
	At      int64  `json:"at,omitempty"`
}

// want is a node's interest in a stream of the node it is sent to: the
// stream as published, or with Codec (a transcode.Variant name) the
// publisher's transcoded variant (variants.go). A node of a build before
// Codec ignores it and exports the stream as published, which the asker
// does not listen to: the nodes of one cluster run one build.
type want struct {
	From  string `json:"from"`
	Key   string `json:"key"`
	Codec string `json:"codec,omitempty"`
	Stop  bool   `json:"stop,omitempty"`
}

// event is news for the importer's loop from a NATS handler.
type event struct {
	kind      int
	node, key string
	variant   string // a transcode.Variant name: news of that variant
}

const (
	evFound    = iota + 1 // node publishes key
	evLost                // node's stream key (or its variant) ended (its unpublish)
	evNodeGone            // node left
	evRefused             // node will not transcode key to variant
	evLocal               // key is published here now
)

// relay is one key local players want: pending (src "") until a node
// says it publishes it, then a NATS subscription feeding a hub publisher.
type relay struct {
	key   string
	src   string
	pub   *media.Publisher
	sub   *nats.Subscription
	asked time.Time
}

// importer owns the relays; every field but dirty is its loop's.
type importer struct {
	c        *Cluster
	relays   map[string]*relay
	variants map[string]*vrelay // by derived key (variants.go)
	events   chan event
	cpu      cpuMeter

	dirtyMu sync.Mutex
	dirty   map[string]struct{}
	vops    []*vhandle    // variants opened or closed, in order (variants.go)
	kick    chan struct{} // capacity 1: dirty or vops has news
}

func newImporter(c *Cluster) *importer {
	return &importer{c: c, relays: map[string]*relay{}, variants: map[string]*vrelay{}, events: make(chan event, 1024),
		dirty: map[string]struct{}{}, kick: make(chan struct{}, 1)}
}

// demand is the hub's WatchDemand callback: note the key for the loop.
func (im *importer) demand(key string) {
	im.dirtyMu.Lock()
	im.dirty[key] = struct{}{}
	im.dirtyMu.Unlock()
	select {
	case im.kick <- struct{}{}:
	default:
	}
}

// post hands e to the loop without blocking a NATS handler; a full queue
// loses it (counted), and the next heartbeat's retry makes up for it.
func (im *importer) post(e event) {
	select {
	case im.events <- e:
	default:
		im.c.Stats.DroppedEvents.Add(1)
	}
}

func (im *importer) onFound(m *nats.Msg) {
	var f found
	if !decodeControl(m.Data, &f) || f.Node == "" || f.Node == im.c.o.Node || len(f.Key) > maxKey || strings.ContainsAny(f.Node, ".*> ") {
		return
	}
	if f.Refused {
		if _, _, ok := transcode.ParseVariant(f.Codec); ok {
			im.post(event{kind: evRefused, node: f.Node, key: f.Key, variant: f.Codec})
		}
		return
	}
	if f.At > 0 {
		// A client's publication there: one here too is settled now
		// (contest.go), before the relays hear of it.
		im.c.contest(f)
	} else if m.Subject == subjAnnounce && im.c.o.Hub.Published(f.Key) && !im.c.isRelayed(f.Key) {
		// A server component's publication there (a call's forwarder, a
		// mixer: not claimed) of a name published here: say it.
		im.c.Stats.DoublePublished.Add(1)
		im.c.log.Warn("cluster: stream published on two nodes", "stream", f.Key, "other", f.Node)
	}
	im.post(event{kind: evFound, node: f.Node, key: f.Key})
}

// run is the loop: demand, news and the heartbeat tick, until ctx ends.
func (im *importer) run(ctx context.Context) {
	hb := im.c.o.Heartbeat
	tick := time.NewTicker(hb)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, r := range im.relays {
				im.stop(r, true)
			}
			for _, v := range im.variants {
				im.stopVariant(v, true)
			}
			return
		case <-im.kick:
			im.dirtyMu.Lock()
			keys, vops := im.dirty, im.vops
			im.dirty, im.vops = map[string]struct{}{}, nil
			im.dirtyMu.Unlock()
			for key := range keys {
				im.reconcile(key)
			}
			for _, h := range vops {
				im.variantOp(h)
			}
		case e := <-im.events:
			im.handle(e)
		case now := <-tick.C:
			im.c.beat(false)
			for _, node := range im.c.nodes.expire(now.Add(-3 * hb)) {
				im.c.Stats.NodesLost.Add(1)
				im.c.log.Warn("cluster node lost", "node", node, "silent_for", 3*hb)
				im.handle(event{kind: evNodeGone, node: node})
			}
			im.refresh(now)
			im.c.announceHeld("", true) // names accepted unchecked, until another node's claim settles them
			im.c.exp.expire(now.Add(-3 * hb))
			im.c.pushAllPresence()
		}
	}
}

// reconcile starts or stops key's relay as local demand says now.
func (im *importer) reconcile(key string) {
	hub := im.c.o.Hub
	local := hub.Published(key) && !im.c.isRelayed(key)
	wanted := len(key) <= maxKey && hub.SubscriberCount(key) > 0 && !local
	r := im.relays[key]
	switch {
	case wanted && r == nil:
		r = &relay{key: key}
		im.relays[key] = r
		im.ask(r, time.Now())
	case !wanted && r != nil:
		im.stop(r, true)
		delete(im.relays, key)
		im.c.log.Debug("cluster relay ended: no local player", "stream", key)
	}
}

// ask asks every node who publishes r's key; the answer is an evFound.
func (im *importer) ask(r *relay, now time.Time) {
	r.asked = now
	_ = im.c.nc.PublishRequest(subjWhere, subjHerePre+im.c.o.Node, []byte(r.key))
}

// refresh, each heartbeat: re-check every relay's demand, ask again for
// the pending ones, renew interest in the running ones.
func (im *importer) refresh(now time.Time) {
	for key := range im.relays {
		im.reconcile(key)
	}
	for _, r := range im.relays {
		if r.src == "" {
			im.ask(r, now)
		} else {
			im.sendWant(r.src, r.key, "", false)
		}
	}
	im.refreshVariants(now)
}

func (im *importer) handle(e event) {
	switch e.kind {
	case evFound:
		im.foundVariants(e.node, e.key)
		if r := im.relays[e.key]; r != nil && r.src == "" {
			// A node that answers is alive even if its first heartbeat
			// has not come yet: track it, so its loss ends the relay.
			im.c.nodes.touch(e.node, time.Now())
			im.start(r, e.node)
		}
	case evLost:
		if e.variant != "" {
			im.lostVariant(e.node, e.key, e.variant)
			return
		}
		if r := im.relays[e.key]; r != nil && r.src == e.node {
			im.c.log.Info("cluster relay source unpublished", "stream", e.key, "from", e.node)
			im.stop(r, false)
			im.ask(r, time.Now())
		}
	case evNodeGone:
		im.c.calls.nodeGone(e.node)
		im.c.pushAllPresence() // its users are offline now for the watchers here
		for _, r := range im.relays {
			if r.src == e.node {
				im.c.log.Warn("cluster relay source lost", "stream", r.key, "from", e.node)
				im.stop(r, false)
				im.ask(r, time.Now())
			}
		}
		im.nodeGoneVariants(e.node)
		if im.c.roomSvc != nil { // its members leave rooms here; its rooms move (rooms.go)
			im.c.roomSvc.NodeGone(e.node)
		}
	case evRefused:
		im.refusedVariant(e.node, e.key, e.variant)
	case evLocal:
		im.localVariants(e.key)
	}
}

// start publishes r's key here as a relay of node's stream.
func (im *importer) start(r *relay, node string) {
	c := im.c
	c.relayed.Store(r.key, true)
	pub, err := c.o.Hub.Publish(r.key)
	if err != nil { // a local publisher came meanwhile: it serves the players
		c.relayed.Delete(r.key)
		c.log.Debug("cluster relay not started", "stream", r.key, "err", err)
		return
	}
	src, key := node, r.key
	sub, err := im.subscribeFrames(framesSubject(node, key), pub, event{kind: evLost, node: src, key: key})
	if err != nil {
		pub.Close()
		c.relayed.Delete(r.key)
		c.log.Warn("cluster relay not started", "stream", r.key, "err", err)
		return
	}
	r.src, r.pub, r.sub = node, pub, sub
	c.Stats.Relays.Add(1)
	im.sendWant(node, key, "", false)
	c.log.Info("cluster relay started", "stream", key, "from", node)
}

// stop ends r's relay (players get an unpublish and wait on); tell says
// the source node may stop sending.
func (im *importer) stop(r *relay, tell bool) {
	if r.src == "" {
		return
	}
	_ = r.sub.Unsubscribe()
	r.pub.Close()
	im.c.relayed.Delete(r.key)
	if tell {
		im.sendWant(r.src, r.key, "", true)
	}
	im.c.Stats.Relays.Add(-1)
	r.src, r.pub, r.sub = "", nil, nil
}

func (im *importer) sendWant(node, key, variant string, stop bool) {
	b, _ := json.Marshal(want{From: im.c.o.Node, Key: key, Codec: variant, Stop: stop})
	_ = im.c.nc.Publish(subjWantPre+node, b)
}

// subscribeFrames feeds pub with the frames another node sends on subject;
// the source's unpublish posts lost to the importer's loop (the hub tells
// the players of a publish itself).
func (im *importer) subscribeFrames(subject string, pub *media.Publisher, lost event) (*nats.Subscription, error) {
	c := im.c
	return c.nc.Subscribe(subject, func(m *nats.Msg) {
		f, err := UnmarshalFrame(m.Data)
		if err != nil {
			c.Stats.BadFrames.Add(1)
			return
		}
		c.Stats.FramesIn.Add(1)
		c.Stats.BytesIn.Add(uint64(len(m.Data)))
		switch f.Kind {
		case media.KindUnpublish:
			im.post(lost)
		case media.KindPublish:
		default:
			pub.Write(f)
		}
	})
}
