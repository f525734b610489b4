package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestWebRTCPortRange(t *testing.T) {
	for _, c := range []struct {
		in     string
		lo, hi uint16
		ok     bool
	}{
		{"", 0, 0, true}, {"10000-10100", 10000, 10100, true}, {"5-5", 5, 5, true},
		{"0-10", 0, 0, false}, {"10-5", 0, 0, false}, {"10", 0, 0, false}, {"1-70000", 0, 0, false}, {"a-b", 0, 0, false},
	} {
		lo, hi, err := WebRTC{UDPPorts: c.in}.PortRange()
		if (err == nil) != c.ok || lo != c.lo || hi != c.hi {
			t.Errorf("PortRange(%q) = %d, %d, %v", c.in, lo, hi, err)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("PortRange(%q): %v is no config error", c.in, err)
		}
	}
}

// FuzzWebRTCPortRange: no input panics; an accepted range is ordered.
func FuzzWebRTCPortRange(f *testing.F) {
	for _, s := range []string{"", "10000-10100", "0-10", "10-5", "1-70000", "-", "a-b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := WebRTC{UDPPorts: s}.PortRange()
		if err == nil && s != "" && (lo == 0 || hi < lo) {
			t.Fatalf("PortRange(%q) = %d, %d", s, lo, hi)
		}
	})
}

func TestWebRTCValidate(t *testing.T) {
	for _, c := range []struct {
		env, key string
	}{
		{"FLASHVOX_WEBRTC_ICE_ADDRESS=0.0.0.0", "webrtc.ice_address"},
		{"FLASHVOX_WEBRTC_PUBLIC_IP=example.com", "webrtc.public_ip"},
		{"FLASHVOX_WEBRTC_PUBLIC_IP=192.0.2.1,192.0.2.2", "webrtc.public_ip"},
		{"FLASHVOX_WEBRTC_UDP_PORTS=9-1", "webrtc.udp_ports"},
		{"FLASHVOX_WEBRTC_UDP_MUX_PORT=70000", "webrtc.udp_mux_port"},
		{"FLASHVOX_WEBRTC_UDP_MUX_PORT=40000\nFLASHVOX_WEBRTC_UDP_PORTS=10000-10100", "webrtc.udp_mux_port"},
		{"FLASHVOX_WEBRTC_MAX_SESSIONS=0", "webrtc.max_sessions"},
		{"FLASHVOX_WEBRTC_ENGINE=Lite", "webrtc.engine"},
		{"FLASHVOX_WEBRTC_ENGINE=pion\nFLASHVOX_WEBRTC_LITE_PORT=8189", "webrtc.lite_port"},
		{"FLASHVOX_WEBRTC_UDP_MUX_PORT=40000\nFLASHVOX_WEBRTC_LITE_PORT=8189", "webrtc.lite_port"},
		{"FLASHVOX_WEBRTC_ENGINE=lite\nFLASHVOX_WEBRTC_LITE_PORT=70000", "webrtc.lite_port"},
		{"FLASHVOX_WEBRTC_ENGINE=lite\nFLASHVOX_WEBRTC_UDP_PORTS=10000-10100", "webrtc.engine"},
		{"FLASHVOX_WEBRTC_ENGINE=lite\nFLASHVOX_WEBRTC_UDP_MUX_PORT=40000", "webrtc.engine"},
		{"FLASHVOX_WEBRTC_STUN_LISTEN=stun.example.org:3478", "webrtc.stun_listen"},
		{"FLASHVOX_WEBRTC_STUN_LISTEN=127.0.0.1", "webrtc.stun_listen"},
		{"FLASHVOX_WEBRTC_TURN_LISTEN=turn.example.org:3478", "webrtc.turn_listen"},
		{"FLASHVOX_WEBRTC_TURN_TCP_LISTEN=127.0.0.1", "webrtc.turn_tcp_listen"},
		{"FLASHVOX_WEBRTC_TURNS_LISTEN=turn.example.org:5349", "webrtc.turns_listen"},
		// turns_listen serves http.tls_cert's (or rtmp.tls_cert's) pair: none here.
		{"FLASHVOX_WEBRTC_TURNS_LISTEN=127.0.0.1:5349", "webrtc.turns_listen"},
		{"FLASHVOX_WEBRTC_TURN_TCP_LISTEN=127.0.0.1:3478\nFLASHVOX_WEBRTC_TURN_IDLE_TIMEOUT=1s", "webrtc.turn_idle_timeout"},
		{"FLASHVOX_WEBRTC_TURN_TCP_LISTEN=127.0.0.1:3478\nFLASHVOX_WEBRTC_TURNS_HOST=turn.example.org:5349", "webrtc.turns_host"},
		{"FLASHVOX_WEBRTC_TURN_TCP_LISTEN=127.0.0.1:3478\nFLASHVOX_WEBRTC_TURN_SECRET=short", "webrtc.turn_secret"},
	} {
		_, err := Load("", strings.Split(c.env, "\n"))
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != c.key {
			t.Errorf("%s: %v, want an error on %s", c.env, err, c.key)
		}
	}
	if _, err := Load("", nil); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c, err := Load("", []string{"FLASHVOX_WEBRTC_ENGINE=lite", "FLASHVOX_WEBRTC_LITE_PORT=8189"}); err != nil || c.WebRTC.Engine != "lite" || c.WebRTC.LitePort != 8189 {
		t.Fatalf("engine lite on 8189: %v", err)
	}
	if c, err := Load("", []string{"FLASHVOX_WEBRTC_UDP_MUX_PORT=40000"}); err != nil || c.WebRTC.UDPMuxPort != 40000 {
		t.Fatalf("udp_mux_port 40000: %v", err)
	}
}

