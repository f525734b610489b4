package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Stats are the cluster's counters, read by the metrics exporter.
type Stats struct {
	Relays  atomic.Int64 // streams of other nodes published here now
	Exports atomic.Int64 // local streams sent to other nodes now
	// Variants are the transcoded variants of other nodes' streams
	// published here now; VariantExports the local streams' variants
	// sent to other nodes now (one transcoder and one export each, for
	// every node); VariantsRefused the variant wants refused here (the
	// budget, no transcoding), which the asker transcodes itself.
	Variants        atomic.Int64
	VariantExports  atomic.Int64
	VariantsRefused atomic.Uint64
	BadWants        atomic.Uint64 // wants for a variant this build cannot make (ignored)
	FramesIn        atomic.Uint64 // frames received for relays
	BytesIn         atomic.Uint64 // their encoded bytes
	FramesOut       atomic.Uint64 // frames sent for exports
	BytesOut        atomic.Uint64 // their encoded bytes
	BadFrames       atomic.Uint64 // received frames that did not decode
	// BatchesIn and BatchesOut count the NATS messages that carried
	// frames (batch.go): frames per batch is the relay's saving;
	// BadBatches the received ones that did not decode to the end.
	BatchesIn  atomic.Uint64
	BatchesOut atomic.Uint64
	BadBatches atomic.Uint64
	// FramesHandedOff counts the relayed frames the inbox's reader handed
	// to its workers instead of delivering them itself (inbox.go): a node
	// busy enough that its relayed deliveries needed more than one turn.
	FramesHandedOff atomic.Uint64
	// ExportDrops counts frames not sent because a node's pending
	// frames were at their bound (the sender did not keep up).
	ExportDrops   atomic.Uint64
	DroppedEvents atomic.Uint64 // control messages lost to a full loop queue (the next heartbeat retries)
	NodesLost     atomic.Uint64 // nodes that missed three heartbeats
	NameClashes   atomic.Uint64 // heartbeats of another node with this node's name
	// RoomLeasesLost counts rooms this node gave up because it lost
	// their lease (lease.go): their members move to the next holder.
	RoomLeasesLost atomic.Uint64
	// Presence messages (presence.go): sent by this node; applied here;
	// stale (older than what this node had: nothing changed); dropped as
	// hostile (too big, bad names or statuses, too many users, a node not
	// in the table or of another run).
	PresenceSent  atomic.Uint64
	PresenceIn    atomic.Uint64
	PresenceStale atomic.Uint64
	PresenceBad   atomic.Uint64
	// ClaimsRefused are client publishes refused here because another
	// node holds the name (claim.go); ClaimsUnchecked those accepted
	// without every node's answer (NATS down, a node silent);
	// DoublePublished other nodes' publications heard of a name also
	// published here (after such an accept): two publishers in the
	// cluster, once per other claim; ClaimsLost the client publishers
	// ended here because the other's claim was earlier (contest.go);
	// BadContests the announces that would have settled a name published
	// here but did not hold together (ignored).
	ClaimsRefused   atomic.Uint64
	ClaimsUnchecked atomic.Uint64
	DoublePublished atomic.Uint64
	ClaimsLost      atomic.Uint64
	BadContests     atomic.Uint64
}

// Cluster is this node's membership: the NATS connection (and embedded
// server), the node table, and the media relays in both directions.
type Cluster struct {
	o       Options
	log     *slog.Logger
	ns      *server.Server // nil with an external NATS
	tls     *nodeTLS       // nil without cluster TLS
	nc      *nats.Conn
	started time.Time
	nodes   nodeTable
	imp     *importer
	exp     *exporter
	calls   *calls
	roomSvc RoomService // set by ServeRooms (rooms.go); nil = rooms stay per node
	// leases is set by ServeRooms with Options.Leases (lease.go), before
	// or after Serve began: Serve's renewals look for it every heartbeat.
	leases atomic.Pointer[leases]
	// relayed is the keys this node publishes as a relay (key → true): not
	// announced, not answered, not exported again.
	relayed sync.Map
	pres    presenceOut  // this node's presence changes to send (presence.go)
	presMu  sync.Mutex   // orders the hand-overs of the other nodes' presence to Options.Presence*
	claims  claims       // this node's client publishes being claimed, and held (claim.go, contest.go)
	clock   atomic.Int64 // the Lamport clock of claims (contest.go)
	// deaf drops every control message this node receives (tests: a node
	// cut off from the others, its own messages still sent).
	deaf    atomic.Bool
	closing sync.Once
	// slowWarned is when a slow consumer was last logged (unix ns): the
	// relays' inbox (inbox.go) may fill and drain again many times a
	// second.
	slowWarned atomic.Int64
	Stats      Stats
}

