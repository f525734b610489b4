package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/rtmfp"
	"github.com/flashvox/flashvox/rtmfp/wire"
)

// rtmfpService is the RTMFP server, on the session handler RTMP's connections
// use (same hub, same applications).
type rtmfpService struct {
	srv *rtmfp.Server
	pc  *net.UDPConn
	up  atomic.Bool
}

// newRTMFP binds rtmfp.listen (UDP) when rtmfp.enabled; nil when off.
func newRTMFP(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry, svc *services) (*rtmfpService, error) {
	r := cfg.RTMFP
	if !r.Enabled {
		return nil, nil
	}
	var id *wire.Identity
	if r.IdentityFile != "" {
		var err error
		if id, err = wire.LoadIdentity(r.IdentityFile, true); err != nil {
			return nil, fmt.Errorf("rtmfp.identity_file: %w", err)
		}
	}
	redirect, err := r.RedirectAddrs()
	if err != nil {
		return nil, err
	}
	ua, err := net.ResolveUDPAddr("udp", r.Listen)
	if err != nil {
		return nil, fmt.Errorf("rtmfp: listen %s: %w", r.Listen, err)
	}
	pc, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("rtmfp: listen %s: %w", r.Listen, err)
	}
	var introduce func(initiator, target string) bool
	if r.Rendezvous == "calls" {
		introduce = svc.calls.P2PPeers
	}
	srv := &rtmfp.Server{
		Config: rtmfp.Config{
			MaxSessions: r.MaxSessions, MaxSessionsPerIP: r.MaxSessionsPerIP, HandshakesPerSecond: r.HandshakesPerSecond,
			MaxFlows: r.MaxFlowsPerSession, FlowBuffer: r.FlowBuffer, SessionBuffer: r.SessionBuffer, PreConnectBuffer: r.PreConnectBuffer, SendQueue: r.SendQueue,
			IdleTimeout: r.IdleTimeout, Keepalive: r.Keepalive, AudioLifetime: r.AudioLifetime,
			CongestionDelay: congestionDelay(r),
			Policy:          wire.Policy{RequireHMAC: r.RequireHMAC, RequireSeq: r.RequireSequence},
			RedirectServers: redirect,
			Introduce:       introduce,
			Place:           rtmfpPlace(svc.cluster), // cluster_place.go
			Identity:        id,
			Logger:          logger.With("component", "rtmfp"),
		},
		Handler: rtmfpSessions(svc.sessions),
	}
	registerRTMFPMetrics(reg, srv.Stats())
	if svc.clusterPeers != nil {
		svc.clusterPeers.rtmfp.Store(srv.Stats()) // its sessions count in the cluster's load
	}
	return &rtmfpService{srv: srv, pc: pc}, nil
}

func (s *rtmfpService) serve(ctx context.Context) error {
	s.up.Store(true)
	defer s.up.Store(false)
	err := s.srv.Serve(ctx, s.pc)
	if errors.Is(err, rtmfp.ErrServerClosed) {
		return nil
	}
	return err
}

func (s *rtmfpService) health() error {
	if !s.up.Load() {
		return errors.New("rtmfp listener is not serving")
	}
	return nil
}

func registerRTMFPMetrics(reg *prometheus.Registry, st *rtmfp.Stats) {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Subsystem: "rtmfp", Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Subsystem: "rtmfp", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		gauge("sessions", "Open RTMFP sessions.", func() float64 { return float64(st.Sessions.Load()) }),
		counter("handshakes_ok_total", "Completed RTMFP handshakes.", func() float64 { return float64(st.HandshakesOK.Load()) }),
		counter("handshakes_refused_total", "RTMFP hellos and keyings refused (rate, limits, bad cookie or keys).", func() float64 { return float64(st.HandshakesRefused.Load()) }),
		counter("malformed_total", "RTMFP datagrams dropped as malformed or undecryptable.", func() float64 { return float64(st.Malformed.Load()) }),
		counter("retransmissions_total", "RTMFP fragments sent again.", func() float64 { return float64(st.Retransmissions.Load()) }),
		counter("abandoned_total", "RTMFP fragments abandoned past their lifetime.", func() float64 { return float64(st.Abandoned.Load()) }),
		counter("delay_backoffs_total", "RTMFP congestion windows cut because the RTT rose (rtmfp.delay_cc).", func() float64 { return float64(st.DelayBackoffs.Load()) }),
		counter("bytes_in_total", "RTMFP datagram bytes received.", func() float64 { return float64(st.BytesIn.Load()) }),
		counter("bytes_out_total", "RTMFP datagram bytes sent.", func() float64 { return float64(st.BytesOut.Load()) }),
		counter("introductions_total", "IHellos for a client's peer ID answered with a redirect (rendezvous).", func() float64 { return float64(st.Introductions.Load()) }),
		counter("unknown_peers_total", "IHellos for peer IDs with no open session here (silence or a redirect to other servers).", func() float64 { return float64(st.UnknownPeers.Load()) }),
		counter("introductions_refused_total", "IHellos for peer IDs over a rendezvous rate limit.", func() float64 { return float64(st.IntroductionsRefused.Load()) }),
		counter("placed_total", "Handshakes redirected to a less loaded cluster node (cluster.redirect_above).", func() float64 { return float64(st.Placed.Load()) }),
		gauge("rtt_seconds", "Latest smoothed round-trip time of an RTMFP session.", func() float64 { return float64(st.Snapshot().RTTNanos) / 1e9 }),
	)
}

// congestionDelay is rtmfp.congestion_delay when rtmfp.delay_cc is on, 0
// (delay-based congestion detection off) otherwise.
func congestionDelay(r config.RTMFP) time.Duration {
	if !r.DelayCC {
		return 0
	}
	return r.CongestionDelay
}
