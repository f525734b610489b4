package app

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/cluster"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp"
)

// newCluster joins the cluster of cluster: (nil when off) and serves
// GET /api/v1/cluster on mux (who may read it: docs/SECURITY.md, like
// /metrics).
func newCluster(cfg config.Cluster, logger *slog.Logger, reg *prometheus.Registry, mux *http.ServeMux,
	hub *media.Hub, rs *rtmp.Server, calls *call.Service) (*cluster.Cluster, error) {
	if !cfg.Enabled {
		return nil, nil
	}
	c, err := cluster.New(cluster.Options{
		Node: cfg.NodeName(), Secret: cfg.Secret, NATSURL: cfg.NATSURL,
		Listen: cfg.Listen, Routes: cfg.Routes, ClientListen: cfg.ClientListen, Heartbeat: cfg.Heartbeat,
		Hub: hub, Logger: logger.With("component", "cluster"),
		Load: func() cluster.Load {
			return cluster.Load{Connections: int(rs.Stats().Active), Streams: int(hub.Stats.Publishers.Load()), Calls: calls.Count()}
		},
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /api/v1/cluster", c)
	registerClusterMetrics(reg, c)
	return c, nil
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
		counter("frames_in_total", "Frames received from other nodes for relays.", func() float64 { return float64(st.FramesIn.Load()) }),
		counter("bytes_in_total", "Encoded bytes of those frames.", func() float64 { return float64(st.BytesIn.Load()) }),
		counter("frames_out_total", "Frames sent to other nodes.", func() float64 { return float64(st.FramesOut.Load()) }),
		counter("bytes_out_total", "Encoded bytes of those frames.", func() float64 { return float64(st.BytesOut.Load()) }),
		counter("bad_frames_total", "Frames from other nodes that did not decode.", func() float64 { return float64(st.BadFrames.Load()) }),
		counter("nodes_lost_total", "Nodes that went silent for three heartbeats.", func() float64 { return float64(st.NodesLost.Load()) }),
		nodeCollector{c: c, desc: prometheus.NewDesc("flashvox_cluster_node_load",
			"Each live node's load from its last heartbeat: connections, streams, calls, cpu (cores).", []string{"node", "what"}, nil)},
	)
}

// nodeCollector exports every live node's heartbeat load.
type nodeCollector struct {
	c    *cluster.Cluster
	desc *prometheus.Desc
}

// Describe sends the one descriptor (prometheus.Collector).
func (n nodeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- n.desc }

// Collect sends four series per node (prometheus.Collector).
func (n nodeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, x := range n.c.Nodes() {
		for what, v := range map[string]float64{"connections": float64(x.Load.Connections), "streams": float64(x.Load.Streams),
			"calls": float64(x.Load.Calls), "cpu": x.Load.CPU} {
			ch <- prometheus.MustNewConstMetric(n.desc, prometheus.GaugeValue, v, x.Node, what)
		}
	}
}
