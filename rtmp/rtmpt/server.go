package rtmpt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Timeouts of a dedicated tunnel listener. Tunnel requests are small and
// answered within Hold (or SendWait), so these are tight: a slow client
// (slowloris) loses its request, not the server's goroutines.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 8 << 10
)

// Serve answers tunnel requests on ln (a plain listener for RTMPT, a TLS one
// for RTMPTS) until ctx ends, then shuts the HTTP server down. Everything
// else on ln gets 404. Sessions outlive Serve; Close ends them.
func (t *Tunnel) Serve(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	t.Register(mux)
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(t.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("rtmpt: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("rtmpt: serve: %w", err)
	}
	return nil
}
