package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/session"
	"github.com/flashvox/flashvox/webrtc"
)

// newWebRTC makes the WHIP/WHEP server (webrtc.enabled; nil when off);
// its Handler wraps the HTTP mux (app.go). access is webrtcAccess's;
// records receives the sessions' records (the call records' store).
func newWebRTC(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry, hub *media.Hub, tc *transcode.Service,
	access webrtc.Access, records webrtc.Recorder, turnCert *tlscert.Reloader) (*webrtc.Server, error) {
	w := cfg.WebRTC
	if !w.Enabled {
		return nil, nil
	}
	lo, hi, err := w.PortRange()
	if err != nil {
		return nil, err
	}
	public, err := w.PublicIPs()
	if err != nil {
		return nil, err
	}
	codecs, err := webrtc.ParseCodecs(w.Codecs)
	if err != nil {
		return nil, fmt.Errorf("webrtc.codecs: %w", err)
	}
	var turnTLS *tls.Config // turns_listen serves the HTTPS (else RTMPS) pair, reloaded with it on SIGHUP
	if w.TURNSListen != "" {
		if turnCert == nil {
			return nil, fmt.Errorf("webrtc.turns_listen: no certificate (http.tls_cert or rtmp.tls_cert)")
		}
		turnTLS = turnCert.Config()
	}
	srv, err := webrtc.New(webrtc.Options{
		Hub: hub, Transcoder: tc, Access: access, Codecs: codecs,
		ICEAddress: w.ICEAddress, PublicIPs: public, UDPPortMin: lo, UDPPortMax: hi, UDPMuxPort: uint16(w.UDPMuxPort),
		Engine: w.Engine, LitePort: uint16(w.LitePort),
		STUNListen: w.STUNListen, ICEServers: w.ICEServers,
		STUNServers: w.STUNServers, STUNGatherTimeout: w.STUNGatherTimeout,
		TURNListen: w.TURNListen, TURNSecret: w.TURNSecret, TURNTTL: w.TURNTTL,
		TURNTCPListen: w.TURNTCPListen, TURNTLSListen: w.TURNSListen, TURNTLS: turnTLS, TURNTLSHost: w.TURNSHost,
		TURNIdleTimeout: w.TURNIdleTimeout,
		MaxSessions:     w.MaxSessions, MaxSessionsPerIP: w.MaxSessionsPerIP, ConnectTimeout: w.ConnectTimeout,
		MaxTranscoders: maxTranscoders(cfg.RTMP.MaxTranscoders),
		PlayQueue:      transcode.LiveQueueFrames, // live calls: drop old audio, not delay it
		Records:        records,                   // nil without a store
		Logger:         logger.With("component", "webrtc"),
	})
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	registerWebRTCMetrics(reg, srv)
	if err := srv.OpusErr(); err != nil {
		logger.Warn("WHIP/WHEP answer 503: Opus needs libopus (a cgo build)", "component", "webrtc", "err", err)
	}
	return srv, nil
}

// liveAccess adapts the live applications' policies to webrtc.Access; the
// built-in applications (phone, sip) have no WHIP/WHEP streams. The HTTP
// hooks, when on, are asked first, as for an RTMP client (they may refuse
// or rename the stream).
func liveAccess(apps map[string]session.App, hooks session.Hooks) webrtc.Access {
	return webrtc.AccessFunc(func(r webrtc.Request) (string, error) {
		la, ok := apps[r.App].(*session.LiveApp)
		if !ok {
			return "", fmt.Errorf("%w: %q", webrtc.ErrNotFound, r.App)
		}
		er := session.ExternalRequest{Name: r.Name, Publish: r.Publish, Credential: r.Bearer, Query: r.Query, Addr: r.Addr}
		if hooks != nil {
			ctx, via := r.Context, "WHEP"
			if ctx == nil {
				ctx = context.Background()
			}
			if r.Publish {
				via = "WHIP"
			}
			var err error
			if er, err = session.HookExternal(ctx, hooks, r.App, via, er); err != nil {
				return "", fmt.Errorf("%w: %v", webrtc.ErrForbidden, err)
			}
		}
		key, err := la.AuthorizeExternal(r.App, er)
		switch {
		case errors.Is(err, session.ErrCredentials):
			return "", fmt.Errorf("%w: %v", webrtc.ErrUnauthorized, err)
		case err != nil:
			return "", fmt.Errorf("%w: %v", webrtc.ErrForbidden, err)
		}
		return key, nil
	})
}