// New starts the embedded NATS server (unless o.NATSURL) and connects to
// it, and hooks the hub; Serve runs the node until its context ends.
func New(o Options) (*Cluster, error) {
	if o.Heartbeat <= 0 {
		o.Heartbeat = 2 * time.Second
	}
	if o.Load == nil {
		o.Load = func() Load { return Load{} }
	}
	c := &Cluster{o: o, log: o.Logger, started: time.Now().UTC().Truncate(time.Millisecond), nodes: nodeTable{nodes: map[string]*NodeInfo{}},
		claims: claims{m: map[string]*pending{}, held: map[string]*held{}}}
	opts := []nats.Option{nats.Name("flashvox " + o.Node), nats.Token(o.Secret), nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond), nats.Timeout(5 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own Close
				c.log.Warn("cluster: nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { c.log.Info("cluster: nats reconnected") }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { c.natsError(err, time.Now()) }),
	}
	if o.TLS != nil {
		t, err := loadTLS(*o.TLS)
		if err != nil {
			return nil, fmt.Errorf("cluster: %w", err)
		}
		c.tls = t
	}
	url := o.NATSURL
	if url != "" && c.tls != nil {
		// Secure refuses a server that does not offer TLS (no downgrade)
		// and verifies it against the cluster's CA only; the node's
		// certificate answers the server's request for one.
		opts = append(opts, nats.Secure(c.tls.config()))
	}
	if url == "" {
		ns, err := startEmbedded(&c.o, c.tls, o.Logger.With("layer", "nats"))
		if err != nil {
			return nil, err
		}
		c.ns = ns
		opts = append(opts, nats.InProcessServer(ns))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		c.shutdownServer()
		return nil, fmt.Errorf("cluster: connect to nats: %w", err)
	}
	c.nc = nc
	c.imp = newImporter(c)
	c.exp = newExporter(c)
	c.calls = &calls{c: c, byID: map[string]*xcall{}}
	c.pres.dirty, c.pres.kick = map[string]string{}, make(chan struct{}, 1)
	o.Hub.WatchDemand(c.imp.demand)
	if o.Transcoder != nil { // variants of other nodes' streams come from there (variants.go)
		o.Transcoder.SetRemote(c.imp)
	}
	o.Hub.WatchPublications(c.announce)
	o.Hub.SetPublishGuard(c.guard) // a client's name is unique in the cluster (claim.go)
	return c, nil
}

// natsError logs an asynchronous NATS error; slow consumers (frames the
// relays' inbox had no room for, dropped) at most once per heartbeat.
func (c *Cluster) natsError(err error, now time.Time) {
	if errors.Is(err, nats.ErrSlowConsumer) {
		last := c.slowWarned.Load()
		if now.UnixNano()-last < int64(c.o.Heartbeat) || !c.slowWarned.CompareAndSwap(last, now.UnixNano()) {
			return
		}
		c.log.Warn("cluster: relayed frames dropped: this node reads them slower than they come", "err", err)
		return
	}
	c.log.Warn("cluster: nats", "err", err)
}

// Node is this node's name.
func (c *Cluster) Node() string { return c.o.Node }

// RouteAddr is the embedded server's route address ("" with an external NATS).
func (c *Cluster) RouteAddr() string {
	if c.ns == nil || c.ns.ClusterAddr() == nil {
		return ""
	}
	return c.ns.ClusterAddr().String()
}

// ReloadTLS reads this node's certificate and key again (SIGHUP): new
// routes and connections present them, established ones keep theirs. The
// CA is not reloaded. A bad pair, or one the CA did not sign, keeps the
// old one. Nil without TLS.
func (c *Cluster) ReloadTLS() error {
	if c.tls == nil {
		return nil
	}
	return c.tls.reload()
}

// TLS reports whether the cluster's NATS traffic is under TLS.
func (c *Cluster) TLS() bool { return c.tls != nil }

func (c *Cluster) shutdownServer() {
	if c.ns != nil {
		c.ns.Shutdown()
		c.ns.WaitForShutdown()
	}
}

// Close closes the NATS connection and the embedded server (Serve does on
// its return; Close is for a node that never served).
func (c *Cluster) Close() {
	c.closing.Do(func() {
		c.nc.Close()
		c.shutdownServer()
	})
}

// Serve subscribes to the cluster's subjects and runs the node (heartbeats,
// relays, exports) until ctx ends, then leaves: relays and exports stop,
// the others hear "leaving", the connection and embedded server close.
func (c *Cluster) Serve(ctx context.Context) error {
	defer c.Close()
	me := c.o.Node
	for _, s := range []struct {
		subj string
		fn   nats.MsgHandler
	}{
		{subjHeartbeat, c.onHeartbeat},
		{subjWhere, c.onWhere},
		{subjClaim, c.onClaim},
		{subjAnnounce, c.imp.onFound},
		{subjHerePre + me, c.imp.onFound},
		{subjWantPre + me, c.exp.onWant},
		{subjPresence, c.onPresence},
	} {
		fn := s.fn
		if _, err := c.nc.Subscribe(s.subj, func(m *nats.Msg) {
			if !c.deaf.Load() {
				fn(m)
			}
		}); err != nil {
			return fmt.Errorf("cluster: subscribe %s: %w", s.subj, err)
		}
	}
	if err := c.imp.in.subscribeBatches(c.nc, subjBatchPre+me); err != nil {
		return fmt.Errorf("cluster: subscribe batches: %w", err)
	}
	if err := c.nc.FlushTimeout(5 * time.Second); err != nil {
		return fmt.Errorf("cluster: nats: %w", err)
	}
	c.log.Info("cluster joined", "node", me, "nats", c.describe(), "tls", c.tls != nil)
	c.beat(false)
	renewing := make(chan struct{})
	go func() {
		defer close(renewing)
		c.renewLeases(ctx)
	}()
	presCtx, stopPres := context.WithCancel(ctx)
	presDone := make(chan struct{})
	go func() { defer close(presDone); c.runPresence(presCtx) }()
	// The exports' sender and the relays' inbox outlive the importer's
	// loop, which stops the relays, and the exports' stop below.
	mediaCtx, stopMedia := context.WithCancel(context.Background())
	var flows sync.WaitGroup
	flows.Go(func() { c.exp.run(mediaCtx) })
	flows.Go(func() { c.imp.in.run(mediaCtx, c) })
	c.imp.run(ctx)
	c.o.Hub.SetPublishGuard(nil) // alone again: names are this node's
	stopPres()
	<-presDone
	<-renewing
	c.exp.stopAll()
	stopMedia()
	flows.Wait()
	if l := c.leases.Load(); l != nil {
		l.stop()
	}
	c.beat(true)
	_ = c.nc.FlushTimeout(time.Second)
	c.log.Info("cluster left", "node", me)
	return nil
}

func (c *Cluster) describe() string {
	if c.ns != nil {
		return "embedded, routes on " + c.RouteAddr()
	}
	return c.nc.ConnectedUrlRedacted()
}

// cpu measures the process's CPU use between heartbeats.
type cpuMeter struct {
	last     time.Duration
	lastWall time.Time
}

func (m *cpuMeter) cores(now time.Time) float64 {
	t := cpuTime()
	var used float64
	if wall := now.Sub(m.lastWall); !m.lastWall.IsZero() && wall > 0 {
		used = float64(t-m.last) / float64(wall)
	}
	m.last, m.lastWall = t, now
	return used
}

// beat publishes this node's heartbeat (and records it in the table).
func (c *Cluster) beat(leaving bool) {
	l := c.o.Load()
	l.CPU = c.imp.cpu.cores(time.Now())
	// The list and its seq are taken, and sent, between two presence
	// messages: the list holds every change sent up to seq (presence.go).
	c.pres.sendMu.Lock()
	defer c.pres.sendMu.Unlock()
	hb := heartbeat{Node: c.o.Node, Started: c.started, Load: l, Leaving: leaving, RTMP: c.o.RTMPURL, HTTP: c.o.HTTPURL, RTMFP: c.o.RTMFPAddr, Seq: c.pres.seq}
	if c.o.Users != nil && !leaving {
		if hb.Users = c.o.Users(); len(hb.Users) > maxUsers {
			c.log.Warn("cluster: too many users online to tell the other nodes", "users", len(hb.Users), "max", maxUsers)
			hb.Users = nil
		}
		hb.Load.Users = len(hb.Users)
	}
	if !leaving {
		c.nodes.seen(hb, true, time.Now())
	}
	b, _ := json.Marshal(hb)
	if err := c.nc.Publish(subjHeartbeat, b); err != nil {
		c.log.Warn("cluster: heartbeat not sent", "err", err)
	}
}

func (c *Cluster) onHeartbeat(m *nats.Msg) {
	var hb heartbeat
	if !decodeBounded(m.Data, maxHeartbeat, &hb) || hb.Node == "" || len(hb.Node) > 64 {
		return
	}
	if hb.Node == c.o.Node {
		if !hb.Started.Equal(c.started) && c.Stats.NameClashes.Add(1) == 1 {
			// Two nodes under one name would take each other's calls
			// and streams: say it loudly (once; the metric counts).
			c.log.Error("cluster: another node uses this node's name (cluster.node must be unique)", "node", hb.Node)
		}
		return
	}
	if hb.Leaving {
		if c.nodes.remove(hb.Node) {
			c.log.Info("cluster node left", "node", hb.Node)
			c.imp.post(event{kind: evNodeGone, node: hb.Node})
		}
		return
	}
	isNew, restarted := c.nodes.seen(hb, false, time.Now())
	if isNew || restarted {
		// It may have published some of our names while we did not
		// hear each other: it hears of ours (and we of its), and the
		// later claims end (contest.go).
		c.announceHeld(hb.Node, false)
	}
	switch {
	case restarted: // back within three heartbeats: its calls and streams are gone all the same
		c.Stats.NodesLost.Add(1)
		c.log.Warn("cluster node restarted", "node", hb.Node)
		c.imp.post(event{kind: evNodeGone, node: hb.Node})
	case isNew:
		c.log.Info("cluster node joined", "node", hb.Node)
	}
}

// onWhere answers "who publishes KEY" when this node does (a relay's
// source is another node: it answers for itself).
func (c *Cluster) onWhere(m *nats.Msg) {
	key := string(m.Data)
	if m.Reply == "" || len(key) == 0 || len(key) > maxKey || c.isRelayed(key) || !c.o.Hub.Published(key) {
		return
	}
	b, _ := json.Marshal(found{Node: c.o.Node, Key: key})
	_ = c.nc.Publish(m.Reply, b)
}

// announce tells the cluster of a local publication (a hub watcher), so
// nodes whose players wait for the key fetch it at once.
func (c *Cluster) announce(key string) {
	if len(key) > maxKey || c.isRelayed(key) {
		return
	}
	// Variants fetched for key are transcoded here from now on.
	c.imp.post(event{kind: evLocal, key: key})
	b, _ := json.Marshal(found{Node: c.o.Node, Key: key, At: c.heldAt(key)})
	_ = c.nc.Publish(subjAnnounce, b)
}

func (c *Cluster) isRelayed(key string) bool {
	_, ok := c.relayed.Load(key)
	return ok
}

// Redirect is where to send a new RTMP connect to app while this node has
// more than RedirectAbove clients (Load.Clients): the least loaded other node
// below that mark (as of its last heartbeat), or "" (stay here: also when
// every node is as full, so nothing bounces for ever).
func (c *Cluster) Redirect(app string) string {
	if !c.over() {
		return ""
	}
	to := c.nodes.leastLoaded(c.o.Node, c.o.RedirectAbove)
	if to == "" {
		return ""
	}
	return strings.TrimRight(to, "/") + "/" + app
}

// Nodes is every live node, this one included, sorted by name.
func (c *Cluster) Nodes() []NodeInfo { return c.nodes.list() }

// Conn is the NATS connection (its Stats count the bytes on the wire).
func (c *Cluster) Conn() *nats.Conn { return c.nc }

// ServeHTTP answers GET /api/v1/cluster: this node's name and every live
// node with its load (docs/CLUSTER.md "Observability").
func (c *Cluster) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(struct {
		Node  string     `json:"node"`
		Nodes []NodeInfo `json:"nodes"`
	}{c.o.Node, c.Nodes()})
}
