package cluster

import (
	"context"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/media"
)

// inboxLen bounds the frames received and not yet handed to their relays,
// all relays together: about 0.25 s of 1000 relayed audio streams. When it
// is full, NATS drops the newest (a slow consumer, which the connection's
// error handler logs at most once a heartbeat) and the connection's
// reader never waits. A variable for the test that fills it.
var inboxLen = 16384

// inbox delivers every relay's and variant's frames: one channel for all
// their NATS subscriptions, read by one goroutine (run), so that the
// frames of one read from the embedded server reach their relays in one
// wake-up instead of one goroutine's each.
type inbox struct {
	ch    chan *nats.Msg
	mu    sync.Mutex
	subs  map[*nats.Subscription]*inboxSub
	named map[string]*inboxSub // the same by batch name (batch.go)
	batch *nats.Subscription   // this node's batches; set before run starts, read by run only
}

// inboxSub is where one subscription's frames go.
type inboxSub struct {
	pub  *media.Publisher
	lost event  // posted to the importer on the source's unpublish
	name string // its subject as batches name it
}

func newInbox() *inbox {
	return &inbox{ch: make(chan *nats.Msg, inboxLen), subs: map[*nats.Subscription]*inboxSub{}, named: map[string]*inboxSub{}}
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
	s := &inboxSub{pub: pub, lost: lost, name: batchName(subject)}
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

// run hands the frames to their relays until ctx ends; the source's
// unpublish goes to the importer's loop (the hub tells the players of a
// publish itself).
func (in *inbox) run(ctx context.Context, c *Cluster) {
	for {
		var m *nats.Msg
		select {
		case <-ctx.Done():
			return
		case m = <-in.ch:
		}
		if m.Sub == in.batch {
			c.Stats.BatchesIn.Add(1)
			if err := walkBatch(m.Data, func(name, frame []byte) {
				in.mu.Lock()
				s := in.named[string(name)]
				in.mu.Unlock()
				if s != nil { // nil: unsubscribed meanwhile
					in.deliver(c, s, frame)
				}
			}); err != nil {
				c.Stats.BadBatches.Add(1)
			}
			continue
		}
		if s := in.lookup(m.Sub); s != nil {
			in.deliver(c, s, m.Data)
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
