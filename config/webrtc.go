package config

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WebRTC configures the browser edge: WHIP and WHEP on the HTTP listener
// (docs/PROTOCOL.md), one PeerConnection per session, Opus.
type WebRTC struct {
	Enabled bool `yaml:"enabled"`
	// Codecs is the codec preference: an offer gets the first of these it
	// has (opus, pcmu, pcma, g722).
	Codecs []string `yaml:"codecs"`
	// ICEAddress is the local IP the sessions' UDP sockets use and announce
	// as host candidates; PublicIP, when set, is announced instead (a
	// server behind 1:1 NAT).
	ICEAddress string `yaml:"ice_address"`
	PublicIP   string `yaml:"public_ip"`
	// STUNListen runs the built-in STUN server (Binding requests only)
	// on this UDP host:port; "" = off. ICEServers are more stun:/stuns:
	// URLs for the answers' Link headers.
	STUNListen string   `yaml:"stun_listen"`
	ICEServers []string `yaml:"ice_servers"`
	// STUNServers are the STUN servers (stun:HOST[:PORT], UDP) the
	// sessions ask for the server's own server-reflexive address (srflx
	// candidates in the answers, for a server behind NAT);
	// STUNGatherTimeout bounds how long an answer waits for them.
	STUNServers       []string      `yaml:"stun_servers"`
	STUNGatherTimeout time.Duration `yaml:"stun_gather_timeout"`
	// TURNListen runs the built-in TURN server (relaying to this server's
	// ICE addresses only) on this UDP host:port; "" = off. TURNSecret
	// signs its credentials (TURN REST API; "" = random per start),
	// valid TURNTTL.
	TURNListen string        `yaml:"turn_listen"`
	TURNSecret string        `yaml:"turn_secret"`
	TURNTTL    time.Duration `yaml:"turn_ttl"`
	// TURNTCPListen and TURNSListen run the same TURN server over TCP and
	// over TLS (the certificate of http.tls_cert, else rtmp.tls_cert) on
	// these TCP host:ports; "" = off. TURNSHost is the host of the
	// advertised turns: URL (the certificate's name); "" = the public or
	// ICE address. TURNIdleTimeout closes a TCP/TLS connection silent
	// that long.
	TURNTCPListen   string        `yaml:"turn_tcp_listen"`
	TURNSListen     string        `yaml:"turns_listen"`
	TURNSHost       string        `yaml:"turns_host"`
	TURNIdleTimeout time.Duration `yaml:"turn_idle_timeout"`
	// UDPPorts is the sessions' UDP port range "MIN-MAX" (a firewall
	// opening); "" lets the system choose.
	UDPPorts string `yaml:"udp_ports"`
	// UDPMuxPort, when set, puts every session's ICE on one UDP socket,
	// ice_address:udp_mux_port (pion's ICE UDP mux); it excludes
	// udp_ports and stun_servers.
	UDPMuxPort int `yaml:"udp_mux_port"`
	// Engine is how sessions carry media: "lite" (flashvox's media
	// plane: ICE-lite, DTLS and SRTP of every session on
	// ice_address:lite_port, 0 = a port the system picks) or "pion" (a
	// PeerConnection each). "" is lite unless udp_ports, udp_mux_port or
	// stun_servers (pion's own options) are set.
	Engine   string `yaml:"engine"`
	LitePort int    `yaml:"lite_port"`
	// MaxSessions and MaxSessionsPerIP bound open WHIP/WHEP sessions.
	MaxSessions      int `yaml:"max_sessions"`
	MaxSessionsPerIP int `yaml:"max_sessions_per_ip"`
	// ConnectTimeout ends a session whose ICE has not connected.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
}

// PublicIPs parses PublicIP: "" (none), one IP address, or an IPv4 and an
// IPv6 address separated by a comma (a dual-stack 1:1 NAT).
func (w WebRTC) PublicIPs() ([]string, error) {
	if w.PublicIP == "" {
		return nil, nil
	}
	var out []string
	v4, v6 := 0, 0
	for _, p := range strings.Split(w.PublicIP, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(p))
		if err != nil {
			return nil, &Error{Key: "webrtc.public_ip", Msg: fmt.Sprintf("must be an IP address, or an IPv4 and an IPv6 address separated by a comma, got %q", w.PublicIP)}
		}
		if a.Is4() || a.Is4In6() {
			v4++
		} else {
			v6++
		}
		out = append(out, a.String())
	}
	if v4 > 1 || v6 > 1 {
		return nil, &Error{Key: "webrtc.public_ip", Msg: fmt.Sprintf("at most one IPv4 and one IPv6 address, got %q", w.PublicIP)}
	}
	return out, nil
}

