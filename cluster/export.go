package cluster

import (
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
)

// export sends one local stream's frames (or its variant's) to the nodes
// that want it.
type export struct {
	key     string               // the export's name: the stream's key, or its variant's derived key
	variant string               // "" or the transcode.Variant exported
	name    string               // its frames subject without subjFramesPre: how batches name it (batch.go)
	leases  map[string]time.Time // node → its last want; guarded by exporter.mu
	to      atomic.Pointer[[]string]
	sub     interface{ Close() } // the hub tap, or the transcode.Subscription
	replay  atomic.Bool          // a node joined: send the decoder headers again
	stopped atomic.Bool
	headers [3]*media.Frame // the latest data, audio config, video config: the tap's
}

// setToLocked publishes the nodes of e.leases to the tap (ex.mu held).
func (e *export) setToLocked() {
	to := make([]string, 0, len(e.leases))
	for node := range e.leases {
		to = append(to, node)
	}
	e.to.Store(&to)
}

// exporter owns the exports; mu guards the map and the leases. A tap adds
// its frame, encoded, to the batch of every node that wants it (pending)
// and kicks the sender, one goroutine (run), which publishes the batches
// (batch.go): the frames of every export that arrive together leave in one
// NATS message per node, and no frame waits in a queue of its own.
type exporter struct {
	c       *Cluster
	mu      sync.Mutex
	exports map[string]*export

	pendMu  sync.Mutex
	pending map[string]*pendingBatch // node → what the next round sends it
	kick    chan struct{}            // capacity 1: pending has news
}

// pendingBatch is one node's frames of the next round: batches filled up
// to batchTarget, and the one being filled.
type pendingBatch struct {
	full  [][]byte
	cur   []byte
	bytes int // of full and cur: bounded by maxPending
	// spare holds full batches' buffers already sent (NATS copied them),
	// for the next ones: a busy node's rounds fill several batches per
	// node, and growing a new one each time was a good part of what the
	// relay allocated (BENCHMARKS.md "What a relaying node allocates").
	spare [][]byte
}

// maxSpare bounds a pendingBatch's spare buffers (each batchTarget, or
// twice that at most): as many as maxPending fills, so that even a
// saturated node's long rounds take no new buffer.
const maxSpare = maxPending / batchTarget

// next starts another batch, in a spare buffer if there is one.
func (p *pendingBatch) next() {
	p.full = append(p.full, p.cur)
	p.cur = nil
	if n := len(p.spare); n > 0 {
		p.cur, p.spare[n-1] = p.spare[n-1][:0], nil
		p.spare = p.spare[:n-1]
	}
}

// sent takes back the buffers of a round just published.
func (p *pendingBatch) sent() {
	for i, b := range p.full {
		if len(p.spare) < maxSpare && cap(b) <= 2*batchTarget { // not a large frame's
			p.spare = append(p.spare, b)
		}
		p.full[i] = nil
	}
	p.full, p.cur, p.bytes = p.full[:0], p.cur[:0], 0
}

// maxPending bounds one node's frames waiting for the sender (its NATS
// connection stalled, the sender starved): about 0.1 s of 1 000 relayed
// Nellymoser streams. A frame past it is dropped and counted.
const maxPending = 1 << 20

func newExporter(c *Cluster) *exporter {
	return &exporter{c: c, exports: map[string]*export{}, pending: map[string]*pendingBatch{}, kick: make(chan struct{}, 1)}
}

// exportTap is an export's hub receiver (or transcoder subscriber): it
// runs on the publisher's (or transcoder's) goroutine, adds the frame to
// the pending batches and never waits for NATS.
type exportTap struct {
	ex *exporter
	e  *export
}

func (t exportTap) Receive(f *media.Frame) {
	e := t.e
	if e.stopped.Load() {
		return
	}
	to := e.to.Load()
	wanted := to != nil && len(*to) > 0
	if wanted && e.replay.Swap(false) {
		// The hub replays the decoder headers only to a new subscriber,
		// and the tap is not new to a second node (nor to the first: the
		// hub's replay at the tap's start comes before its first want).
		for _, h := range e.headers {
			if h != nil && h != f {
				t.ex.add(e.name, *to, h)
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
	if wanted {
		t.ex.add(e.name, *to, f)
	}
}

// add appends f, named name, to the pending batch of every node in to and
// kicks the sender.
func (ex *exporter) add(name string, to []string, f *media.Frame) {
	size := FrameSize(f)
	if len(f.Payload) > MaxFramePayload {
		return // too large for one message: not relayed
	}
	entry := 2*binary.MaxVarintLen32 + len(name) + size
	c := ex.c
	ex.pendMu.Lock()
	for _, node := range to {
		p := ex.pending[node]
		if p == nil {
			p = &pendingBatch{}
			ex.pending[node] = p
		}
		if p.bytes+entry > maxPending {
			c.Stats.ExportDrops.Add(1)
			continue
		}
		if len(p.cur) > 1 && len(p.cur)+entry > batchTarget {
			p.next()
		}
		n := len(p.cur)
		p.cur = appendBatchFrame(p.cur, name, f)
		p.bytes += len(p.cur) - n
		c.Stats.FramesOut.Add(1)
		c.Stats.BytesOut.Add(uint64(size))
	}
	ex.pendMu.Unlock()
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
			e.setToLocked()
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
	_, known := e.leases[w.From]
	e.leases[w.From] = time.Now()
	if !known {
		e.replay.Store(true) // before the tap can see the node: its first frame comes after the headers
		e.setToLocked()
	}
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
	e := &export{key: key, name: batchName(framesSubject(c.o.Node, key)), leases: map[string]time.Time{}}
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
		n := len(e.leases)
		for node, at := range e.leases {
			if at.Before(before) {
				delete(e.leases, node)
			}
		}
		if len(e.leases) != n {
			e.setToLocked()
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

// run is the sender, until ctx ends: it takes the pending batches and
// publishes them. With Options.RelayBatch, a round starts at most that
// long after the previous one: a frame waits at most RelayBatch, and not
// at all when the previous round is older (a quiet node sends each frame
// at once, a busy one a batch per node every RelayBatch).
func (ex *exporter) run(ctx context.Context) {
	hold := ex.c.o.RelayBatch
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	var last time.Time
	out := map[string]*pendingBatch{} // the round being sent; its buffers go back for reuse
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
		ex.pendMu.Lock()
		ex.pending, out = out, ex.pending
		ex.pendMu.Unlock()
		for node, p := range out {
			if p.bytes == 0 {
				delete(out, node) // nothing for it two rounds running: a node gone keeps no buffer
				continue
			}
			for _, b := range p.full {
				ex.c.publishBatch(node, b)
			}
			ex.c.publishBatch(node, p.cur)
			p.sent()
		}
	}
}
