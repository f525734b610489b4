package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/cluster"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/webrtc"
)

// clusterPeers are what the cluster reports of this node, filled in by
// newServices after the components exist (the heartbeats start with
// Serve, after newServices returned).
type clusterPeers struct {
	rs    *rtmp.Server
	calls *call.Service
	rtc   *webrtc.Server // nil with webrtc.enabled false
	// rtmfp is the RTMFP server's stats once it exists (newRTMFP, after
	// newServices; the heartbeats may already run): its sessions count as
	// connections.
	rtmfp atomic.Pointer[rtmfp.Stats]
}

// connections is the node's client connections: RTMP (RTMPT included)
// and RTMFP sessions.
func (p *clusterPeers) connections() int {
	n := int(p.rs.Stats().Active)
	if st := p.rtmfp.Load(); st != nil {
		n += int(st.Sessions.Load())
	}
	return n
}

// pages is the node's page users: users signed in over the HTTP API
// (one each) and open WebRTC sessions (WHIP and WHEP, calls' and live
// streams'). Load placement counts them with the connections.
func (p *clusterPeers) pages() int {
	n := p.calls.HTTPUsers()
	if p.rtc != nil {
		n += p.rtc.Sessions()
	}
	return n
}

// newCluster joins the cluster of cluster: (nil when off); it is created
// before the call service, whose gateway it is for users on other nodes.
// tc transcodes this node's streams for players of other nodes (within
// budget, rtmp.max_transcoders as for local players) and fetches other
// nodes' variants for local players.
func newCluster(cfg config.Cluster, logger *slog.Logger, hub *media.Hub, tc *transcode.Service, budget int, p *clusterPeers, db *store.DB) (*cluster.Cluster, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	if key, addr, clear := cfg.ClearBeyondLoopback(); clear { // allowed by cluster.insecure_plaintext (config refuses it otherwise)
		logger.Warn("cluster: NATS traffic beyond loopback in clear (cluster.insecure_plaintext): the secret and every stream are readable on that network",
			"key", key, "addr", addr)
	}
	// Conference rooms are placed by a lease in the store when the store
	// is the PostgreSQL every node shares; SQLite is one node's file, whose
	// leases no other node would see (docs/CLUSTER.md "Conferences").
	var leases cluster.Leases
	if db != nil && db.Engine() == store.Postgres {
		leases = db
	}
	var tls *cluster.TLSFiles
	if cfg.TLS() {
		tls = &cluster.TLSFiles{Cert: cfg.TLSCert, Key: cfg.TLSKey, CA: cfg.TLSCA}
	}
	return cluster.New(cluster.Options{
		Node: cfg.NodeName(), Secret: cfg.Secret, NATSURL: cfg.NATSURL, TLS: tls,
		Listen: cfg.Listen, Routes: cfg.Routes, ClientListen: cfg.ClientListen, Heartbeat: cfg.Heartbeat, RelayBatch: cfg.RelayBatch,
		RTMPURL: cfg.RTMPURL, RedirectAbove: cfg.RedirectAbove, HTTPURL: cfg.HTTPURL, RTMFPAddr: cfg.RTMFPAddr,
		Hub: hub, Transcoder: tc, TranscodeBudget: budget, Logger: logger.With("component", "cluster"), Leases: leases,
		Load: func() cluster.Load {
			return cluster.Load{Connections: p.connections(), Pages: p.pages(), Streams: int(hub.Stats.Publishers.Load()), Calls: p.calls.Count()}
		},
		Users:           func() map[string]string { return p.calls.LocalPresence() },
		Presence:        func(remote map[string]string) { p.calls.SetRemotePresence(remote) },
		PresenceChanged: func(changed map[string]string) { p.calls.UpdateRemotePresence(changed) },
	})
}

