package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flashvox.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RTMP.Listen != "127.0.0.1:1935" || c.HTTP.Listen != "127.0.0.1:8080" || c.SIP.Listen != "127.0.0.1:5060" {
		t.Fatalf("listen defaults: %+v %+v %+v", c.RTMP, c.HTTP, c.SIP)
	}
	if c.RTMP.HandshakeTimeout != 5*time.Second {
		t.Fatalf("handshake_timeout = %v", c.RTMP.HandshakeTimeout)
	}
}

func TestFileAndEnvLayering(t *testing.T) {
	p := writeFile(t, "rtmp:\n  listen: 127.0.0.1:2000\n  chunk_size: 8192\nlog:\n  format: json\n")
	c, err := Load(p, []string{"FLASHVOX_RTMP_LISTEN=127.0.0.1:19350", "FLASHVOX_RTMP_READ_TIMEOUT=90s", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if c.RTMP.Listen != "127.0.0.1:19350" {
		t.Errorf("env must win over file: %q", c.RTMP.Listen)
	}
	if c.RTMP.ChunkSize != 8192 || c.Log.Format != "json" {
		t.Errorf("file values lost: %+v", c)
	}
	if c.RTMP.ReadTimeout != 90*time.Second {
		t.Errorf("read_timeout = %v", c.RTMP.ReadTimeout)
	}
	if c.HTTP.Listen != "127.0.0.1:8080" {
		t.Errorf("unset key must keep default: %q", c.HTTP.Listen)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		key        string
	}{
		{"unknown key", "rtmp:\n  lisen: x\n", nil, "rtmp.lisen"},
		{"unknown section", "rtmpx:\n  listen: x\n", nil, "rtmpx"},
		{"chunk size range", "rtmp:\n  chunk_size: 64\n", nil, "rtmp.chunk_size"},
		{"bad address", "http:\n  listen: nonsense\n", nil, "http.listen"},
		{"bad port", "sip:\n  listen: 127.0.0.1:70000\n", nil, "sip.listen"},
		{"not an int", "rtmp:\n  chunk_size: big\n", nil, "rtmp.chunk_size"},
		{"bad duration", "rtmp:\n  read_timeout: soon\n", nil, "rtmp.read_timeout"},
		{"bad level", "log:\n  level: loud\n", nil, "log.level"},
		{"section not a mapping", "rtmp: 5\n", nil, "rtmp"},
		{"env bad int", "", []string{"FLASHVOX_RTMP_CHUNK_SIZE=x"}, "rtmp.chunk_size"},
		{"env out of range", "", []string{"FLASHVOX_RTMP_CHUNK_SIZE=1"}, "rtmp.chunk_size"},
		{"env unknown", "", []string{"FLASHVOX_RTMP_NOPE=1"}, "FLASHVOX_RTMP_NOPE"},
		{"ping vs read timeout", "rtmp:\n  ping_interval: 2m\n", nil, "rtmp.ping_interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ""
			if tt.file != "" {
				p = writeFile(t, tt.file)
			}
			_, err := Load(p, tt.env)
			var ce *Error
			if !errors.As(err, &ce) || !errors.Is(err, ErrConfig) {
				t.Fatalf("want *config.Error, got %v", err)
			}
			if ce.Key != tt.key || !strings.HasPrefix(err.Error(), tt.key+": ") {
				t.Fatalf("error %q does not name key %q", err, tt.key)
			}
		})
	}
}

func TestDefaultIsValidYAMLOnItsOwn(t *testing.T) {
	p := writeFile(t, string(Default()))
	if _, err := Load(p, nil); err != nil {
		t.Fatalf("printed default config must load back: %v", err)
	}
}
