package rtmp

import "github.com/prometheus/client_golang/prometheus"

// RegisterMetrics registers collectors that read Stats at scrape time, so
// nothing on the message path touches Prometheus.
func (s *Server) RegisterMetrics(reg prometheus.Registerer) {
	type metric struct {
		name, help string
		gauge      bool
		get        func(ServerStats) float64
	}
	ms := []metric{
		{"rtmp_connections", "RTMP connections open now.", true, func(st ServerStats) float64 { return float64(st.Active) }},
		{"rtmp_connections_accepted_total", "RTMP TCP connections accepted.", false, func(st ServerStats) float64 { return float64(st.Accepted) }},
		{"rtmp_connections_rejected_total", "RTMP connections closed by max_conns or max_conns_per_ip.", false, func(st ServerStats) float64 { return float64(st.Rejected) }},
		{"rtmp_handshake_failures_total", "RTMP handshakes that failed or timed out.", false, func(st ServerStats) float64 { return float64(st.HandshakeFailures) }},
		{"rtmp_connections_limited_total", "RTMP connections closed for going over rtmp.max_buffered/preconnect_buffer, max_chunk_streams or max_message_size.", false, func(st ServerStats) float64 { return float64(st.Limited) }},
		{"rtmp_bytes_in_total", "Bytes received on RTMP connections after the handshake.", false, func(st ServerStats) float64 { return float64(st.BytesIn) }},
		{"rtmp_bytes_out_total", "Bytes sent on RTMP connections after the handshake.", false, func(st ServerStats) float64 { return float64(st.BytesOut) }},
		{"rtmp_messages_in_total", "RTMP messages received.", false, func(st ServerStats) float64 { return float64(st.MessagesIn) }},
		{"rtmp_messages_out_total", "RTMP messages sent.", false, func(st ServerStats) float64 { return float64(st.MessagesOut) }},
		{"rtmp_dropped_messages_total", "Media messages dropped by full write queues.", false, func(st ServerStats) float64 { return float64(st.Dropped) }},
	}
	for _, tr := range Transports {
		labels := prometheus.Labels{"transport": tr}
		get := func(f func(TransportStats) float64) func() float64 {
			return func() float64 { return f(s.Stats().ByTransport[tr]) }
		}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Name: "rtmp_transport_connections", Help: "RTMP connections open now after the handshake, by transport.", ConstLabels: labels},
				get(func(ts TransportStats) float64 { return float64(ts.Active) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: "rtmp_transport_connections_total", Help: "RTMP handshakes completed, by transport.", ConstLabels: labels},
				get(func(ts TransportStats) float64 { return float64(ts.Served) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: "rtmp_transport_bytes_in_total", Help: "Bytes received after the handshake, by transport.", ConstLabels: labels},
				get(func(ts TransportStats) float64 { return float64(ts.BytesIn) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: "rtmp_transport_bytes_out_total", Help: "Bytes sent after the handshake, by transport.", ConstLabels: labels},
				get(func(ts TransportStats) float64 { return float64(ts.BytesOut) })),
		)
	}
	for _, m := range ms {
		f := func() float64 { return m.get(s.Stats()) }
		if m.gauge {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Name: m.name, Help: m.help}, f))
		} else {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: m.name, Help: m.help}, f))
		}
	}
}
