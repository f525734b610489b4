package config

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRTMFPDefaultsAndEnv(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := c.RTMFP
	if !r.Enabled || r.Listen != "127.0.0.1:1935" || r.AudioLifetime != 500*time.Millisecond || r.IdleTimeout != 120*time.Second {
		t.Errorf("defaults: %+v", r)
	}
	c, err = Load("", []string{"FLASHVOX_RTMFP_ENABLED=true", "FLASHVOX_RTMFP_LISTEN=127.0.0.1:19351", "FLASHVOX_RTMFP_AUDIO_LIFETIME=250ms"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.RTMFP.Enabled || c.RTMFP.Listen != "127.0.0.1:19351" || c.RTMFP.AudioLifetime != 250*time.Millisecond {
		t.Errorf("env overrides: %+v", c.RTMFP)
	}
	if r.DelayCC || r.CongestionDelay != 100*time.Millisecond {
		t.Errorf("delay_cc defaults: %v, %v", r.DelayCC, r.CongestionDelay)
	}
	c, err = Load("", []string{"FLASHVOX_RTMFP_DELAY_CC=true", "FLASHVOX_RTMFP_CONGESTION_DELAY=150ms"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.RTMFP.DelayCC || c.RTMFP.CongestionDelay != 150*time.Millisecond {
		t.Errorf("delay_cc env overrides: %v, %v", c.RTMFP.DelayCC, c.RTMFP.CongestionDelay)
	}
}

func TestRTMFPValidate(t *testing.T) {
	for _, tc := range []struct {
		env []string
		key string
	}{
		{[]string{"FLASHVOX_RTMFP_ENABLED=true", "FLASHVOX_RTMFP_LISTEN=nope"}, "rtmfp.listen"},
		{[]string{"FLASHVOX_RTMFP_ENABLED=true", "FLASHVOX_RTMFP_AUDIO_LIFETIME=1ms"}, "rtmfp.audio_lifetime"},
		{[]string{"FLASHVOX_RTMFP_ENABLED=true", "FLASHVOX_RTMFP_KEEPALIVE=200s"}, "rtmfp.keepalive"},
		{[]string{"FLASHVOX_RTMFP_ENABLED=true", "FLASHVOX_RTMFP_SESSION_BUFFER=8192"}, "rtmfp.session_buffer"},
		{[]string{"FLASHVOX_RTMFP_ENABLED=true", "FLASHVOX_RTMFP_CONGESTION_DELAY=1ms"}, "rtmfp.congestion_delay"},
	} {
		_, err := Load("", tc.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v: err %v, want key %s", tc.env, err, tc.key)
		}
	}
	// Off: nothing is checked.
	if _, err := Load("", []string{"FLASHVOX_RTMFP_ENABLED=false", "FLASHVOX_RTMFP_LISTEN=nope"}); err != nil {
		t.Errorf("disabled rtmfp validated: %v", err)
	}
}

// TestP2PKeys: call.p2p, call.no_p2p and rtmfp.redirect_servers load from
// a file, call.p2p from the environment too, and a bad entry names its key.
func TestP2PKeys(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Call.P2P || len(c.Call.NoP2P) != 0 || len(c.RTMFP.RedirectServers) != 0 {
		t.Errorf("defaults: p2p %v, no_p2p %v, redirect_servers %v", c.Call.P2P, c.Call.NoP2P, c.RTMFP.RedirectServers)
	}
	p := filepath.Join(t.TempDir(), "p2p.yaml")
	if err := os.WriteFile(p, []byte("call:\n  no_p2p: [bob]\nrtmfp:\n  redirect_servers: [\"192.0.2.7:1935\", \"[2001:db8::1]:10000\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(p, []string{"FLASHVOX_CALL_P2P=false"})
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := c.RTMFP.RedirectAddrs()
	if c.Call.P2P || !slices.Equal(c.Call.NoP2P, []string{"bob"}) || err != nil ||
		!slices.Equal(addrs, []netip.AddrPort{netip.MustParseAddrPort("192.0.2.7:1935"), netip.MustParseAddrPort("[2001:db8::1]:10000")}) {
		t.Errorf("loaded: p2p %v, no_p2p %v, redirect %v (%v)", c.Call.P2P, c.Call.NoP2P, addrs, err)
	}
	for _, tc := range []struct {
		yaml, env, key string
	}{
		{"rtmfp:\n  redirect_servers: [\"cirrus.example.com:1935\"]\n", "", "rtmfp.redirect_servers[0]"},
		{"rtmfp:\n  redirect_servers: [\"192.0.2.7:1935\", \"192.0.2.8\"]\n", "", "rtmfp.redirect_servers[1]"},
		{"rtmfp:\n  redirect_servers: [\"192.0.2.7:0\"]\n", "", "rtmfp.redirect_servers[0]"},
		{"rtmfp:\n  redirect_servers: 192.0.2.7:1935\n", "", "rtmfp.redirect_servers"},
		{"call:\n  no_p2p: [bob, mallory]\n", "", "call.no_p2p[1]"},
		{"call:\n  no_p2p: [bob, bob]\n", "", "call.no_p2p[1]"},
		{"", "FLASHVOX_CALL_P2P=maybe", "call.p2p"},
	} {
		if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		var env []string
		if tc.env != "" {
			env = []string{tc.env}
		}
		_, err := Load(p, env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%q %s: err %v, want key %s", tc.yaml, tc.env, err, tc.key)
		}
	}
}
