package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/media"
)

// inboxLen bounds the messages received and not yet read by the inbox,
// all relays together: batches (one per sending node per round, a round
// every cluster.relay_batch, 2 ms) or single frames. When it is full, NATS
// drops the newest (a slow consumer, which the connection's error handler
// logs at most once a heartbeat) and the connection's reader never waits;
// a relayed frame then waits at most about inboxLen rounds here (≈ 2 s of
// one busy sending node at 2 ms), not tens of seconds. A variable for the
// test that fills it.
var inboxLen = 1024

// inboxWorkers is how many goroutines help deliver the relayed frames,
// each relay's always on the same one (in order). The inbox's reader
// delivers by itself for inboxInline after each wake-up, and hands the
// rest of its work to the workers: a single goroutine delivering every
// relayed stream gets one turn per round of the scheduler like each
// publisher's session goroutine and is preempted after 10 ms, so on a
// saturated node whose relayed deliveries are half its work it fell
// behind once a round took more than twice that, and the relayed frames'
// delay grew without bound while the local ones stayed in time
// (BENCHMARKS.md "Relayed frames under a budget"). A node with time to
// spare delivers everything inline (no hand-off: a hand-off costs the
// frames a turn of the worker, a round on a busy node).
const inboxWorkers = 4

// inboxInline is how long the reader delivers by itself after a wake-up.
const inboxInline = 2 * time.Millisecond

// inboxWorkLen bounds each worker's queue of batch parts: full, the
// reader waits, and NATS drops at the inbox's bound.
const inboxWorkLen = 64

// inbox delivers every relay's and variant's frames: one channel for all
// their NATS subscriptions, read by one goroutine (run), which delivers
// them itself for inboxInline after each wake-up and hands the rest to its
// workers, so that the frames of one read from the embedded server reach
// their relays in one wake-up (a few on a busy node) instead of one
// goroutine's each.
type inbox struct {
	ch    chan *nats.Msg
	mu    sync.Mutex
	subs  map[*nats.Subscription]*inboxSub
	named map[string]*inboxSub // the same by batch name (batch.go)
	batch *nats.Subscription   // this node's batches; set before run starts, read by run only
	next  int                  // the worker of the next subscription, under mu
	work  [inboxWorkers]chan []inboxItem
	// back returns each worker's delivered parts to the reader for reuse
	// (a busy node hands parts off every wake-up).
	back [inboxWorkers]chan []inboxItem
	// queued counts each worker's parts not yet delivered: a relay whose
	// worker has some is not delivered inline (its frames stay in order).
	queued [inboxWorkers]atomic.Int32
}

// inboxSub is where one subscription's frames go.
type inboxSub struct {
	pub    *media.Publisher
	lost   event  // posted to the importer on the source's unpublish
	name   string // its subject as batches name it
	worker int    // the goroutine that delivers its frames
}

// inboxItem is one encoded frame (aliasing its NATS message, which is not
// reused) for s.
type inboxItem struct {
	s *inboxSub
	b []byte
}

func newInbox() *inbox {
	in := &inbox{ch: make(chan *nats.Msg, inboxLen), subs: map[*nats.Subscription]*inboxSub{}, named: map[string]*inboxSub{}}
	for i := range in.work {
		in.work[i] = make(chan []inboxItem, inboxWorkLen)
		in.back[i] = make(chan []inboxItem, inboxWorkLen)
	}
	return in
}

// subscribeBatches takes the batches sent to subject (this node's); it is
// called before run starts.
func (in *inbox) subscribeBatches(nc *nats.Conn, subject string) error {
	sub, err := nc.ChanSubscribe(subject, in.ch)
	if err != nil {
		return err
	}
	in.batch = sub // run starts after: its messages wait in the channel
	return nil
}