// serveCluster lets other nodes ring this node's users and serves
// GET /api/v1/cluster on mux (who may read it: docs/SECURITY.md, like
// /metrics).
func serveCluster(c *cluster.Cluster, calls *call.Service, confs *conference.Service, reg *prometheus.Registry, mux *http.ServeMux) error {
	if c == nil {
		return nil
	}
	if err := c.ServeCalls(calls); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	calls.WatchLocalPresence(c.LocalPresence) // the other nodes hear of a change at once (cluster/presence.go)
	if confs != nil {                         // rooms span nodes (cluster/rooms.go, conference/remote.go)
		remote, err := c.ServeRooms(confs)
		if err != nil {
			return err
		}
		confs.SetRemote(remote)
	}
	mux.Handle("GET /api/v1/cluster", c)
	registerClusterMetrics(reg, c)
	return nil
}

// rtmpRedirect is the sessions' redirect (session.Options.Redirect): the
// cluster's choice for RTMP connects (RTMFP clients are not sent to an
// rtmp:// URL); nil without a cluster.
func rtmpRedirect(c *cluster.Cluster) func(string, session.Transport) string {
	if c == nil {
		return nil
	}
	return func(app string, t session.Transport) string {
		if _, ok := t.(*rtmp.Conn); !ok {
			return ""
		}
		return c.Redirect(app)
	}
}

// gateways chains call gateways: the first that routes a name dials it
// (the SIP bridge's numbers and phones, then users on other nodes).
type gateways []call.Gateway

// Routes reports whether one of the gateways routes to.
func (g gateways) Routes(to string) bool {
	for _, gw := range g {
		if gw.Routes(to) {
			return true
		}
	}
	return false
}

// Dial dials to through the first gateway that routes it. The last one
// is not asked again: the call service dials only what Routes accepted a
// moment before, and it holds its lock here, which the cluster's Routes
// takes (call.Service.OnlineHere).
func (g gateways) Dial(x call.External, from, to string) (call.Leg, error) {
	for i, gw := range g {
		if i == len(g)-1 || gw.Routes(to) {
			return gw.Dial(x, from, to)
		}
	}
	return nil, errors.New("no route")
}

