package config

import "time"

// RTMFP configures the RTMFP (UDP) server: Flash's low-latency transport,
// serving the same applications as RTMP.
type RTMFP struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"` // UDP host:port
	// MaxSessions and MaxSessionsPerIP bound open sessions.
	MaxSessions      int `yaml:"max_sessions"`
	MaxSessionsPerIP int `yaml:"max_sessions_per_ip"`
	// HandshakesPerSecond bounds keying attempts per remote IP per second
	// (hellos: eight times as many); the rest are dropped and counted.
	HandshakesPerSecond int `yaml:"handshakes_per_second"`
	MaxFlowsPerSession  int `yaml:"max_flows_per_session"`
	FlowBuffer          int `yaml:"flow_buffer"`    // reassembly bytes per flow
	SessionBuffer       int `yaml:"session_buffer"` // reassembly bytes per session
	SendQueue           int `yaml:"send_queue"`     // queued bytes per session before media is dropped
	// IdleTimeout drops a session that sent nothing for this long;
	// Keepalive pings a silent one (and is what setPeerInfo announces).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	Keepalive   time.Duration `yaml:"keepalive"`
	// AudioLifetime: voice older than this is abandoned, never retransmitted.
	AudioLifetime time.Duration `yaml:"audio_lifetime"`
	// RequireHMAC and RequireSequence demand RFC 7425 §4.6.5 HMAC and
	// session sequence numbers of every client (Flash Player sends neither).
	RequireHMAC     bool `yaml:"require_hmac"`
	RequireSequence bool `yaml:"require_sequence"`
	// IdentityFile keeps the server's certificate randomness so its
	// fingerprint (peer ID) survives restarts; "" = new each start.
	IdentityFile string `yaml:"identity_file"`
}

func (c *Config) validateRTMFP() error {
	r := c.RTMFP
	if !r.Enabled {
		return nil
	}
	for _, check := range []func() error{
		addr("rtmfp.listen", r.Listen),
		intRange("rtmfp.max_sessions", r.MaxSessions, 1, 1_000_000),
		intRange("rtmfp.max_sessions_per_ip", r.MaxSessionsPerIP, 1, 1_000_000),
		intRange("rtmfp.handshakes_per_second", r.HandshakesPerSecond, 1, 1_000_000),
		intRange("rtmfp.max_flows_per_session", r.MaxFlowsPerSession, 4, 1024),
		intRange("rtmfp.flow_buffer", r.FlowBuffer, 4096, 16<<20),
		intRange("rtmfp.session_buffer", r.SessionBuffer, 4096, 256<<20),
		intRange("rtmfp.send_queue", r.SendQueue, 4096, 256<<20),
		durRange("rtmfp.idle_timeout", r.IdleTimeout, 5*time.Second, time.Hour),
		durRange("rtmfp.keepalive", r.Keepalive, time.Second, time.Hour),
		durRange("rtmfp.audio_lifetime", r.AudioLifetime, 20*time.Millisecond, 10*time.Second),
	} {
		if err := check(); err != nil {
			return err
		}
	}
	if r.Keepalive >= r.IdleTimeout {
		return &Error{Key: "rtmfp.keepalive", Msg: "must be shorter than rtmfp.idle_timeout"}
	}
	if r.SessionBuffer < r.FlowBuffer {
		return &Error{Key: "rtmfp.session_buffer", Msg: "must be at least rtmfp.flow_buffer"}
	}
	return nil
}