func TestWebRTCPublicIPs(t *testing.T) {
	ips, err := WebRTC{PublicIP: "192.0.2.1, 2001:db8::1"}.PublicIPs()
	if err != nil || !slices.Equal(ips, []string{"192.0.2.1", "2001:db8::1"}) {
		t.Fatalf("%q %v", ips, err)
	}
}

func TestWebRTCCodecs(t *testing.T) {
	for _, c := range []struct {
		cs []string
		ok bool
	}{
		{[]string{"opus", "pcmu", "pcma", "g722"}, true}, {[]string{"pcmu"}, true},
		{nil, false}, {[]string{"speex"}, false}, {[]string{"PCMU"}, false}, {[]string{"opus", "opus"}, false},
	} {
		err := validateWebRTCCodecs(c.cs)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v", c.cs, err)
		}
		var ce *Error
		if err != nil && (!errors.As(err, &ce) || ce.Key != "webrtc.codecs") {
			t.Errorf("%q: %v is no webrtc.codecs error", c.cs, err)
		}
	}
	for _, u := range []string{"turn:example.org", "http://x", ""} {
		w := WebRTC{Enabled: true, ICEAddress: "127.0.0.1", Codecs: []string{"opus"}, MaxSessions: 1, MaxSessionsPerIP: 1, ConnectTimeout: 10 * time.Second, ICEServers: []string{u}}
		var ce *Error
		if err := (&Config{WebRTC: w}).validateWebRTC(); !errors.As(err, &ce) || ce.Key != "webrtc.ice_servers[0]" {
			t.Errorf("ice_servers %q: %v", u, err)
		}
	}
	c, err := Load("", nil)
	if err != nil || !slices.Equal(c.WebRTC.Codecs, []string{"opus", "pcmu", "pcma", "g722"}) {
		t.Fatalf("default codecs %q, %v", c.WebRTC.Codecs, err)
	}
}

// TestTURNSWithCert: turns_listen is accepted with the HTTPS pair set.
func TestTURNSWithCert(t *testing.T) {
	c, err := Load("", []string{"FLASHVOX_WEBRTC_TURNS_LISTEN=127.0.0.1:5349", "FLASHVOX_WEBRTC_TURNS_HOST=turn.example.org",
		"FLASHVOX_HTTP_TLS_LISTEN=127.0.0.1:8443", "FLASHVOX_HTTP_TLS_CERT=/x/cert.pem", "FLASHVOX_HTTP_TLS_KEY=/x/key.pem"})
	if err != nil {
		t.Fatal(err)
	}
	if c.WebRTC.TURNIdleTimeout != time.Minute {
		t.Fatalf("turn_idle_timeout default %v", c.WebRTC.TURNIdleTimeout)
	}
}

