package rtmpt

import "github.com/prometheus/client_golang/prometheus"

// RegisterMetrics registers collectors that read Stats at scrape time.
func (t *Tunnel) RegisterMetrics(reg prometheus.Registerer) {
	counter := func(name, help string, f func(Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: name, Help: help},
			func() float64 { return float64(f(t.Stats())) })
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Name: "rtmpt_sessions", Help: "RTMPT tunnel sessions open now."},
			func() float64 { return float64(t.Stats().Sessions) }),
		counter("rtmpt_sessions_opened_total", "RTMPT tunnel sessions opened.", func(s Stats) uint64 { return s.Opened }),
		counter("rtmpt_sessions_refused_total", "RTMPT opens refused by rtmp.rtmpt_max_sessions or rtmp.rtmpt_max_sessions_per_ip.", func(s Stats) uint64 { return s.Refused }),
		counter("rtmpt_requests_total", "RTMPT requests answered with 200.", func(s Stats) uint64 { return s.Requests }),
		counter("rtmpt_bad_requests_total", "RTMPT requests refused with an HTTP error.", func(s Stats) uint64 { return s.BadRequests }),
		counter("rtmpt_body_bytes_in_total", "RTMP bytes received in tunnel request bodies.", func(s Stats) uint64 { return s.BytesIn }),
		counter("rtmpt_body_bytes_out_total", "RTMP bytes sent in tunnel answers.", func(s Stats) uint64 { return s.BytesOut }),
	)
}
