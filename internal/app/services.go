package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/call"
	"github.com/flashvox/flashvox/cluster"
	"github.com/flashvox/flashvox/conference"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/hooks"
	"github.com/flashvox/flashvox/internal/ratelog"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/rtmp"
	"github.com/flashvox/flashvox/rtmp/rtmpt"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/store"
	"github.com/flashvox/flashvox/throttle"
	"github.com/flashvox/flashvox/web"
	"github.com/flashvox/flashvox/webrtc"
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
	// rtc serves WHIP/WHEP on the HTTP mux; nil with webrtc.enabled false.
	rtc   *webrtc.Server
	confs *conference.Service
	// guard slows guessing: every credential check of every transport
	// (passwords, tokens, SIP digests, conference PINs) goes through it.
	guard *throttle.Throttle

	// httpCerts is the certificate of http.tls_listen, nil without http.tls_cert.
	httpCerts *tlscert.Reloader
	// sipCerts is the certificate of sip.tls_listen, nil without it.
	sipCerts *tlscert.Reloader

	// sessions serves the connections of every transport (transports.go
	// adapts RTMP's and RTMFP's).
	sessions *session.Handler

	// store keeps accounts, the token secret, registrations and CDRs; nil
	// without data_dir and database.url (store.go).
	store *store.DB
	cdrs  *cdrWriter // writes a record of every ended call; nil without a store
	// recheck stops the look-up of disabled accounts' sessions (store.go).
	recheck func()
	// live is the operator dashboard's view (admin.go); nil without a store.
	live *web.Live
	// users are the users: list's accounts without a store (nil with
	// one); a SIGHUP replaces them (reload.go).
	users *configDirectory
	// reloadCfg is the configuration Run started with, load what reads it
	// again on SIGHUP (nil: certificates only).
	reloadCfg *config.Config
	load      Loader
	// cluster is this node's membership (cluster.go); nil with cluster.enabled off.
	cluster *cluster.Cluster
	// clusterPeers is what the cluster's heartbeats read (cluster.go).
	clusterPeers *clusterPeers
}

