package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHooksDefaultsOffAndSet(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Hooks; h.OnConnect != "" || h.OnPublish != "" || h.OnPlay != "" || h.Timeout != 2*time.Second {
		t.Errorf("defaults: %+v", h)
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	file := "hooks: {on_connect: 'http://127.0.0.1:8000/c', on_publish: 'https://auth.example/p', timeout: 500ms}\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(path, []string{"FLASHVOX_HOOKS_ON_PLAY=http://h/play"})
	if err != nil {
		t.Fatal(err)
	}
	if h := c.Hooks; h.OnConnect != "http://127.0.0.1:8000/c" || h.OnPublish != "https://auth.example/p" || h.OnPlay != "http://h/play" || h.Timeout != 500*time.Millisecond {
		t.Errorf("set: %+v", h)
	}
}

func TestHooksValidate(t *testing.T) {
	for _, tc := range []struct {
		env []string
		key string
	}{
		{[]string{"FLASHVOX_HOOKS_ON_CONNECT=127.0.0.1:8000/c"}, "hooks.on_connect"},
		{[]string{"FLASHVOX_HOOKS_ON_PUBLISH=ftp://h/p"}, "hooks.on_publish"},
		{[]string{"FLASHVOX_HOOKS_ON_PLAY=http:///nohost"}, "hooks.on_play"},
		{[]string{"FLASHVOX_HOOKS_TIMEOUT=1ms"}, "hooks.timeout"},
		{[]string{"FLASHVOX_HOOKS_TIMEOUT=1m"}, "hooks.timeout"},
	} {
		_, err := Load("", tc.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v: err %v, want key %s", tc.env, err, tc.key)
		}
	}
}