// registerClusterMetrics exports the cluster's counters and one series per
// live node (flashvox_cluster_*).
func registerClusterMetrics(reg *prometheus.Registry, c *cluster.Cluster) {
	st := &c.Stats
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "flashvox", Subsystem: "cluster", Name: name, Help: help}
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts(name, help)), f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts(opts(name, help)), f)
	}
	reg.MustRegister(
		gauge("nodes", "Live nodes of the cluster, this one included.", func() float64 { return float64(len(c.Nodes())) }),
		gauge("relays", "Streams of other nodes published here now (for local players).", func() float64 { return float64(st.Relays.Load()) }),
		gauge("exports", "Local streams sent to other nodes now (once each on NATS).", func() float64 { return float64(st.Exports.Load()) }),
		gauge("variants", "Other nodes' streams transcoded there and published here now (for local ?codec= players).", func() float64 { return float64(st.Variants.Load()) }),
		gauge("variant_exports", "Local streams' transcoded variants sent to other nodes now (one transcoder and one NATS export each).", func() float64 { return float64(st.VariantExports.Load()) }),
		counter("variants_refused_total", "Other nodes' wants of a variant refused here (transcoding budget, or none); they transcode it themselves.", func() float64 { return float64(st.VariantsRefused.Load()) }),
		counter("bad_wants_total", "Wants of a variant this node cannot make (unknown codec or rate), ignored.", func() float64 { return float64(st.BadWants.Load()) }),
		counter("frames_in_total", "Frames received from other nodes for relays.", func() float64 { return float64(st.FramesIn.Load()) }),
		counter("bytes_in_total", "Encoded bytes of those frames.", func() float64 { return float64(st.BytesIn.Load()) }),
		counter("frames_out_total", "Frames sent to other nodes.", func() float64 { return float64(st.FramesOut.Load()) }),
		counter("bytes_out_total", "Encoded bytes of those frames.", func() float64 { return float64(st.BytesOut.Load()) }),
		counter("bad_frames_total", "Frames from other nodes that did not decode.", func() float64 { return float64(st.BadFrames.Load()) }),
		counter("batches_in_total", "NATS messages of frames received from other nodes (several streams' frames each).", func() float64 { return float64(st.BatchesIn.Load()) }),
		counter("batches_out_total", "NATS messages of frames sent to other nodes (frames_out_total / batches_out_total frames each).", func() float64 { return float64(st.BatchesOut.Load()) }),
		counter("export_drops_total", "Frames for other nodes dropped because those waiting for the sender were at their bound (1 MiB per node).", func() float64 { return float64(st.ExportDrops.Load()) }),
		counter("frames_handed_off_total", "Relayed frames the inbox's reader handed to its workers: the node was too busy to deliver them in one turn.", func() float64 { return float64(st.FramesHandedOff.Load()) }),
		counter("bad_batches_total", "Batches from other nodes that did not decode to the end (the rest of the batch dropped).", func() float64 { return float64(st.BadBatches.Load()) }),
		counter("nodes_lost_total", "Nodes that went silent for three heartbeats.", func() float64 { return float64(st.NodesLost.Load()) }),
		counter("room_leases_lost_total", "Conference rooms this node gave up (their members move to the next holder) because it lost their lease in the store.", func() float64 { return float64(st.RoomLeasesLost.Load()) }),
		counter("presence_sent_total", "Presence messages this node sent (its users' changes, between heartbeats).", func() float64 { return float64(st.PresenceSent.Load()) }),
		counter("presence_applied_total", "Presence messages of other nodes applied here.", func() float64 { return float64(st.PresenceIn.Load()) }),
		counter("presence_stale_total", "Presence messages older than what this node knew (nothing changed).", func() float64 { return float64(st.PresenceStale.Load()) }),
		counter("presence_bad_total", "Presence messages dropped: too big, bad names, too many users, unknown node.", func() float64 { return float64(st.PresenceBad.Load()) }),
		counter("name_clashes_total", "Heartbeats of another node using this node's cluster.node (must be unique).", func() float64 { return float64(st.NameClashes.Load()) }),
		counter("publish_refused_total", "Client publishes refused here because another node publishes the name.", func() float64 { return float64(st.ClaimsRefused.Load()) }),
		counter("publish_unchecked_total", "Client publishes accepted without every node's answer (NATS down, a node silent): the name may be published twice.", func() float64 { return float64(st.ClaimsUnchecked.Load()) }),
		counter("double_published_total", "Publications on another node of a name also published here (two publishers in the cluster), once per other claim.", func() float64 { return float64(st.DoublePublished.Load()) }),
		counter("publish_lost_total", "Client publishers ended here because another node's publication of the name had the earlier claim.", func() float64 { return float64(st.ClaimsLost.Load()) }),
		counter("publish_contests_bad_total", "Announces that would have ended a publication here but did not hold together (malformed, unknown node, a claim time outside its run or against its own answer): ignored.", func() float64 { return float64(st.BadContests.Load()) }),
		nodeCollector{c: c, desc: prometheus.NewDesc("flashvox_cluster_node_load",
			"Each live node's load from its last heartbeat: connections, pages, streams, calls, users, cpu (cores).", []string{"node", "what"}, nil)},
	)
}

// nodeCollector exports every live node's heartbeat load.
type nodeCollector struct {
	c    *cluster.Cluster
	desc *prometheus.Desc
}

// Describe sends the one descriptor (prometheus.Collector).
func (n nodeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- n.desc }

// Collect sends six series per node (prometheus.Collector).
func (n nodeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, x := range n.c.Nodes() {
		for what, v := range map[string]float64{"connections": float64(x.Load.Connections), "streams": float64(x.Load.Streams),
			"calls": float64(x.Load.Calls), "cpu": x.Load.CPU, "users": float64(x.Load.Users), "pages": float64(x.Load.Pages)} {
			ch <- prometheus.MustNewConstMetric(n.desc, prometheus.GaugeValue, v, x.Node, what)
		}
	}
}
