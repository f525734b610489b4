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
	if len(c.SIP.Trunks) != 1 || len(c.SIP.Dialplan) != 1 || len(c.SIP.Inbound) != 2 || c.SIP.RTPTimeout.Seconds() != 30 {
		t.Fatalf("sip defaults: %+v", c.SIP)
	}
	for body, key := range map[string]string{
		"sip:\n  rtp_ports: 20001-20999\n":                                  "sip.rtp_ports",
		"sip:\n  dialplan:\n    - {match: '[', trunk: upstream}\n":          "sip.dialplan[0].match",
		"sip:\n  dialplan:\n    - {match: '^1', trunk: nope}\n":             "sip.dialplan[0].trunk",
		"sip:\n  inbound:\n    - {number: '1', target: 'bad name!'}\n":      "sip.inbound[0].target",
		"sip:\n  trunks:\n    - {name: t, address: x:1, transport: sctp}\n": "sip.trunks[0].transport",
	} {
		_, err := Load(writeFile(t, body), nil)
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasPrefix(ce.Key, key) {
			t.Errorf("%q: err %v, want key %s", body, err, key)
		}
	}
}
