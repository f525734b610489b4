package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flashvox/flashvox/account"
)

// SIP configures the SIP user agent (package sipbridge): where it listens,
// the trunks it dials through, which numbers web users may dial, and who
// rings when a number is called.
type SIP struct {
	Listen string `yaml:"listen"` // UDP and TCP on the same port
	// TLSListen is the SIP-over-TLS listener (RFC 3261 26.2, transport=tls);
	// "" = off. Like rtmp.tls_listen it needs TLSCert and TLSKey.
	TLSListen string `yaml:"tls_listen"`
	TLSCert   string `yaml:"tls_cert"` // PEM certificate (chain) of TLSListen
	TLSKey    string `yaml:"tls_key"`  // its PEM private key
	// TLSCA is a PEM file of the CAs trusted when flashvox dials over TLS
	// (trunks with transport: tls, phones registered over TLS); "" = the
	// system's roots.
	TLSCA string `yaml:"tls_ca"`
	// PublicAddress is written in SDP and Contact instead of the listen
	// host when flashvox is behind NAT ("" = the listen host).
	PublicAddress string `yaml:"public_address"`
	RTPPorts      string `yaml:"rtp_ports"` // "MIN-MAX", even MIN
	// RTPTimeout hangs up a call whose peer sent no RTP for this long.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// JitterBuffer is how long RTP after a sequence gap waits for the
	// missing packets before the gap is skipped as lost (0: no waiting).
	JitterBuffer time.Duration `yaml:"jitter_buffer"`
	// CallsPerMinute limits the outbound calls one user may place (0: no limit).
	CallsPerMinute int `yaml:"calls_per_minute"`
	// CallsPerDay limits the outbound calls one user may place per UTC
	// day (0: no limit).
	CallsPerDay int `yaml:"calls_per_day"`
	// Realm is the digest realm SIP phones authenticate in (REGISTER, and
	// INVITEs to users and trunk numbers) as the configured users.
	Realm string `yaml:"realm"`
	// DigestAlgorithms are the digest algorithms offered to phones, one
	// challenge each in this order: SHA-256 and/or MD5.
	DigestAlgorithms []string `yaml:"digest_algorithms"`
	// NonceLifetime is how long a digest nonce may be used (then the
	// phone gets stale=true and answers a fresh one).
	NonceLifetime time.Duration `yaml:"nonce_lifetime"`
	// RegistrationMin and RegistrationMax bound how long a phone's
	// registration lasts; a phone asking less than the minimum gets 423.
	RegistrationMin time.Duration `yaml:"registration_min"`
	RegistrationMax time.Duration `yaml:"registration_max"`
	// RegistrationsFile keeps SIP phones' registrations across restarts
	// (rewritten atomically on every change, read at start; expired ones
	// dropped). "" = registrations are forgotten on restart.
	RegistrationsFile string `yaml:"registrations_file"`
	// TCPIdleTimeout closes an accepted SIP/TCP or SIP/TLS connection
	// that sends nothing for this long, a half-sent request included.
	TCPIdleTimeout time.Duration `yaml:"tcp_idle_timeout"`
	// MaxConnectionsPerIP bounds the SIP/TCP and SIP/TLS connections one
	// address (IPv6: a /64) may hold open (0: no limit).
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// Codecs is the codec order of offers to SIP phones and of answers
	// to them (and to trunks without their own codecs): the first one
	// the other side has wins. Names as SIPCodecNames.
	Codecs   []string      `yaml:"codecs"`
	Trunks   []SIPTrunk    `yaml:"trunks"`
	Dialplan []SIPDialRule `yaml:"dialplan"`
	Inbound  []SIPInbound  `yaml:"inbound"`
}

