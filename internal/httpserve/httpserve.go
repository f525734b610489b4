// Package httpserve runs an http.Handler on a listener with bounded
// timeouts until a context ends, then shuts it down gracefully: the one
// lifecycle both the web listener and the RTMPT tunnel's own listeners use.
package httpserve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/flashvox/flashvox/internal/connlimit"
)

// Limits bound every connection of a server.
type Limits struct {
	ReadHeader, Read, Write, Idle time.Duration
	MaxHeaderBytes                int
	ShutdownGrace                 time.Duration // then open connections are closed
	// MaxConns and MaxConnsPerIP bound open connections in total and per
	// client address (0: no bound); beyond them a connection is closed at
	// accept and counted in Stats (internal/connlimit).
	MaxConns, MaxConnsPerIP int
	Stats                   *connlimit.Stats
}

// Serve answers on ln until ctx is done. Server errors are logged at
// errLevel. It returns nil after a graceful stop.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, lim Limits, log *slog.Logger, errLevel slog.Level) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeader,
		ReadTimeout:       lim.Read,
		WriteTimeout:      lim.Write,
		IdleTimeout:       lim.Idle,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), errLevel),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	if lim.MaxConns > 0 || lim.MaxConnsPerIP > 0 {
		ln = connlimit.Listen(ln, connlimit.Options{Max: lim.MaxConns, PerIP: lim.MaxConnsPerIP, Stats: lim.Stats})
	}
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), lim.ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
