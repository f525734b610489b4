package cluster

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// export sends one local stream's frames to its frames subject, once for
// every node that wants it.
type export struct {
	key     string               // the export's name: the stream's key, or its variant's derived key
	variant string               // "" or the transcode.Variant exported
	leases  map[string]time.Time // node → its last want; guarded by exporter.mu
	sub     interface{ Close() } // the hub tap, or the transcode.Subscription
	q       *media.Queue
	replay  atomic.Bool // a node joined: send the decoder headers again
	cancel  context.CancelFunc
}

// exporter owns the exports; mu guards the map and the leases.
type exporter struct {
	c       *Cluster
	mu      sync.Mutex
	exports map[string]*export
}

func (ex *exporter) onWant(m *nats.Msg) {
	var w want
	if !decodeControl(m.Data, &w) || w.From == "" || len(w.From) > 64 || strings.ContainsAny(w.From, ".*> ") ||
		len(w.Key) == 0 || len(w.Key) > maxKey || strings.IndexByte(w.Key, media.DerivedSep) >= 0 {
		return
	}
	c := ex.c
	name := w.Key // the export's: the key, or the variant's derived key
	var id codec.ID
	var rate int
	if w.Codec != "" {
		var ok bool
		if id, rate, ok = transcode.ParseVariant(w.Codec); !ok {
			c.Stats.BadWants.Add(1) // not a codec we could make: no transcoder for it
			return
		}
		name = transcode.Key(w.Key, id, rate)
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	e := ex.exports[name]
	if w.Stop {
		if e != nil {
			delete(e.leases, w.From)
			if len(e.leases) == 0 {
				ex.stopLocked(e)
			}
		}
		return
	}
	if e == nil {
		if c.isRelayed(w.Key) || !c.o.Hub.Published(w.Key) {
			ex.notOurs(w.Key, w.Codec)
			return
		}
		if w.Codec == "" {
			e = ex.startLocked(w.Key)
		} else if e = ex.startVariantLocked(w.Key, name, id, rate, w.Codec); e == nil {
			ex.refuse(w.From, w.Key, w.Codec)
			return
		}
		if !c.o.Hub.Published(w.Key) {
			// The publisher left between the look and the tap, which then
			// waits for the next one and would tell the asker nothing.
			ex.stopLocked(e)
			ex.notOurs(w.Key, w.Codec)
			return
		}
	}
	if _, known := e.leases[w.From]; !known {
		e.replay.Store(true)
	}
	e.leases[w.From] = time.Now()
}

// notOurs tells the nodes that want key (or its variant) that it is not
// (or no longer) published here: an unpublish sends them looking again.
func (ex *exporter) notOurs(key, variant string) {
	b, _ := AppendFrame(nil, &media.Frame{Kind: media.KindUnpublish})
	_ = ex.c.nc.Publish(variantSubject(ex.c.o.Node, key, variant), b)
}

// startLocked taps key and sends its frames until stopped.
func (ex *exporter) startLocked(key string) *export {
	c := ex.c
	ctx, cancel := context.WithCancel(context.Background())
	e := &export{key: key, leases: map[string]time.Time{}, q: c.o.Hub.NewQueue(0), cancel: cancel}
	// A tap: the export is not one of the stream's players, so it creates
	// no demand here, and it replays the decoder headers to start with.
	e.sub = c.o.Hub.Tap(key, e.q)
	ex.exports[key] = e
	c.Stats.Exports.Add(1)
	go e.send(ctx, c, framesSubject(c.o.Node, key))
	c.log.Info("cluster export started", "stream", key)
	return e
}

func (ex *exporter) stopLocked(e *export) {
	delete(ex.exports, e.key)
	e.sub.Close()
	e.cancel()
	if e.variant != "" {
		ex.c.Stats.VariantExports.Add(-1)
	} else {
		ex.c.Stats.Exports.Add(-1)
	}
	ex.c.log.Info("cluster export stopped", "stream", e.key)
}

// expire drops the leases not renewed since before, and the exports left
// without one.
func (ex *exporter) expire(before time.Time) {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	for _, e := range ex.exports {
		for node, at := range e.leases {
			if at.Before(before) {
				delete(e.leases, node)
			}
		}
		if len(e.leases) == 0 {
			ex.stopLocked(e)
		}
	}
}

func (ex *exporter) stopAll() {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	for _, e := range ex.exports {
		ex.stopLocked(e)
	}
}

// send is the export's goroutine: frames from the tap's queue to NATS,
// one buffer reused; the latest decoder headers are sent again when a node
// joins (the hub replays them only to a new subscriber, and the tap is
// not new to a second node).
func (e *export) send(ctx context.Context, c *Cluster, subject string) {
	buf := make([]byte, 0, 4096)
	var headers [3]*media.Frame // data, audio config, video config
	put := func(f *media.Frame) {
		b, err := AppendFrame(buf[:0], f)
		if err != nil {
			return // too large for one message: not relayed
		}
		buf = b
		if c.nc.Publish(subject, b) == nil {
			c.Stats.FramesOut.Add(1)
			c.Stats.BytesOut.Add(uint64(len(b)))
		}
	}
	for {
		f, err := e.q.Next(ctx)
		if err != nil {
			return
		}
		if e.replay.Swap(false) {
			for _, h := range headers {
				if h != nil && h != f {
					put(h)
				}
			}
		}
		switch {
		case f.Kind == media.KindData:
			headers[0] = f
		case f.Config && f.Kind == media.KindAudio:
			headers[1] = f
		case f.Config:
			headers[2] = f
		case f.Kind == media.KindUnpublish:
			headers = [3]*media.Frame{}
		}
		put(f)
	}
}