// TestWebRTCSTUNServers: webrtc.stun_servers takes stun:HOST[:PORT] over
// UDP only, at most four, each one server to send to; the gathering bound
// stays within 100 ms..5 s.
func TestWebRTCSTUNServers(t *testing.T) {
	base := WebRTC{Enabled: true, ICEAddress: "127.0.0.1", Codecs: []string{"opus"}, MaxSessions: 1, MaxSessionsPerIP: 1,
		ConnectTimeout: 10 * time.Second, STUNGatherTimeout: time.Second}
	for _, c := range []struct {
		urls []string
		key  string // "" = accepted
	}{
		{[]string{"stun:stun.example.org"}, ""},
		{[]string{"stun:stun.example.org:19302", "stun:192.0.2.1:3478", "stun:[2001:db8::1]:3478", "stun:[2001:db8::2]"}, ""},
		{[]string{"stun:a", "stun:b", "stun:c", "stun:d", "stun:e"}, "webrtc.stun_servers"},
		{[]string{"stuns:stun.example.org"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:ok.example.org", "turn:relay.example.org"}, "webrtc.stun_servers[1]"},
		{[]string{"stun:stun.example.org?transport=tcp"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:host:0"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:host:70000"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:2001:db8::1"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:0.0.0.0:3478"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:224.0.0.1:3478"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:user@host:3478"}, "webrtc.stun_servers[0]"},
		{[]string{"stun:ho_st:3478"}, "webrtc.stun_servers[0]"},
		{[]string{"stun.example.org:3478"}, "webrtc.stun_servers[0]"},
	} {
		w := base
		w.STUNServers = c.urls
		err := (&Config{WebRTC: w}).validateWebRTC()
		var ce *Error
		switch {
		case c.key == "" && err != nil:
			t.Errorf("%q: %v", c.urls, err)
		case c.key != "" && (!errors.As(err, &ce) || ce.Key != c.key):
			t.Errorf("%q: %v, want an error on %s", c.urls, err, c.key)
		}
	}
	// The shared ICE port does not take srflx candidates (pion would
	// gather them on sockets of their own).
	w := base
	var ce *Error
	w.STUNServers, w.Engine = []string{"stun:stun.example.org"}, "lite"
	if err := (&Config{WebRTC: w}).validateWebRTC(); !errors.As(err, &ce) || ce.Key != "webrtc.engine" {
		t.Errorf("stun_servers with the lite engine: %v, want an error on webrtc.engine", err)
	}
	w.Engine = ""
	w.STUNServers, w.UDPMuxPort = []string{"stun:stun.example.org"}, 40000
	if err := (&Config{WebRTC: w}).validateWebRTC(); !errors.As(err, &ce) || ce.Key != "webrtc.udp_mux_port" {
		t.Errorf("stun_servers with udp_mux_port: %v, want an error on webrtc.udp_mux_port", err)
	}
	for _, d := range []time.Duration{0, 50 * time.Millisecond, 6 * time.Second} {
		w := base
		w.STUNServers, w.STUNGatherTimeout = []string{"stun:192.0.2.1"}, d
		var ce *Error
		if err := (&Config{WebRTC: w}).validateWebRTC(); !errors.As(err, &ce) || ce.Key != "webrtc.stun_gather_timeout" {
			t.Errorf("stun_gather_timeout %v: %v", d, err)
		}
	}
	c, err := Load("", nil)
	if err != nil || len(c.WebRTC.STUNServers) != 0 || c.WebRTC.STUNGatherTimeout != time.Second {
		t.Fatalf("defaults: stun_servers %q, stun_gather_timeout %v, %v", c.WebRTC.STUNServers, c.WebRTC.STUNGatherTimeout, err)
	}
}
