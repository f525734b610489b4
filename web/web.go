// Package web serves flashvox's HTTP side: health, Prometheus metrics, and
// (in later work) the signalling and admin APIs and the client pages.
package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flashvox/flashvox/internal/connlimit"
	"github.com/flashvox/flashvox/internal/httpserve"
)

// limits of every HTTP connection; the API answers small JSON, so these are
// tight, and long-polls answer within Write. An idle keep-alive costs a
// descriptor, so it is dropped after 30 s (a page polls more often).
var limits = httpserve.Limits{
	ReadHeader: 5 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second,
	Idle: 30 * time.Second, MaxHeaderBytes: 16 << 10, ShutdownGrace: 3 * time.Second,
}

// Health reports whether one component is up; a nil error means healthy.
type Health func() error

// Server is the HTTP listener.
type Server struct {
	Registry *prometheus.Registry
	Checks   map[string]Health // component name -> check, all must pass for /healthz
	Logger   *slog.Logger
	Mux      *http.ServeMux // extra routes registered by other packages; may be nil
	// Wrap, when set, wraps the mux: for routes a ServeMux pattern cannot
	// express without conflicts (WHIP/WHEP's /APP/NAME/whip).
	Wrap func(http.Handler) http.Handler
	// MaxConns and MaxConnsPerIP bound open connections (http.max_connections,
	// http.max_connections_per_ip; 0: none); Conns counts them.
	MaxConns, MaxConnsPerIP int
	Conns                   connlimit.Stats

	once    sync.Once
	handler http.Handler
}

// Handler returns the routes. It registers them once, so one Server may
// serve several listeners (http.listen and http.tls_listen).
func (s *Server) Handler() http.Handler {
	s.once.Do(func() { s.handler = s.routes() })
	return s.handler
}

func (s *Server) routes() http.Handler {
	mux := s.Mux
	if mux == nil {
		mux = http.NewServeMux()
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn)}))
	if s.Wrap != nil {
		return s.Wrap(mux)
	}
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	status := map[string]string{}
	code := http.StatusOK
	for name, check := range s.Checks {
		if err := check(); err != nil {
			status[name] = err.Error()
			code = http.StatusServiceUnavailable
		} else {
			status[name] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

// Serve answers on ln until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	lim := limits
	lim.MaxConns, lim.MaxConnsPerIP, lim.Stats = s.MaxConns, s.MaxConnsPerIP, &s.Conns
	if err := httpserve.Serve(ctx, ln, s.Handler(), lim, s.Logger, slog.LevelWarn); err != nil {
		return fmt.Errorf("web: serve: %w", err)
	}
	return nil
}
