package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultUsersAndAuth(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Users) != 3 || c.Users[0].Name != "alice" || c.Users[1].Password != "bob" || c.Users[2].Name != "carol" {
		t.Fatalf("demo users: %+v", c.Users)
	}
	if c.Auth.Secret != "" || c.Auth.TokenTTL != 12*time.Hour || c.Call.RingTimeout != 30*time.Second || c.Call.EventsPerUser != 1000 {
		t.Fatalf("auth/call defaults: %+v %+v", c.Auth, c.Call)
	}
}

func TestDemoUsersOnlyOnLoopback(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:1935", ":1935", "192.0.2.1:1935", "example.com:1935"} {
		_, err := Load("", []string{"FLASHVOX_RTMP_LISTEN=" + listen})
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "users[0].password" || !strings.Contains(err.Error(), "rtmp.listen is "+listen) {
			t.Fatalf("%s: want refusal naming users[0].password and rtmp.listen, got %v", listen, err)
		}
	}
	for _, listen := range []string{"127.0.0.1:1935", "[::1]:1935", "localhost:1935", "127.0.0.2:0"} {
		if _, err := Load("", []string{"FLASHVOX_HTTP_LISTEN=" + listen}); err != nil {
			t.Fatalf("%s: %v", listen, err)
		}
	}
	// Hashed passwords may listen anywhere (with a policy for live: apps_test.go).
	p := writeFile(t, "users:\n  - {name: alice, password_hash: \""+aliceHash+"\", sip_ha1: "+aliceHA1+", sip_ha1_sha256: "+aliceHA1SHA256+"}\napps:\n  - {name: live, publish: token, play: open}\n")
	c, err := Load(p, []string{"FLASHVOX_RTMP_LISTEN=0.0.0.0:1935"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Users) != 1 || c.Users[0].PasswordHash != aliceHash || c.Users[0].SIPHA1 != aliceHA1 || c.Users[0].SIPHA1SHA256 != aliceHA1SHA256 {
		t.Fatalf("a file's users list replaces the demo users: %+v", c.Users)
	}
	if len(c.PlaintextUsers()) != 0 {
		t.Fatalf("plaintext users: %v", c.PlaintextUsers())
	}
}

// aliceHash and the HA1s are of password "correct horse battery staple"
// (realm flashvox), as `flashvox passwd` prints them.
const (
	aliceHash      = "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0"
	aliceHA1       = "0c17af8690681b9e6f0206a494961e01"
	aliceHA1SHA256 = "f436f10a2e19ad47cee51a1fefe67b87883429e92eacca1f775a212dda4f4434"
)

// TestPlaintextOnlyOnLoopback: any plaintext password, not only a demo
// one, refuses an exposed start naming the key and the listener; on
// loopback it is accepted and listed for the start-up warning.
func TestPlaintextOnlyOnLoopback(t *testing.T) {
	p := writeFile(t, "users:\n  - {name: bob, password_hash: \""+aliceHash+"\"}\n  - {name: alice, password: s3cret-pass}\n")
	for _, env := range [][]string{
		{"FLASHVOX_HTTP_LISTEN=0.0.0.0:8080"},
		{"FLASHVOX_HTTP_TLS_LISTEN=192.0.2.1:8443", "FLASHVOX_HTTP_TLS_CERT=c.pem", "FLASHVOX_HTTP_TLS_KEY=k.pem"},
	} {
		_, err := Load(p, env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "users[1].password" || !strings.Contains(err.Error(), "plaintext password") || !strings.Contains(err.Error(), "flashvox passwd") {
			t.Fatalf("%v: want refusal naming users[1].password, got %v", env, err)
		}
		t.Log(err)
	}
	c, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.PlaintextUsers(); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("plaintext users: %v", got)
	}
}

