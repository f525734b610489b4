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
	// Real passwords may listen anywhere (with a policy for live: apps_test.go).
	p := writeFile(t, "users:\n  - {name: alice, password: s3cret-pass}\napps:\n  - {name: live, publish: token, play: open}\n")
	c, err := Load(p, []string{"FLASHVOX_RTMP_LISTEN=0.0.0.0:1935"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Users) != 1 {
		t.Fatalf("a file's users list replaces the demo users: %+v", c.Users)
	}
}

func TestUserAndAuthErrorsNameTheKey(t *testing.T) {
	tests := []struct{ name, file, key string }{
		{"bad name", "users:\n  - {name: 'a b', password: x}\n", "users[0].name"},
		{"duplicate", "users:\n  - {name: a, password: x}\n  - {name: a, password: y}\n", "users[1].name"},
		{"empty password", "users:\n  - {name: a}\n", "users[0].password"},
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
