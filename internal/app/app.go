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
// them fails. A SIGHUP reloads the TLS certificates.
func Run(ctx context.Context, cfg *config.Config, logger *slog.Logger, version string) error {
	return RunReloadable(ctx, cfg, nil, logger, version)
}

// RunReloadable is Run where a SIGHUP also reads the configuration again
// with load and applies its users, dial plan, inbound numbers and trunks
// (reload.go) without dropping calls.
func RunReloadable(ctx context.Context, cfg *config.Config, load Loader, logger *slog.Logger, version string) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	checkFDs(cfg, logger)
	memCtx, stopMem := context.WithCancel(ctx)
	defer stopMem()
	go newMemoryReturner(reg, logger).run(memCtx)
	srv, err := newServices(cfg, logger, reg)
	if err != nil {
		return err
	}
	defer srv.close()
	srv.serveLive(memCtx) // the dashboard's sampling (admin.go), until Run returns
	lns := &listeners{log: logger}
	defer lns.close()
	checks := map[string]web.Health{}
	ws := &web.Server{Registry: reg, Checks: checks, Logger: logger.With("component", "http"), Mux: srv.mux,
		MaxConns: cfg.HTTP.MaxConnections, MaxConnsPerIP: cfg.HTTP.MaxConnectionsPerIP}
	ws.Wrap = srv.wrapHTTP // WHIP/WHEP (webrtc.go)
	registerHTTPMetrics(reg, &ws.Conns)
	if err := lns.openTCP(cfg, srv, ws); err != nil {
		return err
	}
	rt, err := newRTMFP(cfg, logger, reg, srv)
	if err != nil {
		return err
	}
	if rt != nil {
		defer rt.pc.Close() // harmless after Serve closed it
		checks["rtmfp"] = rt.health
	}
	for _, c := range lns.comps {
		checks[c.name] = c.health
	}
	srv.reloadCfg, srv.load = cfg, load
	return serve(ctx, lns.comps, rt, srv, logger, version)
}

// listeners are the TCP listeners Run opened, every one before any serves
// (a busy port fails the start); close closes them all.
type listeners struct {
	comps []*component
	log   *slog.Logger
}

func (l *listeners) listen(name, addr string, serve func(context.Context, net.Listener) error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen %s: %w", name, addr, err)
	}
	l.comps = append(l.comps, &component{name: name, ln: ln, serve: serve})
	l.log.Info("listening", "component", name, "addr", ln.Addr().String())
	return nil
}

func (l *listeners) close() {
	for _, c := range l.comps {
		_ = c.ln.Close() // harmless after Serve closed it
	}
}

// openTCP opens the RTMP and HTTP listeners and those of RTMPS, RTMPT,
// RTMPTS and HTTPS that are configured.
func (l *listeners) openTCP(cfg *config.Config, srv *services, ws *web.Server) error {
	serveTLS := func(ctx context.Context, ln net.Listener) error { // the same routes over TLS
		return ws.Serve(ctx, tls.NewListener(ln, srv.httpCerts.Config()))
	}
	for _, c := range []struct {
		name, addr string
		serve      func(context.Context, net.Listener) error
	}{
		{"rtmp", cfg.RTMP.Listen, srv.serveRTMP},
		{"rtmps", cfg.RTMP.TLSListen, srv.serveRTMPS},
		{"rtmpt", cfg.RTMP.RTMPTListen, srv.serveRTMPT},
		{"rtmpts", cfg.RTMP.RTMPTSListen, srv.serveRTMPTS},
		{"http", cfg.HTTP.Listen, ws.Serve},
		{"https", cfg.HTTP.TLSListen, serveTLS},
	} {
		if c.addr == "" { // off (config requires rtmp.listen and http.listen)
			continue
		}
		if err := l.listen(c.name, c.addr, c.serve); err != nil {
			return err
		}
	}
	return nil
}

// serve runs the components until stop ends or one of them fails. The
// components stop when serve says so, not when stop ends: first the calls
// end with reason shutdown over the still open connections.
func serve(stop context.Context, comps []*component, rt *rtmfpService, srv *services, logger *slog.Logger, version string) error {
	ctx, cancel := context.WithCancel(context.WithoutCancel(stop))
	defer cancel()
	srv.reloadOnHUP(ctx, srv.reloadCfg, srv.load, logger) // reload.go
	var wg sync.WaitGroup
	errc := make(chan error, len(comps)+2) // + rtmfp, cluster
	if rt != nil {
		wg.Go(func() {
			if err := rt.serve(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("rtmfp: %w", err)
			}
		})
	}
	// The tunnel's sessions end with ctx, like the RTMP server's conns.
	wg.Go(func() { _ = srv.tunnel.Serve(ctx) })
	if srv.cluster != nil {
		wg.Go(func() {
			if err := srv.cluster.Serve(ctx); err != nil && ctx.Err() == nil {
				errc <- err
			}
		})
	}
	for _, c := range comps {
		wg.Go(func() {
			c.up.Store(true)
			err := c.serve(ctx, c.ln)
			c.up.Store(false)
			if err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", c.name, err)
			}
		})
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
