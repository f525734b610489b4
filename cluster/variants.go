package cluster

import (
	"io"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// Variants: a stream's audio in another codec for players of another
// node. The publisher's node transcodes (its transcode.Service, once per
// codec whatever the number of nodes) and exports the variant on its own
// subject, framesSubject + "." + variant; the player's node publishes it
// under the derived key (transcode.Key) as a relay, where its players'
// transcode.Subscriptions wait for it. This file is the player's side,
// export_variant.go the publisher's.

// vhandle is one variant entry of the local transcode.Service: opened by
// Variant, closed by its last subscriber. Its fields are set before it is
// queued and read by the loop only, but closed (guarded by dirtyMu).
type vhandle struct {
	im                 *importer
	key, variant, dkey string
	local              func() bool
	closed             bool
}

// Close is the variant's last subscriber leaving: the loop stops it.
func (h *vhandle) Close() error {
	h.im.queueVariant(h, true)
	return nil
}

// vrelay is a variant local players want: pending (src "") until a node
// publishing its source is found, then a subscription to that node's
// variant subject feeding a derived publisher here.
type vrelay struct {
	h   *vhandle
	src string
	pub *media.Publisher
	sub *nats.Subscription
	// refused: when the source last refused it and this node could not
	// transcode it either (its budget); it is asked again only after
	// refuseBackoff heartbeats, trying its own budget meanwhile, so
	// its players do not see it published and unpublished every beat.
	refused time.Time
}

// refuseBackoff is how many heartbeats a refused variant waits before it
// asks its source again.
const refuseBackoff = 10

func (im *importer) backingOff(v *vrelay, now time.Time) bool {
	return !v.refused.IsZero() && now.Sub(v.refused) < refuseBackoff*im.c.o.Heartbeat
}

// Variant is the transcode.Remote of this node's Service: a variant of a
// stream not published here by a local client is fetched from the node
// that publishes it.
func (im *importer) Variant(key string, id codec.ID, rate int, local func() bool) io.Closer {
	if len(key) > maxKey || im.localSource(key) {
		return nil
	}
	h := &vhandle{im: im, key: key, variant: transcode.Variant(id, rate), dkey: transcode.Key(key, id, rate), local: local}
	im.queueVariant(h, false)
	return h
}

// localSource says key is published here by a local client (not a relay).
func (im *importer) localSource(key string) bool {
	return im.c.o.Hub.Published(key) && !im.c.isRelayed(key)
}

// queueVariant hands h's opening or closing to the loop, in order, without
// blocking: the Service calls it with its lock held.
func (im *importer) queueVariant(h *vhandle, closed bool) {
	im.dirtyMu.Lock()
	if closed {
		h.closed = true
	}
	im.vops = append(im.vops, h)
	im.dirtyMu.Unlock()
	select {
	case im.kick <- struct{}{}:
	default:
	}
}

// variantOp applies an opening or closing of h, in the loop.
func (im *importer) variantOp(h *vhandle) {
	im.dirtyMu.Lock()
	closed := h.closed
	im.dirtyMu.Unlock()
	v := im.variants[h.dkey]
	switch {
	case closed:
		if v != nil && v.h == h {
			im.stopVariant(v, true)
			delete(im.variants, h.dkey)
			im.c.log.Debug("cluster variant ended: no local player", "stream", h.key, "codec", h.variant)
		}
	case v == nil || v.h != h:
		if v != nil { // an earlier entry of the same key, closed since
			im.stopVariant(v, true)
		}
		v = &vrelay{h: h}
		im.variants[h.dkey] = v
		if im.localSource(h.key) {
			im.localize(v)
			return
		}
		im.askKey(h.key)
	}
}

func (im *importer) askKey(key string) {
	_ = im.c.nc.PublishRequest(subjWhere, subjHerePre+im.c.o.Node, []byte(key))
}

// foundVariants starts the pending variants of key from node.
func (im *importer) foundVariants(node, key string) {
	now := time.Now()
	for _, v := range im.variants {
		if v.h.key == key && v.src == "" && !im.backingOff(v, now) {
			im.c.nodes.touch(node, now)
			im.startVariant(v, node)
		}
	}
}

// lostVariant: node's variant ended (its source unpublished, or node does
// not publish key): look again.
func (im *importer) lostVariant(node, key, variant string) {
	v := im.variants[key+string(media.DerivedSep)+variant]
	if v != nil && v.src == node {
		im.c.log.Info("cluster variant source unpublished", "stream", key, "codec", variant, "from", node)
		im.stopVariant(v, false)
		im.askKey(key)
	}
}

func (im *importer) nodeGoneVariants(node string) {
	for _, v := range im.variants {
		if v.src == node {
			im.stopVariant(v, false)
			im.askKey(v.h.key)
		}
	}
}

// refusedVariant: node publishes key but will not transcode it (its
// budget, or no transcoding there): transcode here.
func (im *importer) refusedVariant(node, key, variant string) {
	v := im.variants[key+string(media.DerivedSep)+variant]
	if v == nil || v.src != node {
		return
	}
	im.c.log.Info("cluster variant refused by its source: transcoding here", "stream", key, "codec", variant, "from", node)
	im.stopVariant(v, false)
	if !im.localize(v) {
		v.refused = time.Now()
	}
}

// localVariants: key is published here now: its variants are transcoded
// here, from the local publisher.
func (im *importer) localVariants(key string) {
	for _, v := range im.variants {
		if v.h.key == key && im.localSource(key) {
			im.stopVariant(v, true)
			im.localize(v)
		}
	}
}

// localize hands v to the local Service's transcoder; v stays pending
// (asked again every heartbeat) when the Service cannot take it now.
func (im *importer) localize(v *vrelay) bool {
	if v.h.local() {
		delete(im.variants, v.h.dkey)
		return true
	}
	return false
}

// refreshVariants, each heartbeat: renew the running variants' leases,
// ask again for the pending ones (or transcode here what became local).
func (im *importer) refreshVariants(now time.Time) {
	asked := map[string]bool{}
	for _, v := range im.variants {
		switch {
		case im.localSource(v.h.key):
			im.stopVariant(v, true)
			im.localize(v)
		case v.src != "":
			im.sendWant(v.src, v.h.key, v.h.variant, false)
		case im.backingOff(v, now):
			im.localize(v)
		case !asked[v.h.key]:
			asked[v.h.key] = true
			im.askKey(v.h.key)
		}
	}
}

// startVariant publishes v's derived key here from node's variant.
func (im *importer) startVariant(v *vrelay, node string) {
	c := im.c
	pub, err := c.o.Hub.PublishDerivedRelay(v.h.dkey)
	if err != nil { // the Service runs a transcoder of it: cannot happen
		c.log.Warn("cluster variant not started", "stream", v.h.dkey, "err", err)
		return
	}
	key, variant := v.h.key, v.h.variant
	sub, err := im.subscribeFrames(framesSubject(node, key)+"."+variant, pub, event{kind: evLost, node: node, key: key, variant: variant})
	if err != nil {
		pub.Close()
		c.log.Warn("cluster variant not started", "stream", v.h.dkey, "err", err)
		return
	}
	v.src, v.pub, v.sub = node, pub, sub
	c.Stats.Variants.Add(1)
	im.sendWant(node, key, variant, false)
	c.log.Info("cluster variant started", "stream", key, "codec", variant, "from", node)
}

// stopVariant ends v's fetch (its players wait on); tell says the source
// node may stop sending.
func (im *importer) stopVariant(v *vrelay, tell bool) {
	if v.src == "" {
		return
	}
	im.in.unsubscribe(v.sub)
	v.pub.Close()
	if tell {
		im.sendWant(v.src, v.h.key, v.h.variant, true)
	}
	im.c.Stats.Variants.Add(-1)
	v.src, v.pub, v.sub = "", nil, nil
}