func newServices(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry) (*services, error) {
	// Certificates first: a bad pair refuses the start before the SIP
	// bridge (startSignalling) listens.
	certs, httpCerts, err := loadCerts(cfg)
	if err != nil {
		return nil, err
	}
	sipCerts, err := loadSIPCert(cfg.SIP)
	if err != nil {
		return nil, err
	}
	// The store (store.go): accounts, token secret, registrations, CDRs.
	db, err := openStore(cfg, logger)
	if err != nil {
		return nil, err
	}
	hub := media.NewHub(cfg.RTMP.SubscriberQueue, logger.With("component", "hub"))
	tc := newTranscoder(hub, logger) // before anything publishes: it follows streams from their first frame
	names, err := userNames(db, cfg)
	if err != nil {
		return nil, closeStore(db, err)
	}
	auth, users, err := newAuth(cfg, logger, db)
	if err != nil {
		return nil, closeStore(db, err)
	}
	// guard slows the guessing of every credential check (docs/SECURITY.md).
	guard := throttle.New(throttle.Options{Logger: logger.With("component", "auth")})
	registerAuthMetrics(reg, guard, auth)
	callLog := logger.With("component", "call")
	var meter *streamMeter
	if db != nil { // bytes and codecs of relayed calls, for their records (cdr_meter.go)
		meter = newStreamMeter(hub, call.DefaultStreamPrefix) // conference members' keys are expected one by one
	}
	rec, err := startCallRecorder(cfg, hub, logger.With("component", "callrec")) // call.record (callrec.go)
	if err != nil {
		return nil, closeStore(db, err)
	}
	cdrs := newCDRWriter(db, meter, rec, logger.With("component", "cdr")) // CDRs of ended calls (cdr.go)
	registerCDRMetrics(reg, cdrs)
	// Disabled accounts' sessions end (store.go); abandon undoes a failed start.
	recheck := startSessionRecheck(auth, db, logger.With("component", "auth"))
	// The cluster (cluster.go), before the call service: it is its gateway
	// to users on other nodes.
	peers := &clusterPeers{}
	cl, err := newCluster(cfg.Cluster, logger, hub, tc, maxTranscoders(cfg.RTMP.MaxTranscoders), peers, db)
	if err != nil {
		recheck()
		cdrs.close()
		return nil, closeStore(db, err)
	}
	abandon := func(err error) error {
		if cl != nil {
			cl.Close()
		}
		recheck()
		cdrs.close()
		return closeStore(db, err)
	}
	var remote call.Gateway
	if cl != nil {
		remote = cl.Gateway()
	}
	sip, calls, confs, err := startSignalling(cfg, logger, reg, hub, tc, auth, guard,
		signallingStore{names: names, records: cdrs.recorder(), members: cdrs.memberRecorder(), legs: cdrs.legRecorder(), registrations: sipRegistrations(db)}, sipCerts, remote)
	if err != nil {
		return nil, abandon(err)
	}
	mux := http.NewServeMux()
	(&web.API{Calls: calls, Auth: auth, Guard: guard, Logger: logger.With("component", "api"), Conferences: confs,
		Pages: pageURLs(cl), KnownPages: knownPages(cl)}).Register(mux) // cluster_place.go
	var rtc *webrtc.Server // made below; the page asks for its ICE servers once serving
	(&web.Pages{SWF: swfPath(), RTMPPort: listenPort(cfg.RTMP.Listen), ICEServers: func() []string {
		if rtc == nil {
			return nil
		}
		return rtc.ICEServers()
	}, Redirect: pageRedirect(cl)}).Register(mux) // cluster_place.go
	// The dashboard (admin.go) is served with the admin API (store.go).
	node := "" // the dashboard's chart samples: one node's, or this node's in a cluster's shared store
	if cl != nil {
		node = cfg.Cluster.NodeName()
	}
	live := newLive(db, node, calls, hub, confs, sip, logger.With("component", "admin"))
	registerAdmin(mux, db, auth, guard, cfg.SIP.Realm, live, logger.With("component", "admin"))
	if err := registerContacts(mux, db, calls, auth, guard); err != nil { // /api/v1/contacts (contacts.go)
		return nil, abandon(err)
	}
	apps, transcode := newApps(cfg, appDeps{calls: calls, auth: auth, confs: confs, guard: guard, log: callLog}, logger)
	rs, sessions := newRTMPServer(cfg, logger, reg, hub, tc, apps, transcode, rtmpRedirect(cl))
	tunnel := rtmpt.New(rs, rtmpt.Options{
		MaxSessions:      cfg.RTMP.RTMPTMaxSessions,
		MaxSessionsPerIP: cfg.RTMP.RTMPTMaxSessionsPerIP,
		IdleTimeout:      cfg.RTMP.RTMPTIdleTimeout,
		Logger:           logger.With("component", "rtmpt"),
	})
	tunnel.Register(mux)
	tunnel.RegisterMetrics(reg)
	rtc, err = newWebRTC(cfg, logger, reg, hub, tc, webrtcAccess(apps, newHooks(cfg.Hooks, logger), callStreams{calls: calls, confs: confs, auth: auth, guard: guard}), cdrs.webrtcRecorder(), firstCert(httpCerts, certs)) // webrtc.go
	if err != nil {
		return nil, abandon(err)
	}
	if err := serveCluster(cl, calls, confs, reg, mux); err != nil { // cluster.go
		if rtc != nil {
			rtc.Close()
		}
		return nil, abandon(err)
	}
	peers.rs, peers.calls, peers.rtc = rs, calls, rtc
	return &services{cluster: cl, clusterPeers: peers, rtc: rtc, hub: hub, rtmp: rs, sessions: sessions, calls: calls, auth: auth, mux: mux, tunnel: tunnel, certs: certs, httpCerts: httpCerts, sipCerts: sipCerts, sip: sip, confs: confs, guard: guard, store: db, cdrs: cdrs, recheck: recheck, users: users, live: live}, nil
}

