package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/phoneapp"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/web"
)

// services are the long-lived parts behind the listeners.
type services struct {
	hub   *media.Hub
	rtmp  *rtmp.Server
	calls *call.Service
	mux   *http.ServeMux // routes beside /healthz and /metrics: the /api/v1 signalling API
}

func newServices(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry) (*services, error) {
	hub := media.NewHub(cfg.RTMP.SubscriberQueue, logger.With("component", "hub"))
	users := map[string]string{}
	names := make([]string, 0, len(cfg.Users))
	for _, u := range cfg.Users {
		users[u.Name] = u.Password
		names = append(names, u.Name)
	}
	auth := call.NewAuth(call.AuthOptions{Users: users, Secret: []byte(cfg.Auth.Secret), TTL: cfg.Auth.TokenTTL})
	callLog := logger.With("component", "call")
	calls := call.NewService(call.Options{
		RingTimeout:         cfg.Call.RingTimeout,
		EventsPerUser:       cfg.Call.EventsPerUser,
		HTTPPresenceTimeout: cfg.Call.HTTPPresenceTimeout,
		Logger:              callLog,
	}, names...)
	mux := http.NewServeMux()
	(&web.API{Calls: calls, Auth: auth, Logger: logger.With("component", "api")}).Register(mux)
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
			Apps: map[string]session.App{
				phoneapp.Name: &phoneapp.App{Calls: calls, Auth: auth, Logger: callLog},
			},
		}},
	}
	registerMetrics(reg, hub, rs)
	return &services{hub: hub, rtmp: rs, calls: calls, mux: mux}, nil
}

// close ends every call (the parties get bye with reason shutdown).
func (s *services) close() { s.calls.Close() }

func (s *services) serveRTMP(ctx context.Context, ln net.Listener) error {
	return s.rtmp.Serve(ctx, ln)
}
