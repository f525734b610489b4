package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flashvox/flashvox/codec"
	"github.com/flashvox/flashvox/internal/test/testpeer"
	"github.com/flashvox/flashvox/internal/test/testwait"
	"github.com/flashvox/flashvox/media"
)

const testSecret = "test-secret-0123456789"

// node is one in-process cluster member with its own hub.
type node struct {
	c      *Cluster
	hub    *media.Hub
	route  string
	cancel context.CancelFunc
	done   chan struct{}
}

func (n *node) stop() {
	n.cancel()
	<-n.done
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// startNodes starts len(names) embedded nodes routed to each other.
func startNodes(t testing.TB, names ...string) []*node {
	t.Helper()
	return startNodesWith(t, names, nil)
}

// startNodesWith is startNodes with a hook that changes each node's options.
func startNodesWith(t testing.TB, names []string, change func(i int, o *Options)) []*node {
	t.Helper()
	routes := make([]string, len(names))
	for i := range names {
		routes[i] = "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))
	}
	nodes := make([]*node, len(names))
	for i, name := range names {
		o := Options{Node: name, Secret: testSecret, Listen: routes[i], Routes: routes, Heartbeat: 200 * time.Millisecond}
		if change != nil {
			change(i, &o)
		}
		nodes[i] = startNode(t, o)
	}
	for _, n := range nodes {
		testwait.For(t, 10*time.Second, n.c.Node()+" sees every node", func() bool { return len(n.c.Nodes()) == len(names) })
	}
	return nodes
}

func startNode(t testing.TB, o Options) *node {
	t.Helper()
	hub := o.Hub // set by a test that needs it first (a transcode.Service)
	if hub == nil {
		hub = media.NewHub(64, nil)
	}
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	o.Hub, o.Logger = hub, o.Logger.With("node", o.Node)
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{c: c, hub: hub, route: o.Listen, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(n.done); _ = c.Serve(ctx) }()
	t.Cleanup(n.stop)
	return n
}

// collector is a player: it keeps the audio timestamps it receives.
type collector struct {
	mu     sync.Mutex
	ts     []uint32
	events []media.Kind
}

func (c *collector) Receive(f *media.Frame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.Kind == media.KindAudio {
		c.ts = append(c.ts, f.Timestamp)
	} else {
		c.events = append(c.events, f.Kind)
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ts)
}

func nelly(ts uint32) *media.Frame {
	return &media.Frame{Kind: media.KindAudio, Codec: codec.Nellymoser, Timestamp: ts, Rate: 16000, Channels: 1, Payload: make([]byte, 64)}
}

// pump writes frames to pub until stop is closed.
// pumped publishes key on hub and writes frames to it until the test
// ends.
func pumped(t *testing.T, hub *media.Hub, key string) *media.Publisher {
	t.Helper()
	pub, err := hub.Publish(key)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go pump(pub, stop)
	return pub
}

func pump(pub *media.Publisher, stop <-chan struct{}) { pumpMarked(pub, stop, 0) }

// pumpMarked writes a Nellymoser frame to pub every 5 ms until stop;
// a mark other than 0 replaces each frame's first payload byte, so that
// players can tell publishers apart.
func pumpMarked(pub *media.Publisher, stop <-chan struct{}, mark byte) {
	pumpFrames(pub, stop, func(ts uint32) *media.Frame {
		f := nelly(ts)
		if mark != 0 {
			f.Payload[0] = mark
		}
		return f
	})
}

// pumpFrames writes frame(ts) to pub every 5 ms, ts 16 ms apart, until
// stop.
func pumpFrames(pub *media.Publisher, stop <-chan struct{}, frame func(ts uint32) *media.Frame) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for ts := uint32(0); ; ts += 16 {
		select {
		case <-stop:
			return
		case <-t.C:
			pub.Write(frame(ts))
		}
	}
}

func TestStreamAcrossNodes(t *testing.T) {
	ns := startNodes(t, "a", "b", "c")
	a, b, c := ns[0], ns[1], ns[2]
	// A player on c waits for live/x before anyone publishes it.
	early := &collector{}
	sub1 := c.hub.Subscribe("live/x", early)
	pumped(t, a.hub, "live/x")
	testwait.For(t, 10*time.Second, "frames of a's stream on c", func() bool { return early.count() > 20 })
	// A second player on c and one on b: a still sends once per node.
	late := &collector{}
	sub2 := c.hub.Subscribe("live/x", late)
	onB := &collector{}
	sub3 := b.hub.Subscribe("live/x", onB)
	testwait.For(t, 10*time.Second, "frames on b and to c's second player", func() bool { return late.count() > 20 && onB.count() > 20 })
	if n := a.c.Stats.Exports.Load(); n != 1 {
		t.Fatalf("a exports %d streams, want 1 (one per stream, not per node)", n)
	}
	if n := c.c.Stats.Relays.Load(); n != 1 {
		t.Fatalf("c relays %d streams for 2 players, want 1", n)
	}
	if _, err := c.hub.Publish("live/x"); err == nil {
		t.Fatal("a relayed key must not be publishable on the relaying node")
	}
	// The last player leaving c ends c's relay; b's keeps going.
	sub1.Close()
	sub2.Close()
	testwait.For(t, 5*time.Second, "c's relay to end", func() bool { return c.c.Stats.Relays.Load() == 0 && !c.hub.Published("live/x") })
	sub3.Close()
	testwait.For(t, 5*time.Second, "a's export to end with no node wanting it", func() bool { return a.c.Stats.Exports.Load() == 0 })
	// Timestamps arrive in order.
	early.mu.Lock()
	defer early.mu.Unlock()
	for i := 1; i < len(early.ts); i++ {
		if early.ts[i] <= early.ts[i-1] {
			t.Fatalf("timestamps out of order at %d: %v", i, early.ts[i-1:i+1])
		}
	}
}

