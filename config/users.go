package config

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/flashvox/flashvox/account"
	"github.com/flashvox/flashvox/internal/passhash"
)

// User is one account: a name and either a plaintext password (loopback
// only) or an argon2id hash, with the SIP digest HA1 values beside the
// hash (`flashvox passwd` prints all three).
type User struct {
	Name     string `yaml:"name"`
	Password string `yaml:"password"`
	// PasswordHash is an argon2id PHC string ($argon2id$v=19$m=…).
	PasswordHash string `yaml:"password_hash"`
	// SIPHA1 and SIPHA1SHA256 are MD5 and SHA-256 of "name:realm:password"
	// in hex (realm = sip.realm): what SIP digest needs instead of the
	// password. Without them a hashed user cannot log in over SIP.
	SIPHA1       string `yaml:"sip_ha1"`
	SIPHA1SHA256 string `yaml:"sip_ha1_sha256"`
	// Role (admin, moderator, user; "" = user) is copied into the store
	// when this list seeds it (config/store.go).
	Role string `yaml:"role"`
	// Disabled refuses the user's logins and tokens (a SIGHUP ends its
	// open sessions); with a store, a reload copies it to the account.
	Disabled bool `yaml:"disabled"`
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
	// Record writes every answered call's audio (both parties mixed) to a
	// WAV file in RecordDir: "all", or "off" ("" is off).
	Record string `yaml:"record"`
	// RecordDir is where recorded calls go ("": DATA_DIR/recordings,
	// else the working directory); CallRecordDir resolves it.
	RecordDir string `yaml:"record_dir"`
}

// CallRecordDir is where recorded calls are written: call.record_dir,
// else data_dir's recordings directory, else the working directory.
func (c *Config) CallRecordDir() string {
	switch {
	case c.Call.RecordDir != "":
		return c.Call.RecordDir
	case c.DataDir != "":
		return strings.TrimRight(c.DataDir, "/") + "/recordings"
	}
	return "."
}

// minSecret is the shortest auth.secret accepted: an HMAC key shorter than
// this is guessable.
const minSecret = 16

func (c *Config) validateAuth() error {
	if c.Auth.Secret != "" && len(c.Auth.Secret) < minSecret {
		return &Error{Key: "auth.secret", Msg: fmt.Sprintf("must be empty (random) or at least %d bytes, got %d", minSecret, len(c.Auth.Secret))}
	}
	if r := c.Call.Record; r != "" && r != "off" && r != "all" {
		return &Error{Key: "call.record", Msg: fmt.Sprintf("must be off or all, got %q", r)}
	}
	if c.Call.Record == "all" && c.StoreURL() == "" {
		return &Error{Key: "call.record", Msg: "recording calls needs a store (data_dir or database.url): the call records name the files"}
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

// validateUsers checks names and secrets. A plaintext password is refused
// unless every listener is on a loopback address, so plaintext (and the
// demo accounts, whose password equals the name) never faces a network.
// The name rule is account.ValidUserName.
func (c *Config) validateUsers() error {
	seen := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		if !account.ValidUserName(u.Name) {
			return &Error{Key: key + ".name", Msg: fmt.Sprintf("must be 1..64 characters of A-Z a-z 0-9 . _ @ -, got %q", u.Name)}
		}
		if seen[u.Name] {
			return &Error{Key: key + ".name", Msg: fmt.Sprintf("user %q is listed twice", u.Name)}
		}
		seen[u.Name] = true
		switch u.Role {
		case "", "admin", "moderator", "user":
		default:
			return &Error{Key: key + ".role", Msg: fmt.Sprintf("must be admin, moderator or user, got %q", u.Role)}
		}
		if err := validateSecret(key, u); err != nil {
			return err
		}
		if u.Password == "" {
			continue
		}
		if lkey, addr, ok := c.Exposed(); ok {
			what := "a plaintext password"
			if u.Password == u.Name {
				what = "a demo password (equal to the name)"
			}
			return &Error{Key: key + ".password", Msg: fmt.Sprintf(
				"user %q has %s, allowed only while every listener is on a loopback address, but %s is %s; replace it with password_hash, sip_ha1 and sip_ha1_sha256 (flashvox passwd prints them)",
				u.Name, what, lkey, addr)}
		}
	}
	return nil
}

// validateSecret checks that u has exactly one of password and
// password_hash, a well-formed hash, and HA1 values only beside a hash.
func validateSecret(key string, u User) error {
	switch {
	case u.Password == "" && u.PasswordHash == "":
		return &Error{Key: key + ".password", Msg: "must not be empty (or give password_hash)"}
	case u.Password != "" && u.PasswordHash != "":
		return &Error{Key: key + ".password", Msg: "password and password_hash exclude each other; keep only password_hash"}
	case u.Password != "" && (u.SIPHA1 != "" || u.SIPHA1SHA256 != ""):
		return &Error{Key: key + ".sip_ha1", Msg: "goes with password_hash; with a plaintext password the HA1 values are computed"}
	}
	if u.PasswordHash != "" {
		if _, err := passhash.Parse(u.PasswordHash); err != nil {
			return &Error{Key: key + ".password_hash", Msg: fmt.Sprintf("%v; `flashvox passwd` prints one", err)}
		}
	}
	if u.SIPHA1 != "" && !passhash.ValidHA1(passhash.MD5, u.SIPHA1) {
		return &Error{Key: key + ".sip_ha1", Msg: "must be 32 lower-case hex digits (MD5 of name:realm:password)"}
	}
	if u.SIPHA1SHA256 != "" && !passhash.ValidHA1(passhash.SHA256, u.SIPHA1SHA256) {
		return &Error{Key: key + ".sip_ha1_sha256", Msg: "must be 64 lower-case hex digits (SHA-256 of name:realm:password)"}
	}
	return nil
}

// PlaintextUsers lists the users configured with a plaintext password
// (allowed on loopback only; the server warns at start).
func (c *Config) PlaintextUsers() []string {
	var names []string
	for _, u := range c.Users {
		if u.Password != "" {
			names = append(names, u.Name)
		}
	}
	return names
}

// Exposed returns the first listener that is not on a loopback address
// (its key and address); ok is false while every listener is on loopback,
// where the demo defaults (demo passwords, open applications) are allowed.
func (c *Config) Exposed() (key, addr string, ok bool) {
	for _, l := range []struct{ key, addr string }{
		{"rtmp.listen", c.RTMP.Listen}, {"http.listen", c.HTTP.Listen}, {"http.tls_listen", c.HTTP.TLSListen}, {"sip.listen", c.SIP.Listen}, {"sip.tls_listen", c.SIP.TLSListen},
		{"rtmp.tls_listen", c.RTMP.TLSListen}, {"rtmp.rtmpt_listen", c.RTMP.RTMPTListen}, {"rtmp.rtmpts_listen", c.RTMP.RTMPTSListen},
		{"rtmfp.listen", rtmfpListen(c.RTMFP)}, {"webrtc.ice_address", webrtcAddr(c.WebRTC)},
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

// webrtcAddr is webrtc.ice_address as a listen address when WebRTC is
// on, "" when off: its UDP sockets are media listeners like the others.
func webrtcAddr(w WebRTC) string {
	if !w.Enabled || w.ICEAddress == "" {
		return ""
	}
	return net.JoinHostPort(w.ICEAddress, "0")
}

// rtmfpListen is rtmfp.listen when RTMFP is on, "" (no listener) when off.
func rtmfpListen(r RTMFP) string {
	if !r.Enabled {
		return ""
	}
	return r.Listen
}