// PortRange parses UDPPorts; 0, 0 for "".
func (w WebRTC) PortRange() (lo, hi uint16, err error) {
	if w.UDPPorts == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(w.UDPPorts, "-")
	l, err1 := strconv.ParseUint(a, 10, 16)
	h, err2 := strconv.ParseUint(b, 10, 16)
	if !ok || err1 != nil || err2 != nil || l == 0 || h < l {
		return 0, 0, &Error{Key: "webrtc.udp_ports", Msg: fmt.Sprintf("must be MIN-MAX (1..65535, MIN ≤ MAX), got %q", w.UDPPorts)}
	}
	return uint16(l), uint16(h), nil
}

func (c *Config) validateWebRTC() error {
	w := c.WebRTC
	if !w.Enabled {
		return nil
	}
	for _, check := range []func() error{
		intRange("webrtc.max_sessions", w.MaxSessions, 1, 100_000),
		intRange("webrtc.max_sessions_per_ip", w.MaxSessionsPerIP, 1, 100_000),
		durRange("webrtc.connect_timeout", w.ConnectTimeout, time.Second, 5*time.Minute),
	} {
		if err := check(); err != nil {
			return err
		}
	}
	if a, err := netip.ParseAddr(w.ICEAddress); err != nil || a.IsUnspecified() {
		return &Error{Key: "webrtc.ice_address", Msg: fmt.Sprintf("must be one IP address of this host (not 0.0.0.0), got %q", w.ICEAddress)}
	}
	if _, err := w.PublicIPs(); err != nil {
		return err
	}
	if err := validateWebRTCCodecs(w.Codecs); err != nil {
		return err
	}
	if w.STUNListen != "" {
		if _, err := netip.ParseAddrPort(w.STUNListen); err != nil {
			return &Error{Key: "webrtc.stun_listen", Msg: fmt.Sprintf("must be IP:PORT (UDP), e.g. 0.0.0.0:3478, got %q", w.STUNListen)}
		}
	}
	if err := c.validateTURN(); err != nil {
		return err
	}
	if err := validateSTUNServers(w.STUNServers, w.STUNGatherTimeout); err != nil {
		return err
	}
	for i, u := range w.ICEServers {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "stuns:") {
			return &Error{Key: fmt.Sprintf("webrtc.ice_servers[%d]", i), Msg: fmt.Sprintf("must be a stun: or stuns: URL (TURN is not supported yet), got %q", u)}
		}
	}
	if err := w.validateEngine(); err != nil {
		return err
	}
	if w.UDPMuxPort != 0 {
		if w.UDPMuxPort < 1 || w.UDPMuxPort > 65535 {
			return &Error{Key: "webrtc.udp_mux_port", Msg: fmt.Sprintf("must be a UDP port (1..65535), got %d", w.UDPMuxPort)}
		}
		if w.UDPPorts != "" {
			return &Error{Key: "webrtc.udp_mux_port", Msg: "one shared port and a port range (webrtc.udp_ports) exclude each other: set one"}
		}
		if len(w.STUNServers) > 0 {
			return &Error{Key: "webrtc.udp_mux_port", Msg: "one shared port and stun_servers exclude each other (srflx candidates are gathered on sockets of their own): set one"}
		}
	}
	_, _, err := w.PortRange()
	return err
}

// validateEngine checks webrtc.engine and what the lite engine excludes.
// "" is lite unless one of pion's own options is set (then pion).
func (w WebRTC) validateEngine() error {
	pionOnly := w.UDPPorts != "" || w.UDPMuxPort != 0 || len(w.STUNServers) > 0
	switch w.Engine {
	case "":
		if pionOnly && w.LitePort != 0 {
			return &Error{Key: "webrtc.lite_port", Msg: "is the lite engine's port, and udp_ports, udp_mux_port or stun_servers choose the pion engine: set one kind"}
		}
	case "pion":
		if w.LitePort != 0 {
			return &Error{Key: "webrtc.lite_port", Msg: "is the lite engine's port: set webrtc.engine: lite, or leave it 0"}
		}
	case "lite":
		switch {
		case w.UDPPorts != "" || w.UDPMuxPort != 0:
			return &Error{Key: "webrtc.engine", Msg: "lite carries every session on lite_port: udp_ports and udp_mux_port are pion's, leave them unset"}
		case len(w.STUNServers) > 0:
			return &Error{Key: "webrtc.engine", Msg: "lite gathers no srflx candidates: name the server's public address in public_ip instead of stun_servers"}
		}
	default:
		return &Error{Key: "webrtc.engine", Msg: fmt.Sprintf("must be lite or pion (or empty), got %q", w.Engine)}
	}
	if w.LitePort < 0 || w.LitePort > 65535 {
		return &Error{Key: "webrtc.lite_port", Msg: fmt.Sprintf("must be a UDP port (1..65535) or 0 (any), got %d", w.LitePort)}
	}
	return nil
}

// webrtcCodecs are the codecs the WebRTC edge negotiates.
var webrtcCodecs = []string{"opus", "pcmu", "pcma", "g722"}

