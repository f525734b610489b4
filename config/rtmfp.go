package config

import (
	"fmt"
	"net/netip"
	"slices"
	"time"
)

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
	FlowBuffer          int `yaml:"flow_buffer"`       // reassembly bytes per flow
	SessionBuffer       int `yaml:"session_buffer"`    // reassembly bytes per session
	PreConnectBuffer    int `yaml:"preconnect_buffer"` // the same until the session's connect is admitted
	SendQueue           int `yaml:"send_queue"`        // queued bytes per session before media is dropped
	// IdleTimeout drops a session that sent nothing for this long;
	// Keepalive pings a silent one (and is what setPeerInfo announces).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	Keepalive   time.Duration `yaml:"keepalive"`
	// AudioLifetime: voice older than this is abandoned, never retransmitted.
	AudioLifetime time.Duration `yaml:"audio_lifetime"`
	// DelayCC turns on delay-based congestion detection: a smoothed RTT
	// CongestionDelay above a session's baseline cuts its congestion
	// window as a loss would (docs/RTMFP.md "Congestion control").
	DelayCC         bool          `yaml:"delay_cc"`
	CongestionDelay time.Duration `yaml:"congestion_delay"`
	// RequireHMAC and RequireSequence demand RFC 7425 §4.6.5 HMAC and
	// session sequence numbers of every client (Flash Player sends neither).
	RequireHMAC     bool `yaml:"require_hmac"`
	RequireSequence bool `yaml:"require_sequence"`
	// IdentityFile keeps the server's certificate randomness so its
	// fingerprint (peer ID) survives restarts; "" = new each start.
	IdentityFile string `yaml:"identity_file"`
	// RedirectServers are other rendezvous servers (IP:port, UDP): an
	// IHello for a peer ID with no session here gets a Redirect to them
	// instead of silence. IP literals only: a Redirect carries addresses.
	RedirectServers []string `yaml:"redirect_servers"`
	// Rendezvous says whom the server introduces to a connected peer:
	// "calls" (only the other party of an answered peer-to-peer call, so
	// no one else learns a peer's address) or "open" (anyone who knows the
	// peer ID, as Adobe's Cirrus did).
	Rendezvous string `yaml:"rendezvous"`
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
		durRange("rtmfp.congestion_delay", r.CongestionDelay, 10*time.Millisecond, 5*time.Second),
	} {
		if err := check(); err != nil {
			return err
		}
	}
	if r.Rendezvous != "calls" && r.Rendezvous != "open" {
		return &Error{Key: "rtmfp.rendezvous", Msg: fmt.Sprintf("must be calls or open, got %q", r.Rendezvous)}
	}
	if r.Keepalive >= r.IdleTimeout {
		return &Error{Key: "rtmfp.keepalive", Msg: "must be shorter than rtmfp.idle_timeout"}
	}
	if r.SessionBuffer < r.FlowBuffer {
		return &Error{Key: "rtmfp.session_buffer", Msg: "must be at least rtmfp.flow_buffer"}
	}
	if err := intRange("rtmfp.preconnect_buffer", r.PreConnectBuffer, 4096, r.SessionBuffer)(); err != nil {
		return err
	}
	_, err := r.RedirectAddrs()
	return err
}

// RedirectAddrs parses RedirectServers; the error names the bad entry's key.
func (r RTMFP) RedirectAddrs() ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, len(r.RedirectServers))
	for i, s := range r.RedirectServers {
		a, err := netip.ParseAddrPort(s)
		if err != nil || a.Port() == 0 || a.Addr().IsUnspecified() {
			return nil, &Error{Key: fmt.Sprintf("rtmfp.redirect_servers[%d]", i), Msg: fmt.Sprintf("must be IP:port with a nonzero port (a Redirect carries addresses, not names), got %q", s)}
		}
		out = append(out, a)
	}
	return out, nil
}

// validateP2P checks call.no_p2p: each entry a configured user, once. A
// name not in users would never match anyone, so it is a typo.
func (c *Config) validateP2P() error {
	for i, name := range c.Call.NoP2P {
		key := fmt.Sprintf("call.no_p2p[%d]", i)
		if !slices.ContainsFunc(c.Users, func(u User) bool { return u.Name == name }) {
			return &Error{Key: key, Msg: fmt.Sprintf("%q is not one of the users", name)}
		}
		if slices.Index(c.Call.NoP2P, name) < i {
			return &Error{Key: key, Msg: fmt.Sprintf("%q is listed twice", name)}
		}
	}
	return nil
}
