package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/internal/connlimit"
	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
)

// registerMetrics exports the components' own atomic counters; reading them
// at scrape time keeps Prometheus off the media path.
func registerMetrics(reg *prometheus.Registry, hub *media.Hub, ts *transcode.Stats, rs *rtmp.Server) {
	st := &hub.Stats
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		gauge("publishers", "Streams with a publisher now.", func() float64 { return float64(st.Publishers.Load()) }),
		gauge("subscribers", "Subscriptions now.", func() float64 { return float64(st.Subscribers.Load()) }),
		gauge("transcoders", "Hub transcoders running now, one per (stream, target codec).", func() float64 { return float64(ts.Transcoders.Load()) }),
		gauge("transcode_remote_variants", "Variants played here that the publisher's node transcodes (cluster): no transcoder here.", func() float64 { return float64(ts.RemoteVariants.Load()) }),
		counter("hub_transcoded_frames_total", "Audio frames the hub's transcoders decoded and encoded again.", func() float64 { return float64(ts.TranscodedFrames.Load()) }),
		counter("hub_passthrough_frames_total", "Audio frames the hub's transcoders forwarded untouched (already in the target codec).", func() float64 { return float64(ts.PassedThroughFrames.Load()) }),
		counter("hub_fec_recovered_frames_total", "Lost input frames the hub's transcoders decoded from the next packet's in-band FEC (Opus; libopus conceals when that packet carries none).", func() float64 { return float64(ts.RecoveredFrames.Load()) }),
		counter("hub_concealed_frames_total", "Lost input frames the hub's transcoders filled with the decoder's packet-loss concealment.", func() float64 { return float64(ts.ConcealedFrames.Load()) }),
		counter("hub_frames_in_total", "Frames written by publishers.", func() float64 { return float64(st.FramesIn.Load()) }),
		counter("hub_frames_out_total", "Frames queued to subscribers.", func() float64 { return float64(st.FramesOut.Load()) }),
		counter("hub_bytes_in_total", "Payload bytes written by publishers.", func() float64 { return float64(st.BytesIn.Load()) }),
		counter("hub_dropped_frames_total", "Frames slow subscribers lost.", func() float64 { return float64(st.DroppedFrame.Load()) }),
	)
	rs.RegisterMetrics(reg)
}

// registerCallMetrics exports the call service's peer-to-peer counters
// (flashvox_calls_*); the rendezvous behind them is flashvox_rtmfp_*.
func registerCallMetrics(reg *prometheus.Registry, st *call.Stats) {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Subsystem: "calls", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		counter("p2p_total", "Calls answered peer to peer (both parties on RTMFP with peer IDs, or two web pages over WebRTC; not under the no-p2p policy).", func() float64 { return float64(st.P2PCalls.Load()) }),
		counter("p2p_fallbacks_total", "Peer-to-peer calls switched to relay because a party could not reach the other (p2pFailed, or a page's media relay).", func() float64 { return float64(st.P2PFallbacks.Load()) }),
	)
}

// registerConferenceMetrics exports the room service's counters
// (flashvox_conference_*).
func registerConferenceMetrics(reg *prometheus.Registry, st *conference.Stats) {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: "flashvox", Subsystem: "conference", Name: name, Help: help}
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts(name, help)), f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts(opts(name, help)), f)
	}
	reg.MustRegister(
		gauge("rooms", "Conference rooms now.", func() float64 { return float64(st.Rooms.Load()) }),
		gauge("participants", "Members of conference rooms now, relay and mixed.", func() float64 { return float64(st.Members.Load()) }),
		counter("mixes_total", "Room-frames (20 ms of a mixed room) mixed.", func() float64 { return float64(st.Mixes.Load()) }),
		counter("mixer_skipped_frames_total", "Room-frames not mixed because the mixer fell behind (CPU starved); members heard a gap.", func() float64 { return float64(st.Skipped.Load()) }),
		counter("input_underruns_total", "Mixes where a talking member's buffered audio ran dry.", func() float64 { return float64(st.Underruns.Load()) }),
		counter("input_late_frames_total", "Member audio frames dropped as late or beyond the jitter buffer.", func() float64 { return float64(st.Late.Load()) }),
		counter("input_fec_recovered_frames_total", "Member audio frames lost on the way and decoded from the next packet's in-band FEC (Opus; libopus conceals when that packet carries none).", func() float64 { return float64(st.Recovered.Load()) }),
		counter("input_concealed_frames_total", "Member audio frames lost on the way and filled with the decoder's packet-loss concealment.", func() float64 { return float64(st.Concealed.Load()) }),
		counter("record_errors_total", "Room recording files that could not be created or written (full disk, directory not writable), retries every 3 s included.", func() float64 { return float64(st.RecordErrors.Load()) }),
		counter("moves_refused_total", "Cluster notices that a room's node gave the room up which that node did not confirm (forged or stale); nothing moved.", func() float64 { return float64(st.MovesRefused.Load()) }),
	)
}

// registerHTTPMetrics exports the HTTP listener's connection counts.
func registerHTTPMetrics(reg *prometheus.Registry, st *connlimit.Stats) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Subsystem: "http", Name: "connections", Help: "HTTP connections open now."},
			func() float64 { return float64(st.Open.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Subsystem: "http", Name: "connections_refused_total", Help: "HTTP connections closed at accept by http.max_connections or http.max_connections_per_ip."},
			func() float64 { return float64(st.Refused.Load()) }),
	)
}

// registerAccessMetrics exports the session layer's access decisions:
// refused transcoding and refused stream policies.
func registerAccessMetrics(reg *prometheus.Registry, st *session.Stats) {
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		counter("transcode_refused_total", "Plays with ?codec= refused: the application's transcode policy or the rtmp.max_transcoders budget.", func() float64 { return float64(st.TranscodeRefused.Load()) }),
		counter("access_refused_total", "Publishes and plays refused by a live application's policy (token, key, deny).", func() float64 { return float64(st.AccessRefused.Load()) }),
	)
}

// refusalCollector exports a ratelog.Limiter's totals, one series per
// cause, read at scrape time.
type refusalCollector struct {
	desc *prometheus.Desc
	l    *ratelog.Limiter
}

// Describe sends the one descriptor (prometheus.Collector).
func (c refusalCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect sends a counter per cause seen (prometheus.Collector).
func (c refusalCollector) Collect(ch chan<- prometheus.Metric) {
	for cause, n := range c.l.Totals() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), cause)
	}
}
