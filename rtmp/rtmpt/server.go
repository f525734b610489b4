package rtmpt

import (
	"context"
	"fmt"
	"github.com/flashvox/flashvox/internal/httpserve"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// limits of a dedicated tunnel listener. Tunnel requests are small and
// answered within Hold (or SendWait), so these are tight: a slow client
// (slowloris) loses its request, not the server's goroutines.
var limits = httpserve.Limits{
	ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: 15 * time.Second,
	Idle: 60 * time.Second, MaxHeaderBytes: 8 << 10, ShutdownGrace: 2 * time.Second,
}

// ServeListener answers tunnel requests on ln (a plain listener for RTMPT,
// a TLS one for RTMPTS) until ctx ends, then shuts the HTTP server down.
// Everything else on ln gets 404. Sessions outlive it: they end with Serve's
// ctx or Close.
func (t *Tunnel) ServeListener(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	t.Register(mux)
	if err := httpserve.Serve(ctx, ln, mux, limits, t.log, slog.LevelDebug); err != nil {
		return fmt.Errorf("rtmpt: serve: %w", err)
	}
	return nil
}