// validateWebRTCCodecs checks webrtc.codecs: known names, each once, at least one.
func validateWebRTCCodecs(cs []string) error {
	if len(cs) == 0 {
		return &Error{Key: "webrtc.codecs", Msg: "must name at least one of opus, pcmu, pcma, g722"}
	}
	for i, c := range cs {
		if !slices.Contains(webrtcCodecs, c) {
			return &Error{Key: "webrtc.codecs", Msg: fmt.Sprintf("%q: the WebRTC edge speaks opus, pcmu, pcma and g722 (lower case)", c)}
		}
		if slices.Contains(cs[:i], c) {
			return &Error{Key: "webrtc.codecs", Msg: fmt.Sprintf("%q named twice", c)}
		}
	}
	return nil
}

// validateTURN checks the built-in TURN server's listeners and
// credentials: each listener IP:PORT, turns_listen only with a
// certificate to serve (http.tls_cert or rtmp.tls_cert).
func (c *Config) validateTURN() error {
	w := c.WebRTC
	for _, l := range []struct{ key, addr, what string }{
		{"webrtc.turn_listen", w.TURNListen, "UDP), e.g. 0.0.0.0:3478"},
		{"webrtc.turn_tcp_listen", w.TURNTCPListen, "TCP), e.g. 0.0.0.0:3478"},
		{"webrtc.turns_listen", w.TURNSListen, "TCP), e.g. 0.0.0.0:5349"},
	} {
		if l.addr == "" {
			continue
		}
		if _, err := netip.ParseAddrPort(l.addr); err != nil {
			return &Error{Key: l.key, Msg: fmt.Sprintf("must be IP:PORT (%s, got %q", l.what, l.addr)}
		}
	}
	if w.TURNListen == "" && w.TURNTCPListen == "" && w.TURNSListen == "" {
		return nil
	}
	if w.TURNSListen != "" && c.HTTP.TLSCert == "" && c.RTMP.TLSCert == "" {
		return &Error{Key: "webrtc.turns_listen", Msg: "needs a certificate: set http.tls_cert (or rtmp.tls_cert), whose pair it serves"}
	}
	if w.TURNSHost != "" && (strings.ContainsAny(w.TURNSHost, ":/?#@ ") || len(w.TURNSHost) > 253) {
		return &Error{Key: "webrtc.turns_host", Msg: fmt.Sprintf("must be a host name (or IPv4 address) without port, got %q", w.TURNSHost)}
	}
	for _, check := range []func() error{
		durRange("webrtc.turn_ttl", w.TURNTTL, time.Minute, 7*24*time.Hour),
		durRange("webrtc.turn_idle_timeout", w.TURNIdleTimeout, 5*time.Second, time.Hour),
	} {
		if err := check(); err != nil {
			return err
		}
	}
	if w.TURNSecret != "" && len(w.TURNSecret) < 16 {
		return &Error{Key: "webrtc.turn_secret", Msg: "must be at least 16 characters (or \"\": a random one per start)"}
	}
	return nil
}

// maxSTUNServers matches webrtc.MaxSTUNServers: each server costs every
// session a UDP socket and a Binding transaction.
const maxSTUNServers = 4

// validateSTUNServers checks webrtc.stun_servers: at most four
// stun:HOST[:PORT] URLs (UDP: no stuns:, turn: or ?transport=), HOST a
// name or an IP address that can be sent to, and then the gathering
// bound.
func validateSTUNServers(urls []string, wait time.Duration) error {
	if len(urls) > maxSTUNServers {
		return &Error{Key: "webrtc.stun_servers", Msg: fmt.Sprintf("at most %d servers (each costs every session a UDP socket), got %d", maxSTUNServers, len(urls))}
	}
	for i, u := range urls {
		if msg := checkSTUNURL(u); msg != "" {
			return &Error{Key: fmt.Sprintf("webrtc.stun_servers[%d]", i), Msg: fmt.Sprintf("%s, got %q", msg, u)}
		}
	}
	if len(urls) == 0 {
		return nil // the bound has nothing to bound
	}
	return durRange("webrtc.stun_gather_timeout", wait, 100*time.Millisecond, 5*time.Second)()
}

// checkSTUNURL is why u is not a stun:HOST[:PORT] URL the server may
// send Binding requests to, "" if it is.
func checkSTUNURL(u string) string {
	const form = "must be stun:HOST or stun:HOST:PORT (UDP; a host name or an IP address)"
	hp, ok := strings.CutPrefix(u, "stun:")
	if !ok || hp == "" || strings.ContainsAny(hp, "?#/@ ") {
		return form
	}
	host := hp
	if h, p, err := net.SplitHostPort(hp); err == nil {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return form
		}
		host = h
	} else if strings.Contains(hp, ":") && !strings.HasPrefix(hp, "[") {
		return form // a bare IPv6 address needs brackets
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if a, err := netip.ParseAddr(host); err == nil {
		if a.IsUnspecified() || a.IsMulticast() {
			return "must name one STUN server, not an unspecified or multicast address"
		}
		return ""
	}
	if len(host) > 253 || strings.ContainsAny(host, "[]:") || strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != "" {
		return form
	}
	return ""
}
