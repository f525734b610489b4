package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterValidation(t *testing.T) {
	const secret = "0123456789abcdef"
	for _, c := range []struct {
		name string
		env  []string
		key  string // "" = valid
	}{
		{"off by default", nil, ""},
		{"embedded", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_NODE=a-1"}, ""},
		{"external", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_NATS_URL=nats://127.0.0.1:4222"}, ""},
		{"no secret", []string{"FLASHVOX_CLUSTER_ENABLED=true"}, "cluster.secret"},
		{"short secret", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=short"}, "cluster.secret"},
		{"node with a dot", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_NODE=a.b"}, "cluster.node"},
		{"bad url", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_NATS_URL=http://x"}, "cluster.nats_url"},
		{"bad listen", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_LISTEN=nowhere"}, "cluster.listen"},
		{"rtmp url", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_RTMP_URL=http://x"}, "cluster.rtmp_url"},
		{"redirect", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_RTMP_URL=rtmp://10.0.0.2:1935", "FLASHVOX_CLUSTER_REDIRECT_ABOVE=100"}, ""},
		{"heartbeat", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_HEARTBEAT=1ms"}, "cluster.heartbeat"},
		{"placement", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_HTTP_URL=https://10.0.0.2:8443", "FLASHVOX_CLUSTER_RTMFP_ADDR=10.0.0.2:1935"}, ""},
		{"http url with a path", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_HTTP_URL=http://x/evil"}, "cluster.http_url"},
		{"http url not http", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_HTTP_URL=javascript://x"}, "cluster.http_url"},
		{"tls", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_LISTEN=10.0.0.1:6222", "FLASHVOX_CLUSTER_TLS_CERT=a.pem", "FLASHVOX_CLUSTER_TLS_KEY=a.key", "FLASHVOX_CLUSTER_TLS_CA=ca.pem"}, ""},
		{"tls without its ca", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_TLS_CERT=a.pem", "FLASHVOX_CLUSTER_TLS_KEY=a.key"}, "cluster.tls_ca"},
		{"tls ca alone", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_TLS_CA=ca.pem"}, "cluster.tls_cert"},
		{"routes beyond loopback in clear", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_LISTEN=10.0.0.1:6222"}, "cluster.listen"},
		{"every address in clear", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_LISTEN=:6222"}, "cluster.listen"},
		{"client port beyond loopback in clear", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_CLIENT_LISTEN=0.0.0.0:4222"}, "cluster.client_listen"},
		{"private network opt-out", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_LISTEN=10.0.0.1:6222", "FLASHVOX_CLUSTER_CLIENT_LISTEN=10.0.0.1:4222", "FLASHVOX_CLUSTER_INSECURE_PLAINTEXT=true"}, ""},
		{"loopback by name", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_LISTEN=localhost:6222"}, ""},
		{"external nats beyond loopback in clear", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_NATS_URL=nats://10.0.0.9"}, "cluster.nats_url"},
		{"external nats over tls", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_NATS_URL=tls://nats.example:4222"}, ""},
		{"external nats with the cluster's tls", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_NATS_URL=nats://10.0.0.9:4222", "FLASHVOX_CLUSTER_TLS_CERT=a.pem", "FLASHVOX_CLUSTER_TLS_KEY=a.key", "FLASHVOX_CLUSTER_TLS_CA=ca.pem"}, ""},
		{"rtmfp addr a host name", []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=" + secret, "FLASHVOX_CLUSTER_RTMFP_ADDR=node-b:1935"}, "cluster.rtmfp_addr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("", c.env)
			if c.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Cluster.NodeName() == "" || strings.ContainsAny(cfg.Cluster.NodeName(), ". ") {
					t.Fatalf("node name %q", cfg.Cluster.NodeName())
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != c.key {
				t.Fatalf("got %v, want an error on %s", err, c.key)
			}
		})
	}
}

// TestClusterRouteInClear: a route to another address than loopback is
// traffic in clear beyond loopback too (the secret travels in the route's
// CONNECT), even with a loopback route port; TLS or the opt-out allow it.
func TestClusterRouteInClear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("cluster:\n  routes: [127.0.0.1:6222, 10.0.0.2:6222]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"FLASHVOX_CLUSTER_ENABLED=true", "FLASHVOX_CLUSTER_SECRET=0123456789abcdef", "FLASHVOX_CLUSTER_LISTEN=127.0.0.1:6222"}
	var ce *Error
	if _, err := Load(path, env); !errors.As(err, &ce) || ce.Key != "cluster.routes[1]" || !strings.Contains(ce.Msg, "10.0.0.2:6222") {
		t.Fatalf("got %v, want an error on cluster.routes[1]", err)
	}
	for _, extra := range [][]string{
		{"FLASHVOX_CLUSTER_INSECURE_PLAINTEXT=true"},
		{"FLASHVOX_CLUSTER_TLS_CERT=a.pem", "FLASHVOX_CLUSTER_TLS_KEY=a.key", "FLASHVOX_CLUSTER_TLS_CA=ca.pem"},
	} {
		cfg, err := Load(path, append(env, extra...))
		if err != nil {
			t.Fatalf("%v: %v", extra, err)
		}
		if _, _, clear := cfg.Cluster.ClearBeyondLoopback(); clear != (extra[0] == "FLASHVOX_CLUSTER_INSECURE_PLAINTEXT=true") {
			t.Errorf("%v: in clear beyond loopback = %v", extra, clear)
		}
	}
}
