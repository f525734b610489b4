package cluster

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

// tagged is a player that checks that every frame it gets is its stream's
// (the tag in the payload's first byte) and comes in timestamp order.
type tagged struct {
	tag byte
	mu  sync.Mutex
	n   int
	bad string
	ts  uint32
}

func (p *tagged) Receive(f *media.Frame) {
	if f.Kind != media.KindAudio {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.bad != "":
	case len(f.Payload) == 0 || f.Payload[0] != p.tag:
		p.bad = "a frame of another stream"
	case p.n > 0 && f.Timestamp <= p.ts:
		p.bad = "timestamps out of order"
	}
	p.n++
	p.ts = f.Timestamp
}

func (p *tagged) state() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n, p.bad
}

// TestManyStreamsOneSenderOneInbox: many streams relayed from a to b each
// reach their own players, in order (each on the one inbox worker of its
// relay), and neither node runs a goroutine per stream for it (one sender
// on a, one inbox and its few workers on b).
func TestManyStreamsOneSenderOneInbox(t *testing.T) {
	const streams = 40
	ns := startNodesWith(t, []string{"a", "b"}, func(_ int, o *Options) { o.RelayBatch = 2 * time.Millisecond })
	a, b := ns[0], ns[1]
	before := runtime.NumGoroutine()
	players := make([]*tagged, streams)
	for i := range players {
		players[i] = &tagged{tag: byte(i)}
	}
	pubs := relayTagged(t, a, b, players, func(i int) media.Receiver { return players[i] })
	defer pumpTagged(pubs)()
	waitTagged(t, players, 20)
	if n := a.c.Stats.Exports.Load(); n != streams {
		t.Fatalf("a exports %d streams, want %d", n, streams)
	}
	if n := b.c.Stats.Relays.Load(); n != streams {
		t.Fatalf("b relays %d streams, want %d", n, streams)
	}
	// The streams' frames written together travel together: a NATS
	// message each would be one frame per batch.
	if bo, fo := a.c.Stats.BatchesOut.Load(), a.c.Stats.FramesOut.Load(); bo == 0 || fo/bo < 10 {
		t.Fatalf("%d frames in %d batches: fewer than 10 a message", fo, bo)
	}
	if bi, bo := b.c.Stats.BatchesIn.Load(), a.c.Stats.BatchesOut.Load(); bi == 0 || bi > bo {
		t.Fatalf("b took %d batches of a's %d", bi, bo)
	}
	// A goroutine per stream on either side would add 40 or 80.
	if grown := runtime.NumGoroutine() - before; grown > streams/2 {
		t.Fatalf("%d goroutines more for %d relayed streams: one per stream?", grown, streams)
	}
	for i, p := range players {
		if _, bad := p.state(); bad != "" {
			t.Fatalf("stream %d on b: %s", i, bad)
		}
	}
	if drops := a.hub.Stats.DroppedFrame.Load(); drops != 0 {
		t.Fatalf("a's export queues dropped %d frames", drops)
	}
}

// relayTagged publishes stream i (live/s<i>) on a for each of players
// and plays it on b with receiver(i); the subscriptions end with the test.
func relayTagged(t *testing.T, a, b *node, players []*tagged, receiver func(i int) media.Receiver) []*media.Publisher {
	t.Helper()
	pubs := make([]*media.Publisher, len(players))
	for i := range players {
		key := "live/s" + strconv.Itoa(i)
		pub, err := a.hub.Publish(key)
		if err != nil {
			t.Fatal(err)
		}
		pubs[i] = pub
		sub := b.hub.Subscribe(key, receiver(i))
		t.Cleanup(sub.Close)
	}
	return pubs
}

// pumpTagged writes a frame of every stream in turn every 5 ms, from one
// goroutine, as a burst of publishers read in one go would, each round
// starting at the next stream (publishers are read in any order); each
// payload starts with its stream's index. The returned func stops it.
func pumpTagged(pubs []*media.Publisher) (stop func()) {
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for round, ts := 0, uint32(0); ; round, ts = round+1, ts+16 {
			select {
			case <-quit:
				return
			case <-tick.C:
			}
			for j := range pubs {
				i := (round + j) % len(pubs)
				pub := pubs[i]
				payload := make([]byte, 64)
				payload[0] = byte(i)
				pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Nellymoser, Timestamp: ts, Rate: 16000, Channels: 1, Payload: payload})
			}
		}
	}()
	return func() { close(quit); <-done }
}