// subscribe sends subject's frames to pub: those in this node's batches
// and those sent on subject itself (an unpublish when the source does not
// export the stream).
func (in *inbox) subscribe(nc *nats.Conn, subject string, pub *media.Publisher, lost event) (*nats.Subscription, error) {
	// Held across the subscribe: the reader waits for the entry rather than
	// dropping a first frame it cannot place.
	in.mu.Lock()
	defer in.mu.Unlock()
	sub, err := nc.ChanSubscribe(subject, in.ch)
	if err != nil {
		return nil, err
	}
	s := &inboxSub{pub: pub, lost: lost, name: batchName(subject), worker: in.next}
	in.next = (in.next + 1) % inboxWorkers
	in.subs[sub] = s
	in.named[s.name] = s
	return sub, nil
}

// unsubscribe ends sub; its frames still in the channel are dropped.
func (in *inbox) unsubscribe(sub *nats.Subscription) {
	in.mu.Lock()
	if s := in.subs[sub]; s != nil && in.named[s.name] == s {
		delete(in.named, s.name)
	}
	delete(in.subs, sub)
	in.mu.Unlock()
	_ = sub.Unsubscribe()
}

func (in *inbox) lookup(sub *nats.Subscription) *inboxSub {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.subs[sub]
}

// run hands the frames to their relays, itself or through the workers,
// until ctx ends; the source's unpublish goes to the importer's loop (the
// hub tells the players of a publish itself).
func (in *inbox) run(ctx context.Context, c *Cluster) {
	var workers sync.WaitGroup
	defer workers.Wait()
	for k, w := range in.work {
		workers.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case items := <-w:
					for _, it := range items {
						in.deliver(c, it.s, it.b)
					}
					in.queued[k].Add(-1)
					clear(items) // keeps no message alive
					select {
					case in.back[k] <- items[:0]:
					default:
					}
				}
			}
		})
	}
	var parts [inboxWorkers][]inboxItem
	woke := time.Now()
	take := func(s *inboxSub, b []byte) {
		k := s.worker
		if len(parts[k]) == 0 && in.queued[k].Load() == 0 && time.Since(woke) < inboxInline {
			in.deliver(c, s, b)
			return
		}
		if parts[k] == nil {
			select {
			case parts[k] = <-in.back[k]:
			default:
			}
		}
		parts[k] = append(parts[k], inboxItem{s, b})
		c.Stats.FramesHandedOff.Add(1)
	}
	for {
		var m *nats.Msg
		select {
		case <-ctx.Done():
			return
		case m = <-in.ch:
		default: // nothing queued: the next message starts a turn
			select {
			case <-ctx.Done():
				return
			case m = <-in.ch:
			}
			woke = time.Now()
		}
		if m.Sub == in.batch {
			c.Stats.BatchesIn.Add(1)
			if err := walkBatch(m.Data, func(name, frame []byte) {
				in.mu.Lock()
				s := in.named[string(name)]
				in.mu.Unlock()
				if s != nil { // nil: unsubscribed meanwhile
					take(s, frame)
				}
			}); err != nil {
				c.Stats.BadBatches.Add(1)
			}
		} else if s := in.lookup(m.Sub); s != nil {
			take(s, m.Data)
		}
		for k, p := range parts {
			if len(p) == 0 {
				continue
			}
			in.queued[k].Add(1)
			select {
			case in.work[k] <- p:
			case <-ctx.Done():
				return
			}
			parts[k] = nil // the worker owns that slice now
		}
	}
}

// deliver hands one encoded frame to s's relay.
func (in *inbox) deliver(c *Cluster, s *inboxSub, b []byte) {
	f, err := UnmarshalFrame(b)
	if err != nil {
		c.Stats.BadFrames.Add(1)
		return
	}
	c.Stats.FramesIn.Add(1)
	c.Stats.BytesIn.Add(uint64(len(b)))
	switch f.Kind {
	case media.KindUnpublish:
		c.imp.post(s.lost)
	case media.KindPublish:
	default:
		s.pub.Write(f)
	}
}
