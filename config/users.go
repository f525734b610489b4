package config

import (
	"fmt"
	"net"
	"time"
)

// User is one account: a name and its password.
type User struct {
	Name     string `yaml:"name"`
	Password string `yaml:"password"`
}

// Auth configures tokens (see docs/PROTOCOL.md for their format).
type Auth struct {
	// Secret keys the HMAC of tokens; a site backend that knows it can mint
	// tokens itself. Empty means a random secret per process start.
	Secret   string        `yaml:"secret"`
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// Call configures one-to-one calls.
type Call struct {
	RingTimeout         time.Duration `yaml:"ring_timeout"`
	EventsPerUser       int           `yaml:"events_per_user"`
	HTTPPresenceTimeout time.Duration `yaml:"http_presence_timeout"`
	// P2P lets calls between two RTMFP parties go peer to peer; false
	// relays every call. NoP2P lists users whose calls always relay
	// (config/rtmfp.go validates both).
	P2P   bool     `yaml:"p2p"`
	NoP2P []string `yaml:"no_p2p"`
}

// minSecret is the shortest auth.secret accepted: an HMAC key shorter than
// this is guessable.
const minSecret = 16

func (c *Config) validateAuth() error {
	if c.Auth.Secret != "" && len(c.Auth.Secret) < minSecret {
		return &Error{Key: "auth.secret", Msg: fmt.Sprintf("must be empty (random) or at least %d bytes, got %d", minSecret, len(c.Auth.Secret))}
	}
	checks := []func() error{
		durRange("auth.token_ttl", c.Auth.TokenTTL, time.Minute, 90*24*time.Hour),
		durRange("call.ring_timeout", c.Call.RingTimeout, time.Second, 10*time.Minute),
		intRange("call.events_per_user", c.Call.EventsPerUser, 16, 1_000_000),
		durRange("call.http_presence_timeout", c.Call.HTTPPresenceTimeout, 5*time.Second, time.Hour),
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateUsers checks names and passwords, and refuses a weak password (one
// equal to the user name, as the demo users have) unless every listener is
// on a loopback address, so the demo accounts never face a network. The
// name rule is call.ValidUserName's (config imports nothing above it).
func (c *Config) validateUsers() error {
	seen := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		if !validUserName(u.Name) {
			return &Error{Key: key + ".name", Msg: fmt.Sprintf("must be 1..64 characters of A-Z a-z 0-9 . _ @ -, got %q", u.Name)}
		}
		if seen[u.Name] {
			return &Error{Key: key + ".name", Msg: fmt.Sprintf("user %q is listed twice", u.Name)}
		}
		seen[u.Name] = true
		if u.Password == "" {
			return &Error{Key: key + ".password", Msg: "must not be empty"}
		}
		if u.Password != u.Name {
			continue
		}
		if lkey, addr, ok := c.Exposed(); ok {
			return &Error{Key: key + ".password", Msg: fmt.Sprintf(
				"user %q has a demo password (equal to the name), allowed only while every listener is on a loopback address, but %s is %s; set real passwords in users",
				u.Name, lkey, addr)}
		}
	}
	return nil
}

// validUserName reports whether name may be a user name: 1..64 characters
// of A-Z a-z 0-9 . _ @ - (safe in tokens, URLs, headers and log lines).
func validUserName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r == '.' || r == '_' || r == '@' || r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return false
		}
	}
	return true
}

// Exposed returns the first listener that is not on a loopback address
// (its key and address); ok is false while every listener is on loopback,
// where the demo defaults (demo passwords, open applications) are allowed.
func (c *Config) Exposed() (key, addr string, ok bool) {
	for _, l := range []struct{ key, addr string }{
		{"rtmp.listen", c.RTMP.Listen}, {"http.listen", c.HTTP.Listen}, {"sip.listen", c.SIP.Listen}, {"sip.tls_listen", c.SIP.TLSListen},
		{"rtmp.tls_listen", c.RTMP.TLSListen}, {"rtmp.rtmpt_listen", c.RTMP.RTMPTListen}, {"rtmp.rtmpts_listen", c.RTMP.RTMPTSListen},
		{"rtmfp.listen", rtmfpListen(c.RTMFP)},
	} {
		if l.addr != "" && !loopback(l.addr) {
			return l.key, l.addr, true
		}
	}
	return "", "", false
}

// loopback reports whether a listen address binds a loopback address only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// rtmfpListen is rtmfp.listen when RTMFP is on, "" (no listener) when off.
func rtmfpListen(r RTMFP) string {
	if !r.Enabled {
		return ""
	}
	return r.Listen
}