func TestUnpublishAndNodeLoss(t *testing.T) {
	ns := startNodes(t, "a", "b")
	a, b := ns[0], ns[1]
	pl := &collector{}
	defer b.hub.Subscribe("live/y", pl).Close()
	pub, err := a.hub.Publish("live/y")
	if err != nil {
		t.Fatal(err)
	}
	pub.Write(nelly(0))
	testwait.For(t, 10*time.Second, "the relay on b", func() bool { return b.hub.Published("live/y") })
	pub.Close()
	testwait.For(t, 5*time.Second, "b's relay to end with a's publisher", func() bool { return !b.hub.Published("live/y") })
	// The player waits on: a new publisher on a reaches it again.
	pub, err = a.hub.Publish("live/y")
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the relay back on b", func() bool { return b.hub.Published("live/y") })
	// a dies without a word (its server and connection closed under it).
	a.c.nc.Close()
	a.c.ns.Shutdown()
	testwait.For(t, 5*time.Second, "b to see a gone", func() bool { return len(b.c.Nodes()) == 1 })
	testwait.For(t, 5*time.Second, "b's relay of a's stream to end", func() bool { return !b.hub.Published("live/y") })
	if b.c.Stats.NodesLost.Load() != 1 {
		t.Fatalf("nodes lost %d, want 1", b.c.Stats.NodesLost.Load())
	}
}

