package config

import (
	"errors"
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
	for body, key := range map[string]string{
		"sip:\n  rtp_ports: 20001-20999\n":                                  "sip.rtp_ports",
		"sip:\n  dialplan:\n    - {match: '[', trunk: upstream}\n":          "sip.dialplan[0].match",
		"sip:\n  dialplan:\n    - {match: '^1', trunk: nope}\n":             "sip.dialplan[0].trunk",
		"sip:\n  inbound:\n    - {number: '1', target: 'bad name!'}\n":      "sip.inbound[0].target",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: sctp}\n": "sip.trunks[0].transport",
		"sip:\n  realm: 'a\"b'\n":                                           "sip.realm",
		"sip:\n  registration_min: 0s\n":                                    "sip.registration_min",
		"sip:\n  jitter_buffer: 1s\n":                                       "sip.jitter_buffer",
		"sip:\n  registration_max: 30s\n":                                   "sip.registration_max",
		"sip:\n  tls_listen: 127.0.0.1:5061\n":                              "sip.tls_cert",
		"sip:\n  tls_listen: 127.0.0.1:5061\n  tls_cert: c.pem\n":           "sip.tls_key",
		"sip:\n  tls_cert: c.pem\n  tls_key: k.pem\n":                       "sip.tls_listen",
		"sip:\n  tls_listen: nohost\n  tls_cert: c.pem\n  tls_key: k\n":     "sip.tls_listen",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: tls}\n":  "sip.trunks[0].transport",
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
