package app

import (
	"context"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
)

// services are the long-lived parts behind the listeners.
type services struct {
	hub  *media.Hub
	rtmp *rtmp.Server
}

func newServices(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry) (*services, error) {
	hub := media.NewHub(cfg.RTMP.SubscriberQueue, logger.With("component", "hub"))
	rs := &rtmp.Server{
		Config: rtmp.ConnConfig{
			ChunkSize:        cfg.RTMP.ChunkSize,
			MaxMessageSize:   cfg.RTMP.MaxMessageSize,
			MaxChunkStreams:  cfg.RTMP.MaxChunkStreams,
			WriteQueue:       cfg.RTMP.WriteQueue,
			ReadTimeout:      cfg.RTMP.ReadTimeout,
			WriteTimeout:     cfg.RTMP.WriteTimeout,
			PingInterval:     cfg.RTMP.PingInterval,
			HandshakeTimeout: cfg.RTMP.HandshakeTimeout,
		},
		MaxConns:      cfg.RTMP.MaxConnections,
		MaxConnsPerIP: cfg.RTMP.MaxConnectionsPerIP,
		Logger:        logger.With("component", "rtmp"),
		Handler: &session.Handler{Options: session.Options{
			Hub:        hub,
			MaxStreams: cfg.RTMP.MaxStreamsPerConnection,
			Logger:     logger.With("component", "session"),
		}},
	}
	registerMetrics(reg, hub, rs)
	return &services{hub: hub, rtmp: rs}, nil
}

func (s *services) serveRTMP(ctx context.Context, ln net.Listener) error {
	return s.rtmp.Serve(ctx, ln)
}
