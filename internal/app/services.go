package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/hooks"
	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/rtmpt"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/throttle"
	"github.com/flashvox/flashvox/web"
)

// services are the long-lived parts behind the listeners.
type services struct {
	hub   *media.Hub
	rtmp  *rtmp.Server
	calls *call.Service
	auth  *account.Auth
	mux   *http.ServeMux // routes beside /healthz and /metrics: the /api/v1 signalling API and the RTMPT tunnel
	// tunnel serves RTMPT on the HTTP listener, rtmp.rtmpt_listen and (RTMPTS) rtmp.rtmpts_listen.
	tunnel *rtmpt.Tunnel
	// certs is the RTMPS/RTMPTS certificate, nil without rtmp.tls_cert.
	certs *tlscert.Reloader
	sip   *sipbridge.Bridge // the SIP user agent on sip.listen
	confs *conference.Service
	// guard slows guessing: every credential check of every transport
	// (passwords, tokens, SIP digests, conference PINs) goes through it.
	guard *throttle.Throttle

	// httpCerts is the certificate of http.tls_listen, nil without http.tls_cert.
	httpCerts *tlscert.Reloader
}

func newServices(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry) (*services, error) {
	hub := media.NewHub(cfg.RTMP.SubscriberQueue, logger.With("component", "hub"))
	tc := newTranscoder(hub, logger)
	names := make([]string, 0, len(cfg.Users))
	for _, u := range cfg.Users {
		names = append(names, u.Name)
	}
	auth := newAuth(cfg, logger)
	// guard slows the guessing of every credential check (docs/SECURITY.md).
	guard := throttle.New(throttle.Options{Logger: logger.With("component", "auth")})
	registerAuthMetrics(reg, guard, auth)
	callLog := logger.With("component", "call")
	calls := call.NewService(call.Options{
		RingTimeout:         cfg.Call.RingTimeout,
		EventsPerUser:       cfg.Call.EventsPerUser,
		HTTPPresenceTimeout: cfg.Call.HTTPPresenceTimeout,
		NoP2P:               cfg.Call.NoP2P,
		DisableP2P:          !cfg.Call.P2P,
		Logger:              callLog,
	}, names...)
	registerCallMetrics(reg, calls.Stats())
	confs := newConferences(cfg.Conference, hub, calls, guard, logger)
	registerConferenceMetrics(reg, &confs.Stats)
	mux := http.NewServeMux()
	(&web.API{Calls: calls, Auth: auth, Guard: guard, Logger: logger.With("component", "api"), Conferences: confs}).Register(mux)
	(&web.Pages{SWF: swfPath()}).Register(mux)
	apps, transcode := newApps(cfg, appDeps{calls: calls, auth: auth, confs: confs, guard: guard, log: callLog}, logger)
	sessionStats := &session.Stats{}
	sessionLog := logger.With("component", "session")
	refusals := ratelog.New(ratelog.Options{Logger: sessionLog})
	rs := &rtmp.Server{
		Config: rtmp.ConnConfig{
			ChunkSize:        cfg.RTMP.ChunkSize,
			MaxMessageSize:   cfg.RTMP.MaxMessageSize,
			MaxChunkStreams:  cfg.RTMP.MaxChunkStreams,
			PreConnectBuffer: cfg.RTMP.PreConnectBuffer,
			MaxBuffered:      cfg.RTMP.MaxBuffered,
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
			Hub:            hub,
			Transcoder:     tc,
			MaxStreams:     cfg.RTMP.MaxStreamsPerConnection,
			Logger:         sessionLog,
			Refusals:       refusals,
			Hooks:          newHooks(cfg.Hooks, logger),
			Apps:           apps,
			Transcode:      transcode,
			MaxTranscoders: maxTranscoders(cfg.RTMP.MaxTranscoders),
			Stats:          sessionStats,
		}},
	}
	registerMetrics(reg, hub, &tc.Stats, rs)
	registerAccessMetrics(reg, sessionStats)
	reg.MustRegister(refusalCollector{desc: prometheus.NewDesc("flashvox_session_refusals_total",
		"Refusals a client can repeat at will, by cause (connect, publish, publish_in_use, command, max_streams, shared_object); logged one line per cause a minute.",
		[]string{"cause"}, nil), l: refusals})
	var certs *tlscert.Reloader
	if cfg.RTMP.TLSCert != "" {
		var err error
		if certs, err = tlscert.NewReloader(cfg.RTMP.TLSCert, cfg.RTMP.TLSKey); err != nil {
			return nil, fmt.Errorf("rtmp.tls_cert: %w", err)
		}
	}
	var httpCerts *tlscert.Reloader
	if cfg.HTTP.TLSCert != "" {
		var err error
		if httpCerts, err = tlscert.NewReloader(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey); err != nil {
			return nil, fmt.Errorf("http.tls_cert: %w", err)
		}
	}
	tunnel := rtmpt.New(rs, rtmpt.Options{
		MaxSessions:      cfg.RTMP.RTMPTMaxSessions,
		MaxSessionsPerIP: cfg.RTMP.RTMPTMaxSessionsPerIP,
		IdleTimeout:      cfg.RTMP.RTMPTIdleTimeout,
		Logger:           logger.With("component", "rtmpt"),
	})
	tunnel.Register(mux)
	tunnel.RegisterMetrics(reg)
	sip, err := startSIP(cfg, logger, reg, hub, tc, calls, auth, guard)
	if err != nil {
		tunnel.Close()
		return nil, err
	}
	sip.SetConferences(sipConferences(confs))
	confs.SetNumberDialer(sipDialer(sip))
	return &services{hub: hub, rtmp: rs, calls: calls, auth: auth, mux: mux, tunnel: tunnel, certs: certs, httpCerts: httpCerts, sip: sip, confs: confs, guard: guard}, nil
}