// registerWebRTCMetrics exports the edge's sessions and media counters.
func registerWebRTCMetrics(reg *prometheus.Registry, srv *webrtc.Server) {
	st := &srv.Stats
	counter := func(name, help string, v func() uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "flashvox_webrtc_" + name, Help: help},
			func() float64 { return float64(v()) })
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flashvox_webrtc_sessions", Help: "Open WHIP/WHEP sessions."},
			func() float64 { return float64(srv.Sessions()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flashvox_webrtc_turn_allocations", Help: "Open relays of the built-in TURN server (webrtc.turn_listen)."},
			func() float64 { return float64(srv.TURNAllocations()) }),
		counter("sessions_total", "WHIP/WHEP sessions answered.", st.Opened.Load),
		counter("refused_total", "WHIP/WHEP requests refused: access, bounds, bad offers.", st.Refused.Load),
		counter("passthrough_frames_total", "Audio frames sent to WHEP players in the stream's own codec: no decoding, only RTP packetising.", st.PassedThrough.Load),
		counter("transcoded_frames_total", "Audio frames sent to WHEP players through a transcoder (the stream is in another codec).", st.Transcoded.Load),
		counter("dtmf_in_total", "RFC 4733 digits received from WHIP publishers and published on their streams.", st.DTMFIn.Load),
		counter("dtmf_out_total", "RFC 4733 digits sent to WHEP players.", st.DTMFOut.Load),
		counter("dtmf_dropped_total", "Digits from WHIP publishers beyond the per-session rate bound, dropped.", st.DTMFDropped.Load),
		counter("peer_reports_total", "RTCP report blocks of WHEP players about the audio sent to them, both engines.", st.PeerReports.Load),
		counter("stun_answered_total", "Binding requests the built-in STUN server answered (webrtc.stun_listen).", st.STUNAnswered.Load),
		counter("stun_ignored_total", "Packets the built-in STUN server ignored: not a Binding request.", st.STUNIgnored.Load),
		counter("stun_limited_total", "Binding requests left unanswered by the STUN server's rate bounds (per address, in total).", st.STUNLimited.Load),
		counter("answers_without_srflx_total", "Answers sent without a srflx candidate although webrtc.stun_servers are set: no STUN server answered within webrtc.stun_gather_timeout.", st.NoSrflx.Load),
	)
	if ps := srv.PlaneStats(); ps != nil {
		reg.MustRegister(
			counter("lite_unknown_packets_total", "Datagrams at the lite engine's port from an address no session has validated with an ICE check, dropped.", ps.Unknown.Load),
			counter("lite_bad_checks_total", "ICE checks and STUN packets at the lite engine's port refused: unknown ufrag, bad MESSAGE-INTEGRITY or FINGERPRINT, unsolicited answers.", ps.BadChecks.Load),
			counter("lite_bad_srtp_total", "SRTP packets refused by the lite engine: bad authentication tag, replayed, before the keys, or a fifth SSRC.", ps.BadSRTP.Load),
			counter("lite_bad_dtls_total", "DTLS records refused by the lite engine before its DTLS stack: plaintext records a peer cannot send once connected (spoofed alerts, cipher changes).", ps.BadDTLS.Load),
			counter("lite_expired_total", "Lite engine sessions ended because ICE and DTLS were not done in time or the browser's consent lapsed.", ps.Expired.Load),
			counter("lite_packets_received_total", "RTP packets lite engine sessions took from their browsers, added as each session ends.", ps.Received.Load),
			counter("lite_packets_lost_in_total", "RTP packets of the browsers missing by sequence number at the lite engine, added as each session ends.", ps.LostIn.Load),
			counter("lite_packets_sent_total", "RTP packets lite engine sessions sent to their browsers, added as each session ends.", ps.Sent.Load),
			counter("lite_packets_lost_out_total", "RTP packets of the server's lost on the way to the browsers, as their last RTCP receiver report said, added as each session ends.", ps.LostOut.Load),
			counter("lite_rtcp_reports_sent_total", "RTCP sender and receiver reports the lite engine sent.", ps.ReportsSent.Load),
		)
	}
	for _, tr := range []struct {
		name string
		tls  bool
	}{{"tcp", false}, {"tls", true}} {
		cs := srv.TURNConnStats(tr.tls)
		if cs == nil {
			continue
		}
		labels := prometheus.Labels{"transport": tr.name}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flashvox_webrtc_turn_connections", ConstLabels: labels,
				Help: "Open connections of the built-in TURN server over TCP or TLS (webrtc.turn_tcp_listen, webrtc.turns_listen)."},
				func() float64 { return float64(cs.Open.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "flashvox_webrtc_turn_connections_refused_total", ConstLabels: labels,
				Help: "TURN/TCP or TURN/TLS connections closed at accept: over max_sessions in all or max_sessions_per_ip from one address."},
				func() float64 { return float64(cs.Refused.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "flashvox_webrtc_turn_connections_idle_total", ConstLabels: labels,
				Help: "TURN/TCP or TURN/TLS connections closed after webrtc.turn_idle_timeout without a byte."},
				func() float64 { return float64(cs.Idle.Load()) }),
		)
	}
}
