// Command cluster measures what a cross-node hop costs (BENCHMARKS.md
// "Cluster"): two in-process nodes, a and c, each with its embedded NATS
// server routed to the other over loopback TCP; S Nellymoser streams
// (64-byte frames every 16 ms) published on a are played on a (the local
// baseline) and on c (through NATS). It reports the delivery delay from
// the publisher's Write to each player's Receive (p50/p99, local and
// cross-node, and the difference) and the NATS bytes a sent per relayed
// stream per second. Bounded: -duration (≤ 30 s) per stream count.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flashvox/flashvox/cluster"
	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/media"
)

func main() {
	streams := flag.String("streams", "1,10,100", "stream counts to run, one run each")
	duration := flag.Duration("duration", 8*time.Second, "measured time per run (at most 30s)")
	flag.DurationVar(&relayBatch, "relay-batch", 2*time.Millisecond, "the nodes' cluster.relay_batch")
	flag.BoolVar(&spread, "spread", false, "spread the streams' frames over each 16 ms (else all at once, as one reader of many sockets would)")
	flag.Parse()
	if *duration > 30*time.Second {
		*duration = 30 * time.Second
	}
	fmt.Println("| streams | frames measured | local p50 | local p99 | cross-node p50 | cross-node p99 | added p50 | added p99 | encoded bytes/frame | NATS wire bytes/frame | kbit/s per stream on NATS |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range strings.Split(*streams, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "bad -streams:", s)
			os.Exit(2)
		}
		if err := run(n, *duration); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// relayBatch is the nodes' Options.RelayBatch (-relay-batch); spread
// staggers the streams' frames (-spread).
var (
	relayBatch time.Duration
	spread     bool
)

// node is one in-process cluster member.
type node struct {
	c    *cluster.Cluster
	hub  *media.Hub
	stop func()
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func start(name, listen string, routes []string) (*node, error) {
	hub := media.NewHub(256, nil)
	c, err := cluster.New(cluster.Options{Node: name, Secret: "bench-secret-0123456789", Listen: listen, Routes: routes,
		Heartbeat: time.Second, RelayBatch: relayBatch, Hub: hub, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Serve(ctx) }()
	return &node{c: c, hub: hub, stop: func() { cancel(); <-done }}, nil
}

// delays records delivery delays of frames, keyed by (stream, timestamp),
// for the players on a (local) and on c (remote).
type delays struct {
	mu            sync.Mutex
	sent          map[[2]uint32]time.Time
	local, remote []time.Duration
}

func (d *delays) receiver(stream uint32, remote bool) media.Receiver {
	return media.ReceiverFunc(func(f *media.Frame) {
		if f.Kind != media.KindAudio {
			return
		}
		now := time.Now()
		d.mu.Lock()
		defer d.mu.Unlock()
		t, ok := d.sent[[2]uint32{stream, f.Timestamp}]
		switch {
		case !ok:
		case remote:
			d.remote = append(d.remote, now.Sub(t))
		default:
			d.local = append(d.local, now.Sub(t))
		}
	})
}

func (d *delays) sending(stream, ts uint32) {
	d.mu.Lock()
	d.sent[[2]uint32{stream, ts}] = time.Now()
	d.mu.Unlock()
}

func pct(v []time.Duration, p float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[min(len(v)-1, int(float64(len(v))*p))]
}

func run(streams int, duration time.Duration) error {
	ra, rc := freeAddr(), freeAddr()
	a, err := start("a", ra, []string{rc})
	if err != nil {
		return err
	}
	defer a.stop()
	c, err := start("c", rc, []string{ra})
	if err != nil {
		return err
	}
	defer c.stop()
	for deadline := time.Now().Add(10 * time.Second); len(a.c.Nodes()) < 2 || len(c.c.Nodes()) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("nodes did not see each other")
		}
	}
	d := &delays{sent: map[[2]uint32]time.Time{}}
	pubs := make([]*media.Publisher, streams)
	for i := range streams {
		key := fmt.Sprintf("live/s%d", i)
		a.hub.Subscribe(key, d.receiver(uint32(i), false))
		c.hub.Subscribe(key, d.receiver(uint32(i), true))
		if pubs[i], err = a.hub.Publish(key); err != nil {
			return err
		}
	}
	// Let every relay start, then measure.
	warm := time.Now().Add(10 * time.Second)
	for c.c.Stats.Relays.Load() < int64(streams) {
		if time.Now().After(warm) {
			return fmt.Errorf("%d of %d relays started", c.c.Stats.Relays.Load(), streams)
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := a.c.Conn().Stats()
	framesBefore := a.c.Stats.BytesOut.Load()
	framesOutBefore := a.c.Stats.FramesOut.Load()
	payload := make([]byte, 64)
	write := func(i int, ts uint32) {
		d.sending(uint32(i), ts)
		pubs[i].Write(&media.Frame{Kind: media.KindAudio, Codec: codec.Nellymoser, FLV: codec.MakeFLVHint(0x42), Timestamp: ts, Rate: 16000, Channels: 1, Payload: payload})
	}
	begin := time.Now()
	if !spread {
		tick := time.NewTicker(16 * time.Millisecond)
		defer tick.Stop()
		for ts := uint32(0); time.Since(begin) < duration; ts += 16 {
			<-tick.C
			for i := range pubs {
				write(i, ts)
			}
		}
	} else {
		// Stream i sends at i/streams of each 16 ms, as independent
		// publishers would: frames reach the sender one by one, and the
		// hold (cluster.relay_batch) is what gathers them.
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		next := 0 // frames written so far, all streams
		for time.Since(begin) < duration {
			<-tick.C
			due := int(time.Since(begin) * time.Duration(streams) / (16 * time.Millisecond))
			for ; next < due; next++ {
				write(next%streams, uint32(next/streams*16))
			}
		}
	}
	// Let the last frames arrive.
	time.Sleep(200 * time.Millisecond)
	frames := a.c.Stats.FramesOut.Load() - framesOutBefore
	perFrame := float64(a.c.Stats.BytesOut.Load()-framesBefore) / float64(max(frames, 1))
	// nats.go counts message bodies (the batches: frames with their
	// streams' names, heartbeats too); the wire adds a PUB line per
	// message ("PUB flashvox.batch.c SIZE\r\n", then "\r\n"), and a
	// route the same again as RMSG.
	now := a.c.Conn().Stats()
	msgs, body := now.OutMsgs-out.OutMsgs, now.OutBytes-out.OutBytes
	size := body / max(msgs, 1)
	wire := float64(body+msgs*uint64(len("PUB flashvox.batch.c ")+len(strconv.Itoa(int(size)))+4)) / float64(max(frames, 1))
	kbits := wire * 8 * 1000 / 16 / 1000 // one frame every 16 ms
	d.mu.Lock()
	lp50, lp99 := pct(d.local, 0.5), pct(d.local, 0.99)
	rp50, rp99 := pct(d.remote, 0.5), pct(d.remote, 0.99)
	n, sentN := len(d.remote), len(d.sent)
	d.mu.Unlock()
	fmt.Printf("| %d | %d of %d | %v | %v | %v | %v | %v | %v | %.0f | %.0f | %.1f |\n", streams, n, sentN, lp50.Round(time.Microsecond), lp99.Round(time.Microsecond),
		rp50.Round(time.Microsecond), rp99.Round(time.Microsecond), (rp50 - lp50).Round(time.Microsecond), (rp99 - lp99).Round(time.Microsecond), perFrame, wire, kbits)
	return nil
}