// SIPTrunk is a SIP provider's proxy that outbound calls go through.
type SIPTrunk struct {
	Name      string `yaml:"name"`
	Address   string `yaml:"address"`   // host:port of the provider's proxy
	Transport string `yaml:"transport"` // udp | tcp | tls (tls needs sip.tls_listen)
	Username  string `yaml:"username"`  // digest credentials if the trunk challenges
	Password  string `yaml:"password"`
	Register  bool   `yaml:"register"` // REGISTER to the trunk and keep it refreshed
	// InboundFrom are the CIDRs (or single addresses) the trunk sends
	// calls from: INVITEs from them may ring the inbound numbers without
	// a SIP login. Empty: the host of Address when it is an IP, else none.
	InboundFrom []string `yaml:"inbound_from"`
	// Codecs is this trunk's codec order (empty: sip.codecs).
	Codecs []string `yaml:"codecs"`
}

// SIPCodecNames are the codecs sip.codecs and sip.trunks[].codecs may
// name, best first (the default order): Opus (opus/48000/2, RFC 7587),
// then the wideband and narrowband telephone codecs.
var SIPCodecNames = []string{"opus", "speex/16000", "g722", "pcmu", "pcma"}

// validateCodecs checks a codec order: known names (any case), each once.
func validateCodecs(key string, names []string, emptyOK bool) error {
	if len(names) == 0 && !emptyOK {
		return &Error{Key: key, Msg: "must list at least one of " + strings.Join(SIPCodecNames, ", ")}
	}
	seen := map[string]bool{}
	for i, n := range names {
		l := strings.ToLower(strings.TrimSpace(n))
		switch {
		case !slices.Contains(SIPCodecNames, l):
			return &Error{Key: fmt.Sprintf("%s[%d]", key, i), Msg: fmt.Sprintf("unknown codec %q: must be one of %s", n, strings.Join(SIPCodecNames, ", "))}
		case seen[l]:
			return &Error{Key: fmt.Sprintf("%s[%d]", key, i), Msg: fmt.Sprintf("codec %q listed twice", n)}
		}
		seen[l] = true
	}
	return nil
}

// InboundSources returns t's effective inbound_from: the list, or the
// host of its address as a single-address CIDR when the list is empty
// and the host is an IP literal.
func (t SIPTrunk) InboundSources() []string {
	if len(t.InboundFrom) > 0 {
		return t.InboundFrom
	}
	host, _, err := net.SplitHostPort(t.Address)
	if err != nil {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	ip = ip.Unmap()
	return []string{netip.PrefixFrom(ip, ip.BitLen()).String()}
}

// SIPDialRule sends the numbers matching Match to Trunk. Users, when set,
// restricts the rule to those users; empty means every authenticated user.
type SIPDialRule struct {
	Match string   `yaml:"match"`
	Trunk string   `yaml:"trunk"`
	Users []string `yaml:"users"`
}

// SIPInbound says who rings when Number is called: a user, conf:ROOM, or
// echo (echo:nellymoser and echo:speex play back through that codec: the
// media work of a transcoded call, for load tests).
type SIPInbound struct {
	Number string `yaml:"number"`
	Target string `yaml:"target"`
}

// validateSIPTLS follows rtmp's convention (validateTLS): a TLS listener
// refuses to start without both halves of its pair, and a lone half is a
// typo.
func (c *Config) validateSIPTLS() error {
	s := &c.SIP
	if err := optAddr("sip.tls_listen", s.TLSListen)(); err != nil {
		return err
	}
	switch {
	case s.TLSListen != "" && s.TLSCert == "":
		return &Error{Key: "sip.tls_cert", Msg: "required by sip.tls_listen"}
	case s.TLSListen != "" && s.TLSKey == "":
		return &Error{Key: "sip.tls_key", Msg: "required by sip.tls_listen"}
	case (s.TLSCert == "") != (s.TLSKey == ""):
		return &Error{Key: "sip.tls_key", Msg: "sip.tls_cert and sip.tls_key go together"}
	case s.TLSCert != "" && s.TLSListen == "":
		return &Error{Key: "sip.tls_listen", Msg: "sip.tls_cert is set but sip.tls_listen is empty"}
	}
	return nil
}

// ParseRTPPorts reads sip.rtp_ports ("MIN-MAX").
func ParseRTPPorts(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("must be MIN-MAX, got %q", s)
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case err1 != nil || err2 != nil:
		return 0, 0, fmt.Errorf("must be MIN-MAX with integer ports, got %q", s)
	case lo < 1024 || hi > 65535 || lo >= hi:
		return 0, 0, fmt.Errorf("must satisfy 1024 <= MIN < MAX <= 65535, got %q", s)
	case lo%2 != 0:
		return 0, 0, fmt.Errorf("MIN must be even (RTP on even ports, RTCP on the next), got %q", s)
	}
	return lo, hi, nil
}

