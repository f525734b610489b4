package config

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestSIPDefaultsAndErrors(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.SIP.Trunks) != 1 || len(c.SIP.Dialplan) != 1 || len(c.SIP.Inbound) != 2 || c.SIP.RTPTimeout.Seconds() != 30 ||
		c.SIP.Realm != "flashvox" || c.SIP.RegistrationMin.Seconds() != 60 || c.SIP.RegistrationMax.Hours() != 1 {
		t.Fatalf("sip defaults: %+v", c.SIP)
	}
	if got := strings.Join(c.SIP.Codecs, " "); got != "opus speex/16000 g722 pcmu pcma" {
		t.Errorf("sip.codecs default %q", got)
	}
	for body, key := range map[string]string{
		"sip:\n  rtp_ports: 20001-20999\n":                                                             "sip.rtp_ports",
		"sip:\n  dialplan:\n    - {match: '[', trunk: upstream}\n":                                     "sip.dialplan[0].match",
		"sip:\n  dialplan:\n    - {match: '^1', trunk: nope}\n":                                        "sip.dialplan[0].trunk",
		"sip:\n  inbound:\n    - {number: '1', target: 'bad name!'}\n":                                 "sip.inbound[0].target",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: sctp}\n":                            "sip.trunks[0].transport",
		"sip:\n  realm: 'a\"b'\n":                                                                      "sip.realm",
		"sip:\n  registration_min: 0s\n":                                                               "sip.registration_min",
		"sip:\n  jitter_buffer: 1s\n":                                                                  "sip.jitter_buffer",
		"sip:\n  registration_max: 30s\n":                                                              "sip.registration_max",
		"sip:\n  tls_listen: 127.0.0.1:5061\n":                                                         "sip.tls_cert",
		"sip:\n  tls_listen: 127.0.0.1:5061\n  tls_cert: c.pem\n":                                      "sip.tls_key",
		"sip:\n  tls_cert: c.pem\n  tls_key: k.pem\n":                                                  "sip.tls_listen",
		"sip:\n  tls_listen: nohost\n  tls_cert: c.pem\n  tls_key: k\n":                                "sip.tls_listen",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: tls}\n":                             "sip.trunks[0].transport",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: udp, inbound_from: [10.0.0.1/8]}\n": "sip.trunks[0].inbound_from[0]",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: udp, inbound_from: [nope]}\n":       "sip.trunks[0].inbound_from[0]",
		"sip:\n  calls_per_day: -1\n":                                                                  "sip.calls_per_day",
		"sip:\n  digest_algorithms: []\n":                                                              "sip.digest_algorithms",
		"sip:\n  digest_algorithms: [MD5, SHA-512]\n":                                                  "sip.digest_algorithms[1]",
		"sip:\n  digest_algorithms: [MD5, MD5]\n":                                                      "sip.digest_algorithms[1]",
		"sip:\n  nonce_lifetime: 5m\n":                                                                 "sip.nonce_lifetime",
		"sip:\n  registrations_file: /nonexistent/dir/regs.json\n":                                     "sip.registrations_file",
		"sip:\n  tcp_idle_timeout: 0s\n":                                                               "sip.tcp_idle_timeout",
		"sip:\n  max_connections_per_ip: -1\n":                                                         "sip.max_connections_per_ip",
		"sip:\n  codecs: []\n":                                                                         "sip.codecs",
		"sip:\n  codecs: [g722, opus/48000]\n":                                                         "sip.codecs[1]",
		"sip:\n  codecs: [pcmu, PCMU]\n":                                                               "sip.codecs[1]",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: udp, codecs: [pcma, speex]}\n":      "sip.trunks[0].codecs[1]",
	} {
		_, err := Load(writeFile(t, body), nil)
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Key, key) {
			t.Errorf("%q: err %v, want key %s", body, err, key)
		}
	}
}

// TestSIPTLSConfig: a TLS listener with its pair and a trunk over TLS load.
func TestSIPTLSConfig(t *testing.T) {
	c, err := Load(writeFile(t, "sip:\n  tls_listen: 127.0.0.1:5061\n  tls_cert: c.pem\n  tls_key: k.pem\n  tls_ca: ca.pem\n"+
		"  trunks:\n    - {name: upstream, address: 127.0.0.1:5071, transport: tls}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SIP.TLSListen != "127.0.0.1:5061" || c.SIP.TLSCA != "ca.pem" || c.SIP.Trunks[0].Transport != "tls" {
		t.Fatalf("sip: %+v", c.SIP)
	}
}

// TestSIPSecurityDefaults: the default trunk's calls come from its own
// address only; a trunk without inbound_from takes its address's host
// (an IP) or nothing (a name); the default dial plan allows national
// numbers only; SHA-256 is offered first; 100 calls per user per day.
func TestSIPSecurityDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.SIP
	if got := s.Trunks[0].InboundSources(); len(got) != 1 || got[0] != "127.0.0.1/32" {
		t.Errorf("default trunk inbound_from %q", got)
	}
	if s.CallsPerDay != 100 || s.NonceLifetime.Seconds() != 30 || len(s.DigestAlgorithms) != 2 || s.DigestAlgorithms[0] != "SHA-256" {
		t.Errorf("digest and limit defaults: %+v", s)
	}
	for addr, want := range map[string]string{
		"192.0.2.1:5060":     "192.0.2.1/32",
		"[2001:db8::1]:5060": "2001:db8::1/128",
		"sip.example:5060":   "",
	} {
		if got := strings.Join(SIPTrunk{Address: addr}.InboundSources(), ","); got != want {
			t.Errorf("%s: inbound sources %q, want %q", addr, got, want)
		}
	}
	re := regexp.MustCompile(s.Dialplan[0].Match)
	for num, ok := range map[string]bool{
		"0301234567": true, "301234567": true, "15551234567": true, "0612345678": true,
		"+15551234567": false, "+882100000001": false, "00441234567890": false, "00882100000001": false,
		"12345": false, "echo": false, "0123456789012345": false,
	} {
		if re.MatchString(num) != ok {
			t.Errorf("default dial plan on %s: %v, want %v", num, !ok, ok)
		}
	}
}
