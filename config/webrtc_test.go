package config

import (
	"errors"
	"slices"
	"testing"
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
		{"FLASHVOX_WEBRTC_UDP_PORTS=9-1", "webrtc.udp_ports"},
		{"FLASHVOX_WEBRTC_MAX_SESSIONS=0", "webrtc.max_sessions"},
	} {
		_, err := Load("", []string{c.env})
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != c.key {
			t.Errorf("%s: %v, want an error on %s", c.env, err, c.key)
		}
	}
	if _, err := Load("", nil); err != nil {
		t.Fatalf("defaults: %v", err)
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
	c, err := Load("", nil)
	if err != nil || !slices.Equal(c.WebRTC.Codecs, []string{"opus", "pcmu", "pcma", "g722"}) {
		t.Fatalf("default codecs %q, %v", c.WebRTC.Codecs, err)
	}
}