func TestHTTPTLSKeys(t *testing.T) {
	c, err := Load("", []string{"FLASHVOX_HTTP_TLS_LISTEN=127.0.0.1:8443", "FLASHVOX_HTTP_TLS_CERT=c.pem", "FLASHVOX_HTTP_TLS_KEY=k.pem"})
	if err != nil || c.HTTP.TLSListen != "127.0.0.1:8443" || c.HTTP.TLSCert != "c.pem" || c.HTTP.TLSKey != "k.pem" {
		t.Fatalf("%v %+v", err, c)
	}
	for _, tt := range []struct {
		env []string
		key string
	}{
		{[]string{"FLASHVOX_HTTP_TLS_LISTEN=127.0.0.1:8443"}, "http.tls_cert"},
		{[]string{"FLASHVOX_HTTP_TLS_LISTEN=127.0.0.1:8443", "FLASHVOX_HTTP_TLS_CERT=c.pem"}, "http.tls_key"},
		{[]string{"FLASHVOX_HTTP_TLS_CERT=c.pem", "FLASHVOX_HTTP_TLS_KEY=k.pem"}, "http.tls_cert"},
		{[]string{"FLASHVOX_HTTP_TLS_KEY=k.pem"}, "http.tls_key"},
		{[]string{"FLASHVOX_HTTP_TLS_LISTEN=nope"}, "http.tls_listen"},
	} {
		_, err := Load("", tt.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tt.key {
			t.Errorf("%v: want key %s, got %v", tt.env, tt.key, err)
		}
	}
}

func TestUserAndAuthErrorsNameTheKey(t *testing.T) {
	tests := []struct{ name, file, key string }{
		{"bad name", "users:\n  - {name: 'a b', password: x}\n", "users[0].name"},
		{"duplicate", "users:\n  - {name: a, password: x}\n  - {name: a, password: y}\n", "users[1].name"},
		{"empty password", "users:\n  - {name: a}\n", "users[0].password"},
		{"HA1 alone", "users:\n  - {name: a, sip_ha1: " + aliceHA1 + "}\n", "users[0].password"},
		{"both", "users:\n  - {name: a, password: x, password_hash: \"" + aliceHash + "\"}\n", "users[0].password"},
		{"HA1 with plaintext", "users:\n  - {name: a, password: x, sip_ha1: " + aliceHA1 + "}\n", "users[0].sip_ha1"},
		{"bad hash", "users:\n  - {name: a, password_hash: \"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E\"}\n", "users[0].password_hash"},
		{"huge hash cost", "users:\n  - {name: a, password_hash: \"$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$PL01amPyeUuxG7H0vIr5X+qHkZvWnHmGBGXFYvh8z2E\"}\n", "users[0].password_hash"},
		{"bad HA1", "users:\n  - {name: a, password_hash: \"" + aliceHash + "\", sip_ha1: ABC}\n", "users[0].sip_ha1"},
		{"bad HA1 SHA-256", "users:\n  - {name: a, password_hash: \"" + aliceHash + "\", sip_ha1_sha256: " + aliceHA1 + "}\n", "users[0].sip_ha1_sha256"},
		{"unknown user key", "users:\n  - {name: a, pass: x}\n", "users[0].pass"},
		{"short secret", "auth:\n  secret: short\n", "auth.secret"},
		{"ttl", "auth:\n  token_ttl: 1s\n", "auth.token_ttl"},
		{"ring", "call:\n  ring_timeout: 0s\n", "call.ring_timeout"},
		{"events", "call:\n  events_per_user: 1\n", "call.events_per_user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, tt.file), nil)
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("want key %s, got %v", tt.key, err)
			}
		})
	}
}

// TestCallRecord: call.record is off or all, all needs a store, and the
// directory defaults to DATA_DIR/recordings.
func TestCallRecord(t *testing.T) {
	for _, tc := range []struct {
		env     []string
		wantErr bool
		dir     string
	}{
		{nil, false, "."},
		{[]string{"FLASHVOX_CALL_RECORD=all"}, true, ""},
		{[]string{"FLASHVOX_CALL_RECORD=mp3", "FLASHVOX_DATA_DIR=/var/lib/fv"}, true, ""},
		{[]string{"FLASHVOX_CALL_RECORD=all", "FLASHVOX_DATA_DIR=/var/lib/fv/"}, false, "/var/lib/fv/recordings"},
		{[]string{"FLASHVOX_CALL_RECORD=all", "FLASHVOX_DATA_DIR=/var/lib/fv", "FLASHVOX_CALL_RECORD_DIR=/rec"}, false, "/rec"},
	} {
		c, err := Load("", tc.env)
		var ce *Error
		if tc.wantErr {
			if !errors.As(err, &ce) || ce.Key != "call.record" {
				t.Errorf("%v: want an error naming call.record, got %v", tc.env, err)
			}
			continue
		}
		if err != nil || c.CallRecordDir() != tc.dir {
			t.Errorf("%v: %v, dir %q, want %q", tc.env, err, c.CallRecordDir(), tc.dir)
		}
	}
}
