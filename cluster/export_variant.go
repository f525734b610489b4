package cluster

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media/transcode"
)

// startVariantLocked exports key's audio transcoded to (id, rate) on the
// variant's subject: one subscription of this node's transcode.Service,
// so one transcoder per (stream, codec) here, shared with the local
// players of that codec, whatever the number of nodes. nil: this node will
// not transcode it (no Service, or its budget, Options.TranscodeBudget,
// is used up); the asker transcodes it itself (refuse).
func (ex *exporter) startVariantLocked(key, name string, id codec.ID, rate int, variant string) *export {
	c := ex.c
	if c.o.Transcoder == nil {
		return nil
	}
	e := &export{key: name, variant: variant, name: batchName(variantSubject(c.o.Node, key, variant)), leases: map[string]time.Time{}}
	// A subscriber of the derived key, which creates no demand; the
	// transcoder is the stream's subscriber here, as a local player's is.
	sub, err := c.o.Transcoder.Subscribe(key, transcode.Target{Codec: id, Rate: rate, Budget: c.o.TranscodeBudget}, exportTap{ex, e})
	if err != nil {
		if !errors.Is(err, transcode.ErrBudget) {
			c.log.Warn("cluster variant not exported", "stream", key, "codec", variant, "err", err)
		}
		return nil
	}
	e.sub = sub
	ex.exports[name] = e
	c.Stats.VariantExports.Add(1)
	c.log.Info("cluster variant export started", "stream", key, "codec", variant)
	return e
}

// refuse tells node that this node will not transcode key to variant.
func (ex *exporter) refuse(node, key, variant string) {
	ex.c.Stats.VariantsRefused.Add(1)
	b, _ := json.Marshal(found{Node: ex.c.o.Node, Key: key, Codec: variant, Refused: true})
	_ = ex.c.nc.Publish(subjHerePre+node, b)
}
