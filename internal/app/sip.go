package app

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/config"
	"github.com/flashvox/flashvox/internal/tlscert"
	"github.com/flashvox/flashvox/media"
	"github.com/flashvox/flashvox/media/transcode"
	"github.com/flashvox/flashvox/sipbridge"
	"github.com/flashvox/flashvox/throttle"
)

// startSIP starts the SIP bridge on sip.listen with the services peers
// builds (signalling.go) and exports its metrics; st keeps its
// registrations and leg records (nil: not kept).
func startSIP(cfg *config.Config, logger *slog.Logger, reg *prometheus.Registry, hub *media.Hub, tc *transcode.Service, peers func(*sipbridge.Bridge) sipbridge.Peers, auth *account.Auth, guard *throttle.Throttle, st signallingStore, certs *tlscert.Reloader) (*sipbridge.Bridge, error) {
	lo, hi, err := config.ParseRTPPorts(cfg.SIP.RTPPorts)
	if err != nil {
		return nil, fmt.Errorf("sip.rtp_ports: %w", err)
	}
	o := sipbridge.Options{
		Listen:           cfg.SIP.Listen,
		PublicAddress:    cfg.SIP.PublicAddress,
		RTPPortMin:       lo,
		RTPPortMax:       hi,
		RTPTimeout:       cfg.SIP.RTPTimeout,
		JitterBuffer:     cmp.Or(cfg.SIP.JitterBuffer, -1), // 0 in the config: no waiting
		CallsPerMinute:   cfg.SIP.CallsPerMinute,
		CallsPerDay:      cfg.SIP.CallsPerDay,
		Credentials:      auth, // HA1 per user and algorithm, from password_hash users' sip_ha1 keys or plaintext ones
		Realm:            cfg.SIP.Realm,
		DigestAlgorithms: cfg.SIP.DigestAlgorithms,
		NonceLifetime:    cfg.SIP.NonceLifetime,
		// Whole seconds: REGISTER's Expires is in seconds.
		RegisterMinExpires: int(cfg.SIP.RegistrationMin.Seconds()),
		RegisterMaxExpires: int(cfg.SIP.RegistrationMax.Seconds()),
		Registrations:      st.registrations, // the store's, when there is one (store.go)
		Records:            st.legs,
		RegistrationsFile:  cfg.SIP.RegistrationsFile,
		TCPIdleTimeout:     cfg.SIP.TCPIdleTimeout,
		MaxConnsPerIP:      cfg.SIP.MaxConnectionsPerIP,
		Throttle:           guard,
		Hub:                hub,
		Transcoder:         tc,
		Peers:              peers,
		Logger:             logger.With("component", "sip"),
	}
	if err := sipTLS(cfg.SIP, certs, &o); err != nil {
		return nil, err
	}
	if o.Codecs, err = sipbridge.ParseCodecs(cfg.SIP.Codecs); err != nil {
		return nil, fmt.Errorf("sip.codecs%w", err)
	}
	if o.Trunks, o.DialPlan, o.Inbound, err = sipRouting(cfg.SIP); err != nil {
		return nil, err
	}
	b, err := sipbridge.Start(o)
	if err != nil {
		return nil, err
	}
	registerSIPMetrics(reg, &b.Stats)
	return b, nil
}

// sipRouting is the trunks, dial plan and inbound numbers of c (at start
// and at every SIGHUP).
func sipRouting(c config.SIP) (trunks []sipbridge.Trunk, plan []sipbridge.Rule, inbound []sipbridge.Inbound, err error) {
	for i, t := range c.Trunks {
		from, err := sipbridge.ParsePrefixes(t.InboundSources())
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sip.trunks[%d].inbound_from: %w", i, err)
		}
		codecs, err := sipbridge.ParseCodecs(t.Codecs)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sip.trunks[%d].codecs%w", i, err)
		}
		trunks = append(trunks, sipbridge.Trunk{Name: t.Name, Address: t.Address, Transport: t.Transport,
			Username: t.Username, Password: t.Password, Register: t.Register, InboundFrom: from, Codecs: codecs})
	}
	for i, r := range c.Dialplan {
		re, err := regexp.Compile(r.Match) // validated; a reload checks again
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sip.dialplan[%d].match: %w", i, err)
		}
		plan = append(plan, sipbridge.Rule{Match: re, Trunk: r.Trunk, Users: r.Users})
	}
	for _, in := range c.Inbound {
		inbound = append(inbound, sipbridge.Inbound{Number: in.Number, Target: in.Target})
	}
	return trunks, plan, inbound, nil
}

// loadSIPCert reads sip.tls_cert/tls_key for sip.tls_listen (nil without
// it); a bad pair refuses the start, naming its key. A SIGHUP reads it again.
func loadSIPCert(c config.SIP) (*tlscert.Reloader, error) {
	if c.TLSListen == "" {
		return nil, nil
	}
	certs, err := tlscert.NewReloader(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("sip.tls_cert: %w", err)
	}
	return certs, nil
}

