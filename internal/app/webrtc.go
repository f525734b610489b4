package app

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/webrtc"
)

// newWebRTC makes the WHIP/WHEP server (webrtc.enabled; nil when off);
// its Handler wraps the HTTP mux (app.go). access is webrtcAccess's.
func newWebRTC(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry, hub *media.Hub, tc *transcode.Service,
	access webrtc.Access) (*webrtc.Server, error) {
	w := cfg.WebRTC
	if !w.Enabled {
		return nil, nil
	}
	lo, hi, err := w.PortRange()
	if err != nil {
		return nil, err
	}
	srv, err := webrtc.New(webrtc.Options{
		Hub: hub, Transcoder: tc, Access: access,
		ICEAddress: w.ICEAddress, PublicIP: w.PublicIP, UDPPortMin: lo, UDPPortMax: hi,
		MaxSessions: w.MaxSessions, MaxSessionsPerIP: w.MaxSessionsPerIP, ConnectTimeout: w.ConnectTimeout,
		MaxTranscoders: maxTranscoders(cfg.RTMP.MaxTranscoders),
		Logger:         logger.With("component", "webrtc"),
	})
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flashvox_webrtc_sessions", Help: "Open WHIP/WHEP sessions."},
			func() float64 { return float64(srv.Sessions()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "flashvox_webrtc_sessions_total", Help: "WHIP/WHEP sessions answered."},
			func() float64 { return float64(srv.Stats.Opened.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "flashvox_webrtc_refused_total", Help: "WHIP/WHEP requests refused: access, bounds, bad offers."},
			func() float64 { return float64(srv.Stats.Refused.Load()) }),
	)
	if err := srv.OpusErr(); err != nil {
		logger.Warn("WHIP/WHEP answer 503: Opus needs libopus (a cgo build)", "component", "webrtc", "err", err)
	}
	return srv, nil
}

// liveAccess adapts the live applications' policies to webrtc.Access; the
// built-in applications (phone, sip) have no WHIP/WHEP streams.
func liveAccess(apps map[string]session.App) webrtc.Access {
	return webrtc.AccessFunc(func(r webrtc.Request) (string, error) {
		la, ok := apps[r.App].(*session.LiveApp)
		if !ok {
			return "", fmt.Errorf("%w: %q", webrtc.ErrNotFound, r.App)
		}
		key, err := la.AuthorizeExternal(r.App, session.ExternalRequest{
			Name: r.Name, Publish: r.Publish, Credential: r.Bearer, Query: r.Query, Addr: r.Addr})
		switch {
		case errors.Is(err, session.ErrCredentials):
			return "", fmt.Errorf("%w: %v", webrtc.ErrUnauthorized, err)
		case err != nil:
			return "", fmt.Errorf("%w: %v", webrtc.ErrForbidden, err)
		}
		return key, nil
	})
}