// TestNATSRefusesStrangers: the embedded server's client and route ports
// refuse whoever lacks the cluster secret.
func TestNATSRefusesStrangers(t *testing.T) {
	client := "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))
	route := "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))
	n := startNode(t, Options{Node: "a", Secret: testSecret, Listen: route, ClientListen: client, Heartbeat: 200 * time.Millisecond})
	for _, o := range []struct {
		name string
		opts []nats.Option
	}{
		{"no token", nil},
		{"wrong token", []nats.Option{nats.Token("test-secret-0123456788")}},
		{"user and password", []nats.Option{nats.UserInfo(routeUser, testSecret)}},
	} {
		nc, err := nats.Connect("nats://"+client, append(o.opts, nats.MaxReconnects(0), nats.Timeout(2*time.Second))...)
		if err == nil {
			nc.Close()
			t.Errorf("%s: a client was let in", o.name)
		}
	}
	// With the token, a client gets in and hears the heartbeats.
	nc, err := nats.Connect("nats://"+client, nats.Token(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	hb := make(chan *nats.Msg, 4)
	if _, err := nc.ChanSubscribe(subjHeartbeat, hb); err != nil {
		t.Fatal(err)
	}
	var first *nats.Msg
	testwait.For(t, 5*time.Second, "a heartbeat of a", func() bool {
		select {
		case first = <-hb:
		default:
		}
		return first != nil
	})
	var h heartbeat
	if json.Unmarshal(first.Data, &h) != nil || h.Node != "a" {
		t.Fatalf("heartbeat %s", first.Data)
	}
	// A server with another secret cannot route to it: no node joins.
	other := startNode(t, Options{Node: "spy", Secret: "another-secret-456789", Listen: "127.0.0.1:0", Routes: []string{route}, Heartbeat: 200 * time.Millisecond})
	testwait.For(t, 10*time.Second, "the spy's route attempts to be refused", func() bool { return other.c.ns.NumRoutes() == 0 && n.c.ns.NumRoutes() == 0 })
	// Give heartbeats a chance to cross (they must not): wait for several
	// of n's own beats.
	seen := 0
	testwait.For(t, 5*time.Second, "three more heartbeats of a", func() bool {
		select {
		case <-hb:
			seen++
		default:
		}
		return seen >= 3
	})
	if len(n.c.Nodes()) != 1 || len(other.c.Nodes()) != 1 {
		t.Fatalf("a sees %v, spy sees %v: no node may join without the secret", n.c.Nodes(), other.c.Nodes())
	}
}

func TestClusterHTTP(t *testing.T) {
	ns := startNodes(t, "a", "b")
	rec := httptest.NewRecorder()
	ns[0].c.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/cluster", nil))
	var out struct {
		Node  string
		Nodes []NodeInfo
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.Node != "a" || len(out.Nodes) != 2 || out.Nodes[1].Node != "b" || !out.Nodes[0].Self {
		t.Fatalf("answer %s", rec.Body.String())
	}
}

// TestHostileClusterMessages: a member sends garbage (a holder of the
// secret is trusted, but its bytes are still bounded and checked): bad
// frames are counted and dropped, oversized keys and control messages are
// ignored, and the relay goes on.
func TestHostileClusterMessages(t *testing.T) {
	ns := startNodes(t, "a", "b")
	a, b := ns[0], ns[1]
	pl := &collector{}
	defer b.hub.Subscribe("live/z", pl).Close()
	pumped(t, a.hub, "live/z")
	testwait.For(t, 10*time.Second, "the relay on b", func() bool { return pl.count() > 5 })
	nc := a.c.nc // a member's connection, as an insider would have
	subj := framesSubject("a", "live/z")
	for _, junk := range [][]byte{nil, {1}, {9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, make([]byte, 100)} {
		if err := nc.Publish(subj, junk); err != nil {
			t.Fatal(err)
		}
	}
	long := string(make([]byte, maxKey+1))
	huge := make([]byte, maxControl+1)
	for _, m := range []struct {
		subj string
		data []byte
	}{
		{subjWhere, []byte(long)},
		{subjWantPre + "a", []byte(`{"from":"b","key":"` + long + `"}`)},
		{subjWantPre + "a", huge},
		{subjAnnounce, []byte(`{"node":"a.*","key":"live/q"}`)},
		{subjHeartbeat, huge},
	} {
		if err := nc.Publish(m.subj, m.data); err != nil {
			t.Fatal(err)
		}
	}
	// Batches to b: a forged version, a cut entry, and a good entry
	// carrying a bad frame (counted as a frame) before a cut one.
	bad := appendBatchEntry(nil, batchName(subj), []byte("fifteen bytes!!"))
	for _, junk := range [][]byte{{9, 1, 'x'}, {batchVersion, 200}, append(bad, 3, 'a', '.', 'b')} {
		if err := nc.Publish(subjBatchPre+"b", junk); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, 5*time.Second, "b to count the 5 bad frames and 3 bad batches", func() bool {
		return b.c.Stats.BadFrames.Load() == 5 && b.c.Stats.BadBatches.Load() == 3
	})
	n := pl.count()
	testwait.For(t, 5*time.Second, "the relay to go on", func() bool { return pl.count() > n+10 })
	if len(a.c.Nodes()) != 2 || a.c.Stats.Exports.Load() != 1 {
		t.Fatalf("after the junk: nodes %v, exports %d", a.c.Nodes(), a.c.Stats.Exports.Load())
	}
}

// TestNodeNameClash: a second node under an existing name is noticed
// (embedded servers already refuse a route from a same-named server; a
// client of the same NATS is not refused by NATS).
func TestNodeNameClash(t *testing.T) {
	client := "127.0.0.1:" + strconv.Itoa(testpeer.FreePort(t))
	a := startNode(t, Options{Node: "a", Secret: testSecret, Listen: "127.0.0.1:0", ClientListen: client, Heartbeat: 200 * time.Millisecond})
	dup := startNode(t, Options{Node: "a", Secret: testSecret, NATSURL: "nats://" + client, Heartbeat: 200 * time.Millisecond})
	testwait.For(t, 10*time.Second, "both a's to see the clash", func() bool {
		return a.c.Stats.NameClashes.Load() > 0 && dup.c.Stats.NameClashes.Load() > 0
	})
}

func TestLeastLoaded(t *testing.T) {
	now := time.Now()
	tab := nodeTable{nodes: map[string]*NodeInfo{}}
	for _, n := range []struct {
		name, rtmp string
		conns      int
	}{{"self", "rtmp://s", 0}, {"full", "rtmp://f", 50}, {"light", "rtmp://l", 3}, {"unreachable", "", 0}, {"busy", "rtmp://b", 10}} {
		tab.seen(heartbeat{Node: n.name, RTMP: n.rtmp, Load: Load{Connections: n.conns}}, n.name == "self", now)
	}
	for _, c := range []struct {
		limit int
		want  string
	}{{50, "rtmp://l"}, {4, "rtmp://l"}, {3, ""}, {0, ""}} {
		if got := tab.leastLoaded("self", c.limit); got != c.want {
			t.Errorf("below %d: got %q, want %q", c.limit, got, c.want)
		}
	}
}

// TestNodeRestartSeen: a node back under its name with another start
// time, before three heartbeats passed, is counted as a lost node all the
// same (its calls end with node_lost, the relays of its streams start
// over).
func TestNodeRestartSeen(t *testing.T) {
	ns := startNodes(t, "a", "b")
	a, b := ns[0], ns[1]
	defer b.hub.Subscribe("live/r", &collector{}).Close()
	pub, err := a.hub.Publish("live/r")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	testwait.For(t, 10*time.Second, "the relay on b", func() bool { return b.c.Stats.Relays.Load() == 1 })
	// "a" again, started later: what the first a ran is gone.
	hb, _ := json.Marshal(heartbeat{Node: "a", Started: a.c.started.Add(time.Hour)})
	if err := a.c.nc.Publish(subjHeartbeat, hb); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 5*time.Second, "b to count a as lost", func() bool { return b.c.Stats.NodesLost.Load() >= 1 })
}
