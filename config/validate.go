package config

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Validate checks every value and returns the first problem, naming its key.
func (c *Config) Validate() error {
	checks := []func() error{
		oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error"),
		oneOf("log.format", c.Log.Format, "text", "json"),
		addr("rtmp.listen", c.RTMP.Listen),
		intRange("rtmp.chunk_size", c.RTMP.ChunkSize, 128, 16<<20),
		intRange("rtmp.max_message_size", c.RTMP.MaxMessageSize, 4096, 16<<20),
		intRange("rtmp.max_chunk_streams", c.RTMP.MaxChunkStreams, 4, 65599),
		intRange("rtmp.max_buffered", c.RTMP.MaxBuffered, c.RTMP.MaxMessageSize, 1<<30),
		intRange("rtmp.preconnect_buffer", c.RTMP.PreConnectBuffer, 1024, c.RTMP.MaxBuffered),
		intRange("rtmp.max_streams_per_connection", c.RTMP.MaxStreamsPerConnection, 1, 1024),
		intRange("rtmp.max_connections", c.RTMP.MaxConnections, 1, 1_000_000),
		intRange("rtmp.max_connections_per_ip", c.RTMP.MaxConnectionsPerIP, 1, 1_000_000),
		intRange("rtmp.write_queue", c.RTMP.WriteQueue, 16, 1<<20),
		intRange("rtmp.subscriber_queue", c.RTMP.SubscriberQueue, 8, 1<<20),
		durRange("rtmp.handshake_timeout", c.RTMP.HandshakeTimeout, 100*time.Millisecond, time.Minute),
		durRange("rtmp.read_timeout", c.RTMP.ReadTimeout, time.Second, time.Hour),
		durRange("rtmp.write_timeout", c.RTMP.WriteTimeout, 100*time.Millisecond, 10*time.Minute),
		durRange("rtmp.ping_interval", c.RTMP.PingInterval, 100*time.Millisecond, time.Hour),
		optAddr("rtmp.tls_listen", c.RTMP.TLSListen),
		optAddr("rtmp.rtmpt_listen", c.RTMP.RTMPTListen),
		optAddr("rtmp.rtmpts_listen", c.RTMP.RTMPTSListen),
		c.validateTLS,
		intRange("rtmp.rtmpt_max_sessions", c.RTMP.RTMPTMaxSessions, 1, 1_000_000),
		intRange("rtmp.rtmpt_max_sessions_per_ip", c.RTMP.RTMPTMaxSessionsPerIP, 1, c.RTMP.RTMPTMaxSessions),
		durRange("rtmp.rtmpt_idle_timeout", c.RTMP.RTMPTIdleTimeout, time.Second, time.Hour),
		intRange("rtmp.max_transcoders", c.RTMP.MaxTranscoders, 0, 100_000),
		c.validateRTMFP,
		c.validateWebRTC,
		c.validateP2P,
		addr("http.listen", c.HTTP.Listen),
		intRange("http.max_connections", c.HTTP.MaxConnections, 1, 1_000_000),
		intRange("http.max_connections_per_ip", c.HTTP.MaxConnectionsPerIP, 1, c.HTTP.MaxConnections),
		optAddr("http.tls_listen", c.HTTP.TLSListen),
		c.validateHTTPTLS,
		addr("sip.listen", c.SIP.Listen),
		c.validateSIP,
		c.validateAuth,
		c.validateUsers,
		c.validateConference,
		c.validateHooks,
		c.validateApps,
		c.validateStore,
		c.validateCluster,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	if c.RTMP.PingInterval >= c.RTMP.ReadTimeout {
		return &Error{Key: "rtmp.ping_interval", Msg: "must be shorter than rtmp.read_timeout"}
	}
	return nil
}

// optAddr is addr for a listener that "" turns off.
func optAddr(key, v string) func() error {
	if v == "" {
		return func() error { return nil }
	}
	return addr(key, v)
}

// validateTLS: a TLS listener needs both halves of the pair, and a pair
// needs a listener (a lone half is a typo).
func (c *Config) validateTLS() error {
	tls := c.RTMP.TLSListen != "" || c.RTMP.RTMPTSListen != ""
	switch {
	case tls && c.RTMP.TLSCert == "":
		return &Error{Key: "rtmp.tls_cert", Msg: "required by rtmp.tls_listen and rtmp.rtmpts_listen"}
	case tls && c.RTMP.TLSKey == "":
		return &Error{Key: "rtmp.tls_key", Msg: "required by rtmp.tls_listen and rtmp.rtmpts_listen"}
	case (c.RTMP.TLSCert == "") != (c.RTMP.TLSKey == ""):
		return &Error{Key: "rtmp.tls_key", Msg: "rtmp.tls_cert and rtmp.tls_key go together"}
	}
	return nil
}

func oneOf(key, v string, allowed ...string) func() error {
	return func() error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return &Error{Key: key, Msg: fmt.Sprintf("must be one of %v, got %q", allowed, v)}
	}
}

func intRange(key string, v, lo, hi int) func() error {
	return func() error {
		if v < lo || v > hi {
			return &Error{Key: key, Msg: fmt.Sprintf("must be %d..%d, got %d", lo, hi, v)}
		}
		return nil
	}
}

func durRange(key string, v, lo, hi time.Duration) func() error {
	return func() error {
		if v < lo || v > hi {
			return &Error{Key: key, Msg: fmt.Sprintf("must be %s..%s, got %s", lo, hi, v)}
		}
		return nil
	}
}

// addr accepts host:port with a literal IP or a host name and a port 0..65535.
func addr(key, v string) func() error {
	return func() error {
		host, port, err := net.SplitHostPort(v)
		if err != nil {
			return &Error{Key: key, Msg: fmt.Sprintf("must be host:port, got %q", v)}
		}
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return &Error{Key: key, Msg: fmt.Sprintf("port must be 0..65535, got %q", port)}
		}
		if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
			return &Error{Key: key, Msg: fmt.Sprintf("bad host %q", host)}
		}
		return nil
	}
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r == '-' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return false
		}
	}
	return true
}