// newHooks returns the HTTP hooks of hooks:, or nil when all are off (a nil
// *hooks.Client in the interface would still be called).
func newHooks(h config.Hooks, logger *slog.Logger) session.Hooks {
	o := hooks.Options{OnConnect: h.OnConnect, OnPublish: h.OnPublish, OnPlay: h.OnPlay,
		Timeout: h.Timeout, Logger: logger.With("component", "hooks")}
	if !o.Enabled() {
		return nil
	}
	return hooks.New(o)
}

// close ends every tunnel session and every call (the parties get bye with
// reason shutdown).
func (s *services) close() {
	s.tunnel.Close()
	s.confs.Close()
	s.calls.Close()
	s.sip.Close()
}

// shutdownNotice bounds how long a stopping server waits for its clients
// to be told that their calls ended (reason shutdown).
const shutdownNotice = time.Second

// endCalls ends every room and call with reason shutdown while the
// connections are still open, and waits (at most shutdownNotice) until the
// pushing transports have told their clients; closing the connections
// first would end the calls as "gone".
func (s *services) endCalls(log *slog.Logger) {
	s.confs.Close()
	s.calls.Close()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownNotice)
	defer cancel()
	if err := s.calls.Flush(ctx); err != nil {
		log.Warn("shutdown: not every client heard that its calls ended", "err", err)
	}
}

// serveRTMPS serves RTMP over TLS on ln.
func (s *services) serveRTMPS(ctx context.Context, ln net.Listener) error {
	return s.rtmp.Serve(ctx, tls.NewListener(ln, s.certs.Config()))
}

// serveRTMPT serves the tunnel alone on ln (rtmp.rtmpt_listen).
func (s *services) serveRTMPT(ctx context.Context, ln net.Listener) error {
	return s.tunnel.Serve(ctx, ln)
}

// serveRTMPTS serves the tunnel over HTTPS on ln (rtmp.rtmpts_listen).
func (s *services) serveRTMPTS(ctx context.Context, ln net.Listener) error {
	return s.tunnel.Serve(ctx, tls.NewListener(ln, s.certs.Config()))
}

// reloadCerts reads the TLS pairs (RTMPS/RTMPTS, HTTPS) again on every
// SIGHUP until ctx ends; a bad pair is logged and the old one kept.
func (s *services) reloadCerts(ctx context.Context, log *slog.Logger) {
	pairs := map[string]*tlscert.Reloader{}
	if s.certs != nil {
		pairs["rtmp.tls_cert"] = s.certs
	}
	if s.httpCerts != nil {
		pairs["http.tls_cert"] = s.httpCerts
	}
	if len(pairs) == 0 {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				for key, r := range pairs {
					if err := r.Reload(); err != nil {
						log.Error("tls certificate reload failed, keeping the old one", "key", key, "err", err)
					} else {
						log.Info("tls certificate reloaded", "key", key)
					}
				}
			}
		}
	}()
}

func (s *services) serveRTMP(ctx context.Context, ln net.Listener) error {
	return s.rtmp.Serve(ctx, ln)
}
