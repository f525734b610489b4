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
	name    string               // its frames subject without subjFramesPre: how batches name it (batch.go)
	leases  map[string]time.Time // node → its last want; guarded by exporter.mu
	sub     interface{ Close() } // the hub tap, or the transcode.Subscription
	q       *media.Queue
	replay  atomic.Bool // a node joined: send the decoder headers again
	queued  atomic.Bool // on the exporter's ready list (or about to be)
	stopped atomic.Bool
	headers [3]*media.Frame // the latest data, audio config, video config: the sender's
}

// exporter owns the exports; mu guards the map and the leases. One
// goroutine (run) sends every export's frames: a tap queues a frame and
// puts its export on the ready list, and the sender publishes all that is
// queued when it runs, so that frames arriving together leave in one
// flush of the NATS connection (one write to the embedded server, one
// route write) instead of a goroutine wake-up and a flush each.
type exporter struct {
	c       *Cluster
	mu      sync.Mutex
	exports map[string]*export

	readyMu sync.Mutex
	ready   []*export
	kick    chan struct{} // capacity 1: ready has news
}

func newExporter(c *Cluster) *exporter {
	return &exporter{c: c, exports: map[string]*export{}, kick: make(chan struct{}, 1)}
}

// exportTap is an export's hub receiver: the frame goes to the export's
// bounded queue (the publisher never waits for NATS), the export to the
// sender's ready list.
type exportTap struct {
	ex *exporter
	e  *export
}

func (t exportTap) Receive(f *media.Frame) {
	t.e.q.Receive(f)
	if t.e.queued.Swap(true) {
		return // already listed: the sender drains the queue
	}
	ex := t.ex
	ex.readyMu.Lock()
	ex.ready = append(ex.ready, t.e)
	ex.readyMu.Unlock()
	select {
	case ex.kick <- struct{}{}:
	default:
	}
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
	e := &export{key: key, name: batchName(framesSubject(c.o.Node, key)), leases: map[string]time.Time{}, q: c.o.Hub.NewQueue(0)}
	e.q.Name(key)
	// A tap: the export is not one of the stream's players, so it creates
	// no demand here, and it replays the decoder headers to start with.
	e.sub = c.o.Hub.Tap(key, exportTap{ex, e})
	ex.exports[key] = e
	c.Stats.Exports.Add(1)
	c.log.Info("cluster export started", "stream", key)
	return e
}

func (ex *exporter) stopLocked(e *export) {
	delete(ex.exports, e.key)
	e.stopped.Store(true)
	e.sub.Close()
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

// run is the sender, until ctx ends: it adds the frames of the exports
// on the ready list to one batch per node that wants them and publishes
// the batches. With Options.RelayBatch, a round starts at most that long
// after the previous one: a frame waits at most RelayBatch, and not at all
// when the previous round is older (a quiet node sends each frame at once,
// a busy one a batch every RelayBatch).
func (ex *exporter) run(ctx context.Context) {
	bs := batches{by: map[string][]byte{}}
	var spare []*export
	var to []string
	hold := ex.c.o.RelayBatch
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-ex.kick:
		}
		if d := time.Until(last.Add(hold)); hold > 0 && d > 0 {
			wait.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-wait.C:
			}
		}
		last = time.Now()
		ex.readyMu.Lock()
		list := ex.ready
		ex.ready = spare[:0]
		ex.readyMu.Unlock()
		for i, e := range list {
			// Cleared before draining: a frame queued from now on lists the
			// export again.
			e.queued.Store(false)
			to = ex.dests(e, to[:0])
			for f := e.q.TryNext(); f != nil && !e.stopped.Load(); f = e.q.TryNext() {
				e.send(ex.c, &bs, to, f)
			}
			list[i] = nil
		}
		spare = list
		bs.flush(ex.c)
	}
}

// dests appends the nodes that want e to to.
func (ex *exporter) dests(e *export, to []string) []string {
	ex.mu.Lock()
	defer ex.mu.Unlock()
	for node := range e.leases {
		to = append(to, node)
	}
	return to
}

// send adds f to the batches of the nodes to, after the latest decoder
// headers when a node joined (the hub replays them only to a new
// subscriber, and the tap is not new to a second node).
func (e *export) send(c *Cluster, bs *batches, to []string, f *media.Frame) {
	if e.replay.Swap(false) {
		for _, h := range e.headers {
			if h != nil && h != f {
				bs.add(c, e.name, to, h)
			}
		}
	}
	switch {
	case f.Kind == media.KindData:
		e.headers[0] = f
	case f.Config && f.Kind == media.KindAudio:
		e.headers[1] = f
	case f.Config:
		e.headers[2] = f
	case f.Kind == media.KindUnpublish:
		e.headers = [3]*media.Frame{}
	}
	bs.add(c, e.name, to, f)
}