func (c *Config) validateSIP() error {
	s := &c.SIP
	for _, check := range []func() error{
		func() error {
			if s.PublicAddress != "" && net.ParseIP(s.PublicAddress) == nil && !validHostname(s.PublicAddress) {
				return &Error{Key: "sip.public_address", Msg: fmt.Sprintf("must be an IP or host name, got %q", s.PublicAddress)}
			}
			return nil
		},
		c.validateSIPTLS,
		func() error {
			if _, _, err := ParseRTPPorts(s.RTPPorts); err != nil {
				return &Error{Key: "sip.rtp_ports", Msg: err.Error()}
			}
			return nil
		},
		durRange("sip.rtp_timeout", s.RTPTimeout, time.Second, time.Hour),
		durRange("sip.jitter_buffer", s.JitterBuffer, 0, 200*time.Millisecond),
		intRange("sip.calls_per_minute", s.CallsPerMinute, 0, 1_000_000),
		intRange("sip.calls_per_day", s.CallsPerDay, 0, 1_000_000_000),
		func() error { return validateDigest(s) },
		func() error {
			if s.Realm == "" || strings.ContainsAny(s.Realm, "\"\\\r\n") {
				return &Error{Key: "sip.realm", Msg: fmt.Sprintf("must be a non-empty string without quotes, got %q", s.Realm)}
			}
			return nil
		},
		durRange("sip.registration_min", s.RegistrationMin, time.Second, 24*time.Hour),
		durRange("sip.registration_max", s.RegistrationMax, s.RegistrationMin, 24*time.Hour),
		func() error {
			if s.RegistrationsFile == "" {
				return nil
			}
			if fi, err := os.Stat(filepath.Dir(s.RegistrationsFile)); err != nil || !fi.IsDir() {
				return &Error{Key: "sip.registrations_file", Msg: fmt.Sprintf("the directory of %q must exist", s.RegistrationsFile)}
			}
			return nil
		},
		durRange("sip.tcp_idle_timeout", s.TCPIdleTimeout, time.Second, time.Hour),
		intRange("sip.max_connections_per_ip", s.MaxConnectionsPerIP, 0, 100_000),
		func() error { return validateCodecs("sip.codecs", s.Codecs, false) },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	trunks, err := validateTrunks(s)
	if err != nil {
		return err
	}
	if err := validateDialplan(s, trunks); err != nil {
		return err
	}
	return validateInbound(s)
}

// validateTrunks checks sip.trunks and returns their names.
func validateTrunks(s *SIP) (map[string]bool, error) {
	trunks := map[string]bool{}
	for i, t := range s.Trunks {
		key := fmt.Sprintf("sip.trunks[%d]", i)
		switch {
		case t.Name == "":
			return nil, &Error{Key: key + ".name", Msg: "must not be empty"}
		case trunks[t.Name]:
			return nil, &Error{Key: key + ".name", Msg: fmt.Sprintf("duplicate trunk %q", t.Name)}
		case t.Transport != "udp" && t.Transport != "tcp" && t.Transport != "tls":
			return nil, &Error{Key: key + ".transport", Msg: fmt.Sprintf("must be udp, tcp or tls, got %q", t.Transport)}
		case t.Transport == "tls" && s.TLSListen == "":
			// diago dials TLS through its TLS transport, which is the listener.
			return nil, &Error{Key: key + ".transport", Msg: "tls needs sip.tls_listen"}
		case t.Register && t.Username == "":
			return nil, &Error{Key: key + ".username", Msg: "register: true needs a username"}
		}
		if err := addr(key+".address", t.Address)(); err != nil {
			return nil, err
		}
		if err := validateCodecs(key+".codecs", t.Codecs, true); err != nil {
			return nil, err
		}
		for j, c := range t.InboundFrom {
			if err := validCIDR(c); err != nil {
				return nil, &Error{Key: fmt.Sprintf("%s.inbound_from[%d]", key, j), Msg: err.Error()}
			}
		}
		trunks[t.Name] = true
	}
	return trunks, nil
}

// validateDialplan checks sip.dialplan against the trunks' names.
func validateDialplan(s *SIP, trunks map[string]bool) error {
	for i, r := range s.Dialplan {
		key := fmt.Sprintf("sip.dialplan[%d]", i)
		if _, err := regexp.Compile(r.Match); err != nil || r.Match == "" {
			return &Error{Key: key + ".match", Msg: fmt.Sprintf("must be a regular expression, got %q", r.Match)}
		}
		if !trunks[r.Trunk] {
			return &Error{Key: key + ".trunk", Msg: fmt.Sprintf("no trunk named %q in sip.trunks", r.Trunk)}
		}
		for j, u := range r.Users {
			if !account.ValidUserName(u) {
				return &Error{Key: fmt.Sprintf("%s.users[%d]", key, j), Msg: fmt.Sprintf("invalid user name %q", u)}
			}
		}
	}
	return nil
}

// validateInbound checks sip.inbound.
func validateInbound(s *SIP) error {
	numbers := map[string]bool{}
	for i, in := range s.Inbound {
		key := fmt.Sprintf("sip.inbound[%d]", i)
		switch {
		case in.Number == "" || strings.ContainsAny(in.Number, " @;:<>\""):
			return &Error{Key: key + ".number", Msg: fmt.Sprintf("must be a SIP user part without spaces or @;:<>, got %q", in.Number)}
		case numbers[in.Number]:
			return &Error{Key: key + ".number", Msg: fmt.Sprintf("duplicate number %q", in.Number)}
		case in.Target != "echo" && in.Target != "echo:nellymoser" && in.Target != "echo:speex" &&
			!strings.HasPrefix(in.Target, "conf:") && !account.ValidUserName(in.Target):
			return &Error{Key: key + ".target", Msg: fmt.Sprintf("must be a user name, conf:ROOM, echo, echo:nellymoser or echo:speex, got %q", in.Target)}
		}
		numbers[in.Number] = true
	}
	return nil
}

// validateDigest checks sip.digest_algorithms and sip.nonce_lifetime.
func validateDigest(s *SIP) error {
	if len(s.DigestAlgorithms) == 0 {
		return &Error{Key: "sip.digest_algorithms", Msg: "must list SHA-256 and/or MD5"}
	}
	seen := map[string]bool{}
	for i, a := range s.DigestAlgorithms {
		if (a != "SHA-256" && a != "MD5") || seen[a] {
			return &Error{Key: fmt.Sprintf("sip.digest_algorithms[%d]", i), Msg: fmt.Sprintf("must be SHA-256 or MD5, each once, got %q", a)}
		}
		seen[a] = true
	}
	return durRange("sip.nonce_lifetime", s.NonceLifetime, time.Second, 30*time.Second)()
}

// validCIDR accepts "192.0.2.0/24", "2001:db8::/32" or a single address.
func validCIDR(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Errorf("must be a CIDR such as 192.0.2.0/24 or an IP address, got %q", s)
	}
	if p.Masked() != p {
		return fmt.Errorf("%q has host bits set: did you mean %s?", s, p.Masked())
	}
	return nil
}