// sipTLS sets certs (loadSIPCert) for sip.tls_listen and loads sip.tls_ca
// for dialing over TLS; a bad file refuses the start, naming its key.
func sipTLS(c config.SIP, certs *tlscert.Reloader, o *sipbridge.Options) error {
	if c.TLSListen == "" || certs == nil {
		return nil
	}
	o.TLSListen, o.TLSConfig = c.TLSListen, certs.Config()
	if c.TLSCA != "" {
		pem, err := os.ReadFile(c.TLSCA)
		if err != nil {
			return fmt.Errorf("sip.tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("sip.tls_ca: no PEM certificate in %s", c.TLSCA)
		}
		o.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return nil
}

// registerSIPMetrics exports the bridge's counters, read at scrape time.
func registerSIPMetrics(reg *prometheus.Registry, st *sipbridge.Stats) {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashvox", Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "flashvox", Name: name, Help: help}, f)
	}
	reg.MustRegister(
		gauge("sip_active_calls", "SIP calls established now.", func() float64 { return float64(st.Active.Load()) }),
		counter("sip_call_attempts_total", "SIP calls tried, inbound and outbound.", func() float64 { return float64(st.Attempts.Load()) }),
		counter("sip_forbidden_total", "INVITEs refused with 403 before any call: wrong credentials, or guessing slowed.", func() float64 { return float64(st.Forbidden.Load()) }),
		counter("sip_auth_failures_total", "REGISTERs and INVITEs with wrong credentials.", func() float64 { return float64(st.AuthFailures.Load()) }),
		counter("sip_auth_throttled_total", "SIP digest checks refused unchecked: the address failed too often (guessing slowed).", func() float64 { return float64(st.AuthThrottled.Load()) }),
		counter("sip_auth_replays_total", "SIP digests with the right password refused for their nonce (a nonce-count reused, a nonce of another address).", func() float64 { return float64(st.AuthReplays.Load()) }),
		gauge("sip_registrations", "SIP phone contacts registered now.", func() float64 { return float64(st.Registrations.Load()) }),
		counter("sip_rtp_packets_in_total", "RTP packets received from SIP peers.", func() float64 { return float64(st.RTPIn.Load()) }),
		counter("sip_rtp_packets_out_total", "RTP packets sent to SIP peers.", func() float64 { return float64(st.RTPOut.Load()) }),
		counter("sip_passthrough_frames_total", "Audio frames sent to SIP peers in the web side's own codec: no decoding, only RTP packetising.", func() float64 { return float64(st.FramesPassedThrough.Load()) }),
		counter("sip_transcoded_frames_total", "Audio frames sent to SIP peers after the hub's transcoder decoded and encoded them.", func() float64 { return float64(st.FramesTranscoded.Load()) }),
		gauge("sip_tcp_connections", "SIP/TCP and SIP/TLS connections accepted and open now.", func() float64 { return float64(st.Conns.Open.Load()) }),
		counter("sip_tcp_refused_total", "SIP/TCP and SIP/TLS connections closed at accept: over sip.max_connections_per_ip.", func() float64 { return float64(st.Conns.Refused.Load()) }),
		counter("sip_tcp_idle_closed_total", "SIP/TCP and SIP/TLS connections closed after sip.tcp_idle_timeout without data (half-sent requests included).", func() float64 { return float64(st.Conns.Idle.Load()) }),
		counter("sip_rtcp_malformed_total", "RTCP packets from SIP peers that did not parse (counted, not logged).", func() float64 { return float64(st.RTCPMalformed.Load()) }),
		counter("sip_malformed_total", "SIP messages that did not parse (logged at debug, without their bytes).", func() float64 { return float64(st.SIPMalformed.Load()) }),
		counter("sip_log_suppressed_total", "Log lines of the SIP libraries dropped over their rate (5 per message per minute).", func() float64 { return float64(st.LogSuppressed.Load()) }),
		counter("sip_rtp_packets_lost_total", "RTP packets missing by sequence number.", func() float64 { return float64(st.RTPLost.Load()) }),
		counter("sip_rtp_wrong_source_total", "RTP packets dropped for coming from another address than the call's source (strict RTP).", func() float64 { return float64(st.RTPWrongSource.Load()) }),
		&failuresCollector{st: st, desc: prometheus.NewDesc("flashvox_sip_call_failures_total", "SIP calls that failed, by SIP status (0: no response).", []string{"status"}, nil)},
		&codecsCollector{st: st, desc: prometheus.NewDesc("flashvox_sip_calls_by_codec_total", "SIP call legs established, by negotiated codec.", []string{"codec"}, nil)},
	)
}

// codecsCollector exports Stats.Codecs with a codec label.
type codecsCollector struct {
	st   *sipbridge.Stats
	desc *prometheus.Desc
}

func (c *codecsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *codecsCollector) Collect(ch chan<- prometheus.Metric) {
	for name, n := range c.st.Codecs() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), name)
	}
}

// failuresCollector exports Stats.Failures with a status label.
type failuresCollector struct {
	st   *sipbridge.Stats
	desc *prometheus.Desc
}

func (c *failuresCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *failuresCollector) Collect(ch chan<- prometheus.Metric) {
	codes, counts := c.st.Failures()
	for _, code := range codes {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(counts[code]), code)
	}
}