// waitTagged waits until every player has n frames.
func waitTagged(t *testing.T, players []*tagged, n int) {
	t.Helper()
	short := ""
	testwait.ForDetail(t, 15*time.Second, "every stream's frames on b", func() bool {
		for i, p := range players {
			if got, _ := p.state(); got < n {
				short = "stream " + strconv.Itoa(i) + ": " + strconv.Itoa(got) + " frames"
				return false
			}
		}
		return true
	}, func() string { return short })
}

// slowTagged is a tagged player whose every frame takes 3 ms to deliver
// (a slow socket write, say), which makes the inbox's turn longer than
// it delivers inline.
type slowTagged struct{ tagged }

func (p *slowTagged) Receive(f *media.Frame) {
	p.tagged.Receive(f)
	time.Sleep(3 * time.Millisecond) // the delivery's own cost, not a wait for anything
}

// TestBusyInboxHandsOff: a node whose relayed deliveries take longer
// than the inbox's reader delivers in one turn hands the rest to its
// workers, and every stream's frames still come in order.
func TestBusyInboxHandsOff(t *testing.T) {
	const streams = 12
	ns := startNodesWith(t, []string{"a", "b"}, func(_ int, o *Options) { o.RelayBatch = 2 * time.Millisecond })
	a, b := ns[0], ns[1]
	players := make([]*tagged, streams)
	slow := map[int]*slowTagged{}
	for i := range players {
		if i%4 == 0 { // streams 0, 4, 8: one worker's (round-robin)
			slow[i] = &slowTagged{tagged{tag: byte(i)}}
			players[i] = &slow[i].tagged
		} else {
			players[i] = &tagged{tag: byte(i)}
		}
	}
	pubs := relayTagged(t, a, b, players, func(i int) media.Receiver {
		if sp := slow[i]; sp != nil {
			return sp
		}
		return players[i]
	})
	defer pumpTagged(pubs)()
	waitTagged(t, players, 40)
	if n := b.c.Stats.FramesHandedOff.Load(); n == 0 {
		t.Fatal("no frame handed to the inbox's workers")
	}
	for i, p := range players {
		if _, bad := p.state(); bad != "" {
			t.Fatalf("stream %d on b: %s", i, bad)
		}
	}
}

// configs is a player that counts the AAC decoder configs it gets before
// its first AAC frame, and the frames.
type configs struct {
	mu     sync.Mutex
	before int // configs before the first frame
	frames int
}

func (p *configs) Receive(f *media.Frame) {
	if f.Kind != media.KindAudio || f.Codec != codec.AAC {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case f.Config && p.frames == 0:
		p.before++
	case !f.Config:
		p.frames++
	}
}

func (p *configs) state() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.before, p.frames
}

// TestDecoderConfigReachesEveryNode: an AAC stream's decoder config, sent
// once at its start, reaches the players of the first node that fetches
// it and of a node that joins later, before their first frame.
func TestDecoderConfigReachesEveryNode(t *testing.T) {
	ns := startNodes(t, "a", "b", "c")
	a, b, c := ns[0], ns[1], ns[2]
	pub, err := a.hub.Publish("live/aac")
	if err != nil {
		t.Fatal(err)
	}
	pub.Write(&media.Frame{Kind: media.KindAudio, Codec: codec.AAC, Config: true, Rate: 44100, Channels: 2, Payload: []byte{0x12, 0x10}})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		pumpFrames(pub, stop, func(ts uint32) *media.Frame {
			return &media.Frame{Kind: media.KindAudio, Codec: codec.AAC, Timestamp: ts, Rate: 44100, Channels: 2, Payload: make([]byte, 40)}
		})
	}()
	defer func() { close(stop); <-done }()
	for _, n := range []*node{b, c} {
		pl := &configs{}
		defer n.hub.Subscribe("live/aac", pl).Close()
		testwait.For(t, 10*time.Second, "AAC frames on "+n.c.Node(), func() bool { _, f := pl.state(); return f > 5 })
		if before, _ := pl.state(); before != 1 {
			t.Fatalf("%s's player got %d decoder configs before its first frame, want 1", n.c.Node(), before)
		}
	}
}
