// Package config loads flashvox's one YAML file: embedded defaults, a user
// file layered on top, then FLASHVOX_<SECTION>_<KEY> environment overrides,
// then validation whose errors name the offending key.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// Default returns the embedded default configuration text, as `flashvox config` prints it.
func Default() []byte { return bytes.Clone(defaultYAML) }

// Config is the whole configuration. Components receive plain fields from it,
// never the struct itself.
type Config struct {
	Log  Log  `yaml:"log"`
	RTMP RTMP `yaml:"rtmp"`
	HTTP HTTP `yaml:"http"`
	SIP  SIP  `yaml:"sip"`
	// Users may log in to the phone application and the HTTP API.
	Users []User `yaml:"users"`
	Auth  Auth   `yaml:"auth"`
	Call  Call   `yaml:"call"`
	// Conference configures rooms (config/conference.go).
	Conference Conference `yaml:"conference"`

	// RTMFP configures the UDP transport (config/rtmfp.go).
	RTMFP RTMFP `yaml:"rtmfp"`

	// WebRTC configures WHIP/WHEP for browsers (config/webrtc.go).
	WebRTC WebRTC `yaml:"webrtc"`

	// Hooks are the on_connect/on_publish/on_play HTTP hooks (config/hooks.go).
	Hooks Hooks `yaml:"hooks"`

	// Apps are the applications clients may connect to, with their access
	// policies (config/apps.go); every other name is refused.
	Apps []App `yaml:"apps"`

	// DataDir and Database say where accounts, the token secret,
	// registrations and call records are kept (config/store.go).
	DataDir  string   `yaml:"data_dir"`
	Database Database `yaml:"database"`

	// Cluster joins other nodes over NATS (config/cluster.go); off by default.
	Cluster Cluster `yaml:"cluster"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// RTMP configures the RTMP listener and its per-connection limits.
type RTMP struct {
	Listen                  string        `yaml:"listen"`
	ChunkSize               int           `yaml:"chunk_size"`
	MaxMessageSize          int           `yaml:"max_message_size"`
	MaxChunkStreams         int           `yaml:"max_chunk_streams"`
	PreConnectBuffer        int           `yaml:"preconnect_buffer"`
	MaxBuffered             int           `yaml:"max_buffered"`
	MaxStreamsPerConnection int           `yaml:"max_streams_per_connection"`
	MaxConnections          int           `yaml:"max_connections"`
	MaxConnectionsPerIP     int           `yaml:"max_connections_per_ip"`
	WriteQueue              int           `yaml:"write_queue"`
	SubscriberQueue         int           `yaml:"subscriber_queue"`
	HandshakeTimeout        time.Duration `yaml:"handshake_timeout"`
	ReadTimeout             time.Duration `yaml:"read_timeout"`
	WriteTimeout            time.Duration `yaml:"write_timeout"`
	PingInterval            time.Duration `yaml:"ping_interval"`
	// TLSListen is the RTMPS listener; "" = off. Needs TLSCert and TLSKey.
	TLSListen string `yaml:"tls_listen"`
	// TLSCert and TLSKey are the PEM pair of RTMPS and RTMPTS, read again on SIGHUP.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// RTMPTListen is a listener for the RTMPT tunnel only (e.g. :80); "" = off.
	// The tunnel is always served on http.listen too.
	RTMPTListen string `yaml:"rtmpt_listen"`
	// RTMPTSListen is the HTTPS listener of the tunnel (RTMPTS); "" = off.
	RTMPTSListen string `yaml:"rtmpts_listen"`
	// RTMPTMaxSessions bounds open tunnel sessions over all listeners;
	// RTMPTMaxSessionsPerIP one client address's share of them.
	RTMPTMaxSessions      int `yaml:"rtmpt_max_sessions"`
	RTMPTMaxSessionsPerIP int `yaml:"rtmpt_max_sessions_per_ip"`
	// RTMPTIdleTimeout closes a tunnel session with no request for this long.
	RTMPTIdleTimeout time.Duration `yaml:"rtmpt_idle_timeout"`
	// MaxTranscoders bounds the hub's transcoders: a play with ?codec=
	// that needs one more is refused (0 = no ?codec= transcoding at all).
	MaxTranscoders int `yaml:"max_transcoders"`
}

// HTTP configures the HTTP listener (health, metrics, APIs) and its HTTPS
// twin (config/http.go).
type HTTP struct {
	Listen string `yaml:"listen"`
	// MaxConnections and MaxConnectionsPerIP bound open HTTP connections
	// (keep-alives and long-polls included) in total and per client address.
	MaxConnections      int `yaml:"max_connections"`
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// TLSListen serves the same routes over TLS; "" = off. Needs TLSCert
	// and TLSKey (PEM, read again on SIGHUP).
	TLSListen string `yaml:"tls_listen"`
	TLSCert   string `yaml:"tls_cert"`
	TLSKey    string `yaml:"tls_key"`
}

// Error is a configuration problem tied to one key; main exits with code 2 on it.
type Error struct {
	Key string // dotted path, e.g. "rtmp.chunk_size"
	Msg string
}

func (e *Error) Error() string { return e.Key + ": " + e.Msg }

// ErrConfig is matched by errors.Is for every configuration error.
var ErrConfig = errors.New("config error")

// Is reports that every *Error is a configuration error.
func (e *Error) Is(target error) bool { return target == ErrConfig }

// Load builds the configuration from the embedded defaults, the file at path
// (skipped when path is ""), and the environment given as KEY=VALUE strings
// (os.Environ() in production).
func Load(path string, environ []string) (*Config, error) {
	var c Config
	if err := decodeStrict(defaultYAML, &c); err != nil {
		return nil, fmt.Errorf("config: embedded defaults: %w", err)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decodeStrict(b, &c); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeStrict layers YAML b over c, refusing keys the struct does not have.
func decodeStrict(b []byte, c *Config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return &Error{Key: "(file)", Msg: err.Error()}
	}
	if len(root.Content) == 0 { // empty file
		return nil
	}
	if err := checkKeys(root.Content[0], typeOf(c), ""); err != nil {
		return err
	}
	if err := root.Content[0].Decode(c); err != nil {
		return &Error{Key: "(file)", Msg: err.Error()}
	}
	return nil
}