// newRTMPServer is the RTMP server and the session handler behind it
// (which RTMPT and RTMFP share), with their metrics.
func newRTMPServer(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry, hub *media.Hub, tc *transcode.Service,
	apps map[string]session.App, policies map[string]session.TranscodePolicy, redirect func(string, session.Transport) string) (*rtmp.Server, *session.Handler) {
	sessionStats := &session.Stats{}
	sessionLog := logger.With("component", "session")
	refusals := ratelog.New(ratelog.Options{Logger: sessionLog})
	sessions := &session.Handler{Options: session.Options{
		Hub:            hub,
		Transcoder:     tc,
		MaxStreams:     cfg.RTMP.MaxStreamsPerConnection,
		Logger:         sessionLog,
		Refusals:       refusals,
		Hooks:          newHooks(cfg.Hooks, logger),
		Apps:           apps,
		Transcode:      policies,
		MaxTranscoders: maxTranscoders(cfg.RTMP.MaxTranscoders),
		Stats:          sessionStats,
		Redirect:       redirect, // the cluster's load placement (cluster.go)
	}}
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
		Handler:       rtmpSessions(sessions),
	}
	registerMetrics(reg, hub, &tc.Stats, rs)
	registerAccessMetrics(reg, sessionStats)
	reg.MustRegister(refusalCollector{desc: prometheus.NewDesc("flashvox_session_refusals_total",
		"Refusals a client can repeat at will, by cause (connect, publish, publish_in_use, command, max_streams, shared_object); logged one line per cause a minute.",
		[]string{"cause"}, nil), l: refusals})
	return rs, sessions
}

// loadCerts reads the RTMPS/RTMPTS pair (rtmp.tls_cert) and the HTTPS
// pair (http.tls_cert); each is nil when not configured.
func loadCerts(cfg *config.Config) (certs, httpCerts *tlscert.Reloader, err error) {
	if cfg.RTMP.TLSCert != "" {
		if certs, err = tlscert.NewReloader(cfg.RTMP.TLSCert, cfg.RTMP.TLSKey); err != nil {
			return nil, nil, fmt.Errorf("rtmp.tls_cert: %w", err)
		}
	}
	if cfg.HTTP.TLSCert != "" {
		if httpCerts, err = tlscert.NewReloader(cfg.HTTP.TLSCert, cfg.HTTP.TLSKey); err != nil {
			return nil, nil, fmt.Errorf("http.tls_cert: %w", err)
		}
	}
	return certs, httpCerts, nil
}

// firstCert is the first pair configured, nil if none (webrtc.turns_listen
// serves the HTTPS pair, else the RTMPS one).
func firstCert(rs ...*tlscert.Reloader) *tlscert.Reloader {
	for _, r := range rs {
		if r != nil {
			return r
		}
	}
	return nil
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

// wrapHTTP puts WHIP/WHEP in front of the HTTP mux (webrtc.go); h
// itself when webrtc.enabled is off.
func (s *services) wrapHTTP(h http.Handler) http.Handler {
	if s.rtc == nil {
		return h
	}
	return s.rtc.Handler(h)
}

// close ends every tunnel session (if serve did not run) and every call
// (the parties get bye with reason shutdown).
func (s *services) close() {
	if s.cluster != nil {
		s.cluster.Close() // after Serve, harmless
	}
	s.tunnel.Close()
	if s.rtc != nil {
		s.rtc.Close()
	}
	s.confs.Close()
	s.calls.Close()
	s.sip.Close()
	s.recheck()
	s.cdrs.close() // the records of the calls shutdown ended, before the store closes
	closeStore(s.store, nil)
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
	return s.tunnel.ServeListener(ctx, ln)
}

// serveRTMPTS serves the tunnel over HTTPS on ln (rtmp.rtmpts_listen).
func (s *services) serveRTMPTS(ctx context.Context, ln net.Listener) error {
	return s.tunnel.ServeListener(ctx, tls.NewListener(ln, s.certs.Config()))
}

func (s *services) serveRTMP(ctx context.Context, ln net.Listener) error {
	return s.rtmp.Serve(ctx, ln)
}
