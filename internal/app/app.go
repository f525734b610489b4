// Package app wires the configured components into one running server and
// owns their lifecycle: open every listener first (so a busy port fails the
// start), serve until the context ends, then stop everything within 5 s.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/web"
)

// shutdownGrace bounds how long Run waits for components after the context ends.
const shutdownGrace = 5 * time.Second

// component is one listener-owning part of the server.
type component struct {
	name  string
	ln    net.Listener
	serve func(ctx context.Context, ln net.Listener) error
	up    atomic.Bool
}

func (c *component) health() error {
	if !c.up.Load() {
		return fmt.Errorf("%s listener is not serving", c.name)
	}
	return nil
}

// Run starts every component from cfg and blocks until ctx is done or one of
// them fails.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger, version string) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var comps []*component
	defer func() {
		for _, c := range comps {
			_ = c.ln.Close() // harmless after Serve closed it
		}
	}()
	listen := func(name, addr string, serve func(context.Context, net.Listener) error) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s: listen %s: %w", name, addr, err)
		}
		comps = append(comps, &component{name: name, ln: ln, serve: serve})
		logger.Info("listening", "component", name, "addr", ln.Addr().String())
		return nil
	}

	checkFDs(cfg, logger)
	srv, err := newServices(cfg, logger, reg)
	if err != nil {
		return err
	}
	defer srv.close()
	if err := listen("rtmp", cfg.RTMP.Listen, srv.serveRTMP); err != nil {
		return err
	}
	for _, l := range []struct {
		name, addr string
		serve      func(context.Context, net.Listener) error
	}{
		{"rtmps", cfg.RTMP.TLSListen, srv.serveRTMPS},
		{"rtmpt", cfg.RTMP.RTMPTListen, srv.serveRTMPT},
		{"rtmpts", cfg.RTMP.RTMPTSListen, srv.serveRTMPTS},
	} {
		if l.addr == "" {
			continue
		}
		if err := listen(l.name, l.addr, l.serve); err != nil {
			return err
		}
	}
	rt, err := newRTMFP(cfg, logger, reg, srv)
	if err != nil {
		return err
	}
	if rt != nil {
		defer rt.pc.Close() // harmless after Serve closed it
	}
	checks := map[string]web.Health{}
	ws := &web.Server{Registry: reg, Checks: checks, Logger: logger.With("component", "http"), Mux: srv.mux,
		MaxConns: cfg.HTTP.MaxConnections, MaxConnsPerIP: cfg.HTTP.MaxConnectionsPerIP}
	registerHTTPMetrics(reg, &ws.Conns)
	if err := listen("http", cfg.HTTP.Listen, ws.Serve); err != nil {
		return err
	}
	if cfg.HTTP.TLSListen != "" {
		// The same routes (page, API, RTMPT, /healthz, /metrics) over TLS.
		serveTLS := func(ctx context.Context, ln net.Listener) error {
			return ws.Serve(ctx, tls.NewListener(ln, srv.httpCerts.Config()))
		}
		if err := listen("https", cfg.HTTP.TLSListen, serveTLS); err != nil {
			return err
		}
	}
	for _, c := range comps {
		checks[c.name] = c.health
	}
	if rt != nil {
		checks["rtmfp"] = rt.health
	}

	// The components stop when Run says so, not when ctx ends: first the
	// calls end with reason shutdown over the still open connections.
	stop := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	srv.reloadCerts(ctx, logger)
	var wg sync.WaitGroup
	errc := make(chan error, len(comps)+1)
	if rt != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.serve(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("rtmfp: %w", err)
			}
		}()
	}
	for _, c := range comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.up.Store(true)
			err := c.serve(ctx, c.ln)
			c.up.Store(false)
			if err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", c.name, err)
			}
		}()
	}
	logger.Info("flashvox started", "version", version)

	var runErr error
	select {
	case <-stop.Done():
	case runErr = <-errc:
	}
	srv.endCalls(logger)
	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		runErr = errors.Join(runErr, errors.New("app: components did not stop within 5s"))
	}
	return runErr
}
