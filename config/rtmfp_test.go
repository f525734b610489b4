package config

import (
	"errors"
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
