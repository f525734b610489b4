package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultApps(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Apps) != 3 || c.Apps[0].Name != "live" || c.Apps[1].Name != "phone" || c.Apps[2].Name != "sip" {
		t.Fatalf("default apps: %+v", c.Apps)
	}
	if pub, play := c.Apps[0].Policies(); pub != "open" || play != "open" || c.Apps[0].TranscodePolicy() != "token" {
		t.Fatalf("live on loopback: publish %s play %s transcode %s, want open, open, token", pub, play, c.Apps[0].TranscodePolicy())
	}
	if c.Apps[0].PlayWait != 0 {
		t.Fatalf("live's play_wait = %v, want 0: players wait for ever by default", c.Apps[0].PlayWait)
	}
	if c.RTMP.MaxTranscoders != 64 {
		t.Fatalf("rtmp.max_transcoders = %d", c.RTMP.MaxTranscoders)
	}
	if got := c.OpenApps(); len(got) != 1 || got[0] != "live (publish, play)" {
		t.Fatalf("OpenApps = %q", got)
	}
}

// TestExposedLiveNeedsPolicy: the default live app (empty policies) may not
// face a network; an explicit policy, open included, may.
func TestExposedLiveNeedsPolicy(t *testing.T) {
	users := "users:\n  - {name: alice, password_hash: \"" + aliceHash + "\", sip_ha1: " + aliceHA1 + ", sip_ha1_sha256: " + aliceHA1SHA256 + "}\n"
	for _, env := range []string{"FLASHVOX_RTMP_LISTEN=0.0.0.0:1935", "FLASHVOX_HTTP_LISTEN=192.0.2.1:8080", "FLASHVOX_RTMFP_LISTEN=[::]:1935"} {
		_, err := Load(writeFile(t, users), []string{env})
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != "apps[0].publish" ||
			!strings.Contains(err.Error(), "live is open to anyone; set open, token, key, hook or deny explicitly before listening on") {
			t.Fatalf("%s: want the apps[0].publish refusal, got %v", env, err)
		}
	}
	_, err := Load(writeFile(t, users+"apps:\n  - {name: live, publish: token}\n"), []string{"FLASHVOX_RTMP_LISTEN=0.0.0.0:1935"})
	if ce := (*Error)(nil); !errors.As(err, &ce) || ce.Key != "apps[0].play" {
		t.Fatalf("empty play policy exposed: want apps[0].play, got %v", err)
	}
	c, err := Load(writeFile(t, users+"apps:\n  - {name: live, publish: token, play: open, transcode: open}\n  - {name: phone}\n"),
		[]string{"FLASHVOX_RTMP_LISTEN=0.0.0.0:1935"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.OpenApps(); len(got) != 1 || got[0] != "live (play, transcode)" {
		t.Fatalf("OpenApps = %q", got)
	}
}

func TestAppErrorsNameTheKey(t *testing.T) {
	tests := []struct{ name, file, key string }{
		{"bad policy", "apps:\n  - {name: live, publish: everyone}\n", "apps[0].publish"},
		{"bad play", "apps:\n  - {name: live, publish: open, play: maybe}\n", "apps[0].play"},
		{"bad transcode", "apps:\n  - {name: live, transcode: always}\n", "apps[0].transcode"},
		{"bad name", "apps:\n  - {name: 'a/b'}\n", "apps[0].name"},
		{"empty name", "apps:\n  - {publish: open}\n", "apps[0].name"},
		{"conference namespace", "apps:\n  - {name: conf, publish: open, play: open}\n", "apps[0].name"},
		{"echo namespace", "apps:\n  - {name: live}\n  - {name: sipecho}\n", "apps[1].name"},
		{"twice", "apps:\n  - {name: live}\n  - {name: live}\n", "apps[1].name"},
		{"builtin policy", "apps:\n  - {name: phone, play: open}\n", "apps[0].publish"},
		{"hook without hooks", "apps:\n  - {name: live, publish: hook}\n", "apps[0].publish"},
		{"play hook without on_play", "hooks:\n  on_publish: http://127.0.0.1:9/p\napps:\n  - {name: live, publish: hook, play: hook}\n", "apps[0].play"},
		{"key without keys", "apps:\n  - {name: live, publish: key}\n", "apps[0].keys"},
		{"keys without key policy", "apps:\n  - {name: live, keys: {cam: longsecret}}\n", "apps[0].keys"},
		{"short key", "apps:\n  - {name: live, publish: key, keys: {cam: short}}\n", "apps[0].keys.cam"},
		{"unknown key", "apps:\n  - {name: live, pubish: open}\n", "apps[0].pubish"},
		{"keys not a mapping", "apps:\n  - {name: live, publish: key, keys: [a]}\n", "apps[0].keys"},
		{"transcoders", "rtmp:\n  max_transcoders: -1\n", "rtmp.max_transcoders"},
		{"negative play_wait", "apps:\n  - {name: live, play_wait: -1s}\n", "apps[0].play_wait"},
		{"builtin play_wait", "apps:\n  - {name: phone, play_wait: 5s}\n", "apps[0].play_wait"},
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
	good := "hooks:\n  on_publish: http://127.0.0.1:9/p\napps:\n  - {name: live, publish: hook, play: key, keys: {cam: s3cret-key}, play_wait: 10s}\n  - {name: sip, transcode: off}\n"
	c, err := Load(writeFile(t, good), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Apps) != 2 || c.Apps[0].Keys["cam"] != "s3cret-key" || c.Apps[1].TranscodePolicy() != "off" || c.Apps[0].PlayWait != 10*time.Second {
		t.Fatalf("a file's apps list replaces the defaults: %+v", c.Apps)
	}
}
